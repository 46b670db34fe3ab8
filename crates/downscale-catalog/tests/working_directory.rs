//! Relative `catalog_file` and asset paths resolve from the collection's directory, whatever the working
//! directory. This binary holds one test only, because it changes the process's working directory.

mod common;

use common::write_files;
use downscale_catalog::{Asset, Catalog};

#[test]
fn relative_paths_follow_the_collection_not_the_working_directory() {
    let root = tempfile::tempdir().unwrap();
    let collection = write_files(
        root.path(),
        &[
            ("catalogs/obs.json", &common::obs_collection("tables/obs.csv")),
            ("catalogs/tables/obs.csv", "source_id,variable_id,path\nX,tas,../data/x.nc\nY,tas,/abs/y.nc\n"),
            ("data/x.nc", ""),
        ],
    );
    // The working directory is reported with symbolic links resolved; compare against the same spelling.
    let base = root.path().canonicalize().unwrap();
    let elsewhere = base.join("elsewhere");
    std::fs::create_dir(&elsewhere).unwrap();
    std::env::set_current_dir(&elsewhere).unwrap();

    // Opened through a relative path from another directory: the path is taken relative to the working
    // directory once, and everything inside the catalog relative to the collection.
    let catalog = Catalog::open("../catalogs/obs.json").unwrap();
    assert_eq!(catalog.catalog_file(), Some(base.join("catalogs/tables/obs.csv").as_path()));
    let entries: Vec<_> = catalog.entries().collect();
    // Assets are relative to the collection JSON, not to the CSV that lists them (which would give
    // catalogs/data/x.nc) nor to the working directory.
    assert_eq!(entries[0].asset(), &Asset::Path(base.join("data/x.nc")));
    assert!(entries[0].asset().as_path().unwrap().is_file());
    assert_eq!(entries[1].asset(), &Asset::Path("/abs/y.nc".into()));

    // Moving away again does not change what was resolved.
    std::env::set_current_dir(base.join("catalogs/tables")).unwrap();
    assert!(entries[0].asset().as_path().unwrap().is_file());

    // The shipped catalogs, opened from an unrelated directory, still find the sample data.
    let shipped = Catalog::open(common::shipped("cmip.json")).unwrap();
    assert!(shipped.entries().all(|e| e.asset().as_path().is_some_and(|p| p.is_file())));
    assert!(collection.is_file());
}
