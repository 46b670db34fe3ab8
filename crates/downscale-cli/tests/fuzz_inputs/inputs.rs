//! The real inputs that are mutated, one per format the binary reads.

use std::path::{Path, PathBuf};

use crate::common::{run, sample};
use crate::mutate_store::StoreFiles;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Kind {
    Netcdf3,
    Netcdf4,
    ZarrV2,
    ZarrV3,
}

impl Kind {
    pub(crate) const ALL: [Kind; 4] = [Kind::Netcdf3, Kind::Netcdf4, Kind::ZarrV2, Kind::ZarrV3];

    pub(crate) fn name(self) -> &'static str {
        match self {
            Kind::Netcdf3 => "netcdf3",
            Kind::Netcdf4 => "netcdf4",
            Kind::ZarrV2 => "zarr-v2",
            Kind::ZarrV3 => "zarr-v3",
        }
    }

    pub(crate) fn is_store(self) -> bool {
        matches!(self, Kind::ZarrV2 | Kind::ZarrV3)
    }

    /// The mutant's name in its folder: a `.zarr` store or a `.nc` file, as users name them.
    pub(crate) fn file_name(self) -> &'static str {
        if self.is_store() { "input.zarr" } else { "input.nc" }
    }
}

/// Small real samples, so each run takes a fraction of a second: a classic file, a NetCDF-4 file and a Zarr v2
/// store written by xarray (each holding one `tas` variable on a regional grid).
const NETCDF3: &str = "nunavut_climdown/tiny_gcm.nc";
const NETCDF4: &str = "cmip_misc/tas_day_MIROC6_ssp119_r1i1p1f1_gn_20150101.nc";
const ZARR_V2: &str = "zarr/tas_day_CNRM-CM5_historical_r1i1p1_iberia_DJF_19821201-20020228.zarr";
/// The source of the Zarr v3 store, which is what `convert` writes: a few chunks per array at this chunk size.
const ZARR_V3_SOURCE: &str = "iberia/reanalysis_NCEP-R1/tas_day_NCEP-R1_iberia_DJF_19821201-20020228.nc";
const ZARR_V3_CHUNK_BYTES: &str = "65536";

/// A prepared input: the original file or store, its length (files) or its files (stores).
pub(crate) struct Input {
    pub kind: Kind,
    pub path: PathBuf,
    pub len: usize,
    pub files: StoreFiles,
}

impl Input {
    /// The input of `kind`; the Zarr v3 store is written into `scratch` by `downscale convert`.
    pub(crate) fn prepare(kind: Kind, scratch: &Path) -> Input {
        let path = match kind {
            Kind::Netcdf3 => PathBuf::from(sample(NETCDF3)),
            Kind::Netcdf4 => PathBuf::from(sample(NETCDF4)),
            Kind::ZarrV2 => PathBuf::from(sample(ZARR_V2)),
            Kind::ZarrV3 => {
                let store = scratch.join("v3.zarr");
                let output = run(&[
                    "convert",
                    "--in",
                    &sample(ZARR_V3_SOURCE),
                    "--out",
                    store.to_str().unwrap(),
                    "--chunk-bytes",
                    ZARR_V3_CHUNK_BYTES,
                ]);
                assert!(output.status.success(), "writing the Zarr v3 input: {output:?}");
                store
            }
        };
        let (len, files) = if kind.is_store() {
            (0, StoreFiles::list(&path))
        } else {
            (
                std::fs::metadata(&path).unwrap().len() as usize,
                StoreFiles { metadata: Vec::new(), chunks: Vec::new(), consolidated_v3: false },
            )
        };
        Input { kind, path, len, files }
    }

    /// A copy of the input at `dest`.
    pub(crate) fn copy_to(&self, dest: &Path) {
        if self.kind.is_store() {
            for relative in self.files.metadata.iter().chain(&self.files.chunks) {
                let target = dest.join(relative);
                std::fs::create_dir_all(target.parent().unwrap()).unwrap();
                std::fs::copy(self.path.join(relative), target).unwrap();
            }
        } else {
            std::fs::copy(&self.path, dest).unwrap();
        }
    }
}
