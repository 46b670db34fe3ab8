//! Compressed NetCDF-4 variables read chunk by chunk, inflated in parallel.
//!
//! libnetcdf and serial HDF5 are not thread-safe, so every call into them holds one process-wide lock, and a
//! compressed variable read through them is inflated on one core however many the runtime has: that made reading the
//! observations the longest task of a regional BCSD run, and it would be most of a global run's input time. Here
//! HDF5 is asked once per variable, under the lock, where each chunk lies in the file; chunks are then read with
//! positional reads and unshuffled and inflated on the rayon pool, each once (decoded chunks are kept for the blocks
//! of days that share them). Only variables this path reads exactly as libnetcdf does are taken: chunked
//! little-endian float32, with no filter but shuffle and deflate, and every chunk written. Anything else (and any
//! HDF5 failure on the way) is left to libnetcdf.
//!
//! HDF5 is called through `hdf5-metno-sys`, the bindings the `netcdf` crate itself is built on, whose lock it is.

use std::collections::{HashMap, VecDeque};
use std::ffi::CString;
use std::fs::File;
use std::ops::Range;
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use hdf5_metno_sys::h5::{HADDR_UNDEF, haddr_t, hsize_t};
use hdf5_metno_sys::h5d::{
    H5D_layout_t, H5Dclose, H5Dget_chunk_info_by_coord, H5Dget_create_plist, H5Dget_type, H5Dopen2,
};
use hdf5_metno_sys::h5f::{H5F_ACC_RDONLY, H5Fclose, H5Fopen};
use hdf5_metno_sys::h5i::hid_t;
use hdf5_metno_sys::h5p::{H5P_DEFAULT, H5Pclose, H5Pget_chunk, H5Pget_filter2, H5Pget_layout, H5Pget_nfilters};
use hdf5_metno_sys::h5t::{H5T_class_t, H5T_order_t, H5Tclose, H5Tget_class, H5Tget_order, H5Tget_size};
use hdf5_metno_sys::h5z::{H5Z_FILTER_DEFLATE, H5Z_FILTER_SHUFFLE};
use ndarray::{ArrayD, ArrayViewD, IxDyn, Slice};
use rayon::prelude::*;

/// Decoded chunks kept per variable for the neighbouring blocks that read them (a block of days usually cuts a
/// file's chunks, which run over hundreds of days): as much as libnetcdf's chunk cache was given before.
const DECODED_CHUNK_BYTES: usize = 128 << 20;

/// One chunk's place in the file and the filters HDF5 skipped for it (bit `i` set: filter `i` not applied).
#[derive(Debug, Clone, Copy)]
struct ChunkPlace {
    address: u64,
    size: u64,
    skipped_filters: u32,
}

/// How a variable's chunks are coded, in HDF5's pipeline order (shuffle before deflate when writing).
#[derive(Debug, Clone, Copy, PartialEq)]
enum Filter {
    Shuffle,
    Deflate,
}

/// A variable that this module reads.
pub(crate) struct ChunkedVariable {
    shape: Vec<usize>,
    chunk: Vec<usize>,
    filters: Vec<Filter>,
    /// Every chunk, row-major over the chunk grid.
    places: Vec<ChunkPlace>,
    decoded: Mutex<DecodedChunks>,
}

/// A chunk being or been decoded: the first reader to claim it decodes it into the cell.
#[derive(Default)]
struct DecodedCell {
    claimed: AtomicBool,
    value: OnceLock<Result<Arc<Vec<f32>>, String>>,
}

/// Decoded chunks by index, dropped oldest first past [`DECODED_CHUNK_BYTES`], so a chunk is inflated once even
/// when the blocks in flight share it.
#[derive(Default)]
struct DecodedChunks {
    cells: HashMap<usize, Arc<DecodedCell>>,
    order: VecDeque<usize>,
}

impl ChunkedVariable {
    /// The variable `name` of the NetCDF-4 file at `path` (of `shape`), when this module can read it. Holds the
    /// libnetcdf lock while HDF5 is asked.
    pub(crate) fn open(path: &Path, name: &str, shape: &[usize]) -> Option<ChunkedVariable> {
        if shape.is_empty() || shape.contains(&0) {
            return None;
        }
        let path = CString::new(path.as_os_str().as_encoded_bytes()).ok()?;
        let name = CString::new(name).ok()?;
        let _lock = netcdf_sys::libnetcdf_lock.lock();
        // SAFETY: plain HDF5 calls under the lock every libnetcdf call takes; each identifier opened here is closed
        // before returning, and the output pointers point at locals of the right types and lengths.
        unsafe {
            let file = H5Fopen(path.as_ptr(), H5F_ACC_RDONLY, H5P_DEFAULT);
            if file < 0 {
                return None;
            }
            let dataset = H5Dopen2(file, name.as_ptr(), H5P_DEFAULT);
            let variable = if dataset < 0 { None } else { Self::describe(dataset, shape) };
            if dataset >= 0 {
                H5Dclose(dataset);
            }
            H5Fclose(file);
            variable
        }
    }

    /// The layout, filters, type and chunk places of an open dataset.
    unsafe fn describe(dataset: hid_t, shape: &[usize]) -> Option<ChunkedVariable> {
        let datatype = unsafe { H5Dget_type(dataset) };
        if datatype < 0 {
            return None;
        }
        let float32_le = unsafe {
            H5Tget_class(datatype) == H5T_class_t::H5T_FLOAT
                && H5Tget_size(datatype) == 4
                && H5Tget_order(datatype) == H5T_order_t::H5T_ORDER_LE
        };
        unsafe { H5Tclose(datatype) };
        let plist = unsafe { H5Dget_create_plist(dataset) };
        if !float32_le || plist < 0 {
            return None;
        }
        let coding = unsafe { Self::coding(plist, shape.len()) };
        unsafe { H5Pclose(plist) };
        let (chunk, filters) = coding?;
        let grid = chunk_grid(shape, &chunk);
        let mut places = Vec::with_capacity(grid.iter().product());
        for index in 0..grid.iter().product::<usize>() {
            let offset: Vec<hsize_t> =
                grid_position(index, &grid).iter().zip(&chunk).map(|(&g, &c)| (g * c) as hsize_t).collect();
            let (mut skipped, mut address, mut size): (u32, haddr_t, hsize_t) = (0, HADDR_UNDEF, 0);
            let status =
                unsafe { H5Dget_chunk_info_by_coord(dataset, offset.as_ptr(), &mut skipped, &mut address, &mut size) };
            // An unwritten chunk reads as the fill value, which libnetcdf knows and this module does not.
            if status < 0 || address == HADDR_UNDEF || size == 0 {
                return None;
            }
            places.push(ChunkPlace { address, size, skipped_filters: skipped });
        }
        Some(ChunkedVariable {
            shape: shape.to_vec(),
            chunk,
            filters,
            places,
            decoded: Mutex::new(DecodedChunks::default()),
        })
    }

    /// Chunk shape and filters from a dataset creation property list: `None` unless chunked with only shuffle and
    /// deflate.
    unsafe fn coding(plist: hid_t, rank: usize) -> Option<(Vec<usize>, Vec<Filter>)> {
        if unsafe { H5Pget_layout(plist) } != H5D_layout_t::H5D_CHUNKED {
            return None;
        }
        let mut dims = vec![0 as hsize_t; rank];
        if unsafe { H5Pget_chunk(plist, rank as i32, dims.as_mut_ptr()) } != rank as i32 {
            return None;
        }
        let chunk: Vec<usize> = dims.iter().map(|&d| d as usize).collect();
        if chunk.contains(&0) {
            return None;
        }
        let mut filters = Vec::new();
        for index in 0..unsafe { H5Pget_nfilters(plist) }.max(0) as u32 {
            let (mut flags, mut values, mut value_count, mut config) = (0u32, [0u32; 8], 8usize, 0u32);
            let mut filter_name = [0 as std::ffi::c_char; 64];
            let id = unsafe {
                H5Pget_filter2(
                    plist,
                    index,
                    &mut flags,
                    &mut value_count,
                    values.as_mut_ptr(),
                    filter_name.len(),
                    filter_name.as_mut_ptr(),
                    &mut config,
                )
            };
            filters.push(match id {
                H5Z_FILTER_SHUFFLE => Filter::Shuffle,
                H5Z_FILTER_DEFLATE => Filter::Deflate,
                _ => return None,
            });
        }
        Some((chunk, filters))
    }

    /// The float32 values of the region `start`/`count` (the file open as `file`), as libnetcdf returns them.
    pub(crate) fn read(&self, file: &File, start: &[usize], count: &[usize]) -> Result<ArrayD<f32>, String> {
        let region: Vec<Range<usize>> = start.iter().zip(count).map(|(&s, &n)| s..s + n).collect();
        if region.len() != self.shape.len() || region.iter().zip(&self.shape).any(|(r, &n)| r.end > n) {
            return Err(format!("region {region:?} is outside the variable's shape {:?}", self.shape));
        }
        let mut out = ArrayD::<f32>::zeros(IxDyn(count));
        if count.contains(&0) {
            return Ok(out);
        }
        let grid = chunk_grid(&self.shape, &self.chunk);
        let touched: Vec<Range<usize>> =
            region.iter().zip(&self.chunk).map(|(r, &c)| r.start / c..(r.end - 1) / c + 1).collect();
        let indices = grid_indices(&touched, &grid);
        // In batches of at most the kept chunks' bytes, so that a read of a whole large variable holds a bounded
        // number of decoded chunks besides its output.
        let batch = (DECODED_CHUNK_BYTES / (4 * self.chunk.iter().product::<usize>())).max(1);
        for indices in indices.chunks(batch) {
            // Chunks that another block in flight is decoding are waited for last: a reader blocked on one could
            // not take part in the pool's work, so it first decodes the chunks nobody has claimed.
            let cells: Vec<Arc<DecodedCell>> =
                indices.iter().map(|&index| self.cell(index)).collect::<Result<_, _>>()?;
            indices.par_iter().zip(&cells).for_each(|(&index, cell)| {
                if !cell.claimed.swap(true, Ordering::AcqRel) {
                    // The cell is filled even if decoding panics, or the readers waiting for it would wait forever.
                    let decoded = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.decode(file, index)))
                        .unwrap_or_else(|_| Err(format!("decoding chunk {index} panicked")));
                    let _ = cell.value.set(decoded.map(Arc::new));
                }
            });
            for (&index, cell) in indices.iter().zip(&cells) {
                let values = cell.value.wait().as_ref().map_err(Clone::clone)?;
                let origin: Vec<usize> =
                    grid_position(index, &grid).iter().zip(&self.chunk).map(|(g, c)| g * c).collect();
                let chunk = ArrayViewD::from_shape(IxDyn(&self.chunk), values.as_slice()).map_err(|e| e.to_string())?;
                // The part of the chunk inside the region, in chunk and in output coordinates.
                let within = |axis: usize| {
                    let from = region[axis].start.max(origin[axis]);
                    let to = region[axis].end.min(origin[axis] + self.chunk[axis]);
                    (from - origin[axis]..to - origin[axis], from - region[axis].start..to - region[axis].start)
                };
                let source = chunk.slice_each_axis(|axis| Slice::from(within(axis.axis.index()).0));
                out.slice_each_axis_mut(|axis| Slice::from(within(axis.axis.index()).1)).assign(&source);
            }
        }
        Ok(out)
    }

    /// The cell of chunk `index`: a kept one, or a new unclaimed one (dropping the oldest past the limit).
    fn cell(&self, index: usize) -> Result<Arc<DecodedCell>, String> {
        let mut kept = self.decoded.lock().map_err(|_| "a chunk reader panicked".to_string())?;
        if let Some(cell) = kept.cells.get(&index) {
            return Ok(cell.clone());
        }
        let cell = Arc::new(DecodedCell::default());
        kept.cells.insert(index, cell.clone());
        kept.order.push_back(index);
        let chunk_bytes = 4 * self.chunk.iter().product::<usize>();
        while kept.order.len() > 1 && kept.order.len() * chunk_bytes > DECODED_CHUNK_BYTES {
            let oldest = kept.order.pop_front().expect("more than one kept");
            kept.cells.remove(&oldest);
        }
        Ok(cell)
    }

    /// Reads chunk `index` from the file and undoes its filters, last applied first.
    fn decode(&self, file: &File, index: usize) -> Result<Vec<f32>, String> {
        let place = self.places[index];
        let mut bytes = vec![0u8; place.size as usize];
        file.read_exact_at(&mut bytes, place.address).map_err(|e| format!("cannot read chunk {index}: {e}"))?;
        let elements = self.chunk.iter().product::<usize>();
        for (position, filter) in self.filters.iter().enumerate().rev() {
            if place.skipped_filters & (1 << position) != 0 {
                continue;
            }
            bytes = match filter {
                Filter::Deflate => inflate(&bytes, 4 * elements).map_err(|e| format!("chunk {index}: {e}"))?,
                Filter::Shuffle => unshuffle(&bytes, 4),
            };
        }
        if bytes.len() != 4 * elements {
            return Err(format!("chunk {index} holds {} bytes, not {}", bytes.len(), 4 * elements));
        }
        Ok(bytes.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect())
    }
}

/// zlib-wrapped deflate data (HDF5's deflate filter) inflated to `expected` bytes.
fn inflate(compressed: &[u8], expected: usize) -> Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(expected);
    let mut inflater = flate2::Decompress::new(true);
    let status = inflater
        .decompress_vec(compressed, &mut out, flate2::FlushDecompress::Finish)
        .map_err(|e| format!("corrupt deflate data: {e}"))?;
    match status {
        flate2::Status::StreamEnd => Ok(out),
        _ => Err(format!("deflate data ends early or inflates past {expected} bytes")),
    }
}

/// HDF5's shuffle filter undone: the stored bytes are every element's first byte, then every element's second
/// byte, and so on; trailing bytes that make no whole element are stored as they are.
fn unshuffle(shuffled: &[u8], element_size: usize) -> Vec<u8> {
    let elements = shuffled.len() / element_size;
    let mut out = shuffled.to_vec();
    for (byte, plane) in shuffled[..elements * element_size].chunks_exact(elements).enumerate() {
        for (element, &value) in plane.iter().enumerate() {
            out[element * element_size + byte] = value;
        }
    }
    out
}

/// Chunks per axis of a variable of `shape` in chunks of `chunk`.
fn chunk_grid(shape: &[usize], chunk: &[usize]) -> Vec<usize> {
    shape.iter().zip(chunk).map(|(&n, &c)| n.div_ceil(c)).collect()
}

/// The grid position (one index per axis) of the row-major `index` in a grid of `grid` chunks.
fn grid_position(mut index: usize, grid: &[usize]) -> Vec<usize> {
    let mut position = vec![0; grid.len()];
    for axis in (0..grid.len()).rev() {
        position[axis] = index % grid[axis];
        index /= grid[axis];
    }
    position
}

/// Row-major indices of the chunks in the box `ranges` (chunk positions per axis) of a grid of `grid` chunks.
fn grid_indices(ranges: &[Range<usize>], grid: &[usize]) -> Vec<usize> {
    let mut indices = vec![0usize];
    for (range, &size) in ranges.iter().zip(grid) {
        indices = indices.iter().flat_map(|&base| range.clone().map(move |g| base * size + g)).collect();
    }
    indices
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unshuffle_restores_interleaved_bytes_and_keeps_the_tail() {
        // Elements [1 2 3 4] and [5 6 7 8] shuffled, with one trailing byte.
        assert_eq!(unshuffle(&[1, 5, 2, 6, 3, 7, 4, 8, 9], 4), [1, 2, 3, 4, 5, 6, 7, 8, 9]);
    }

    #[test]
    fn grid_indices_are_row_major() {
        assert_eq!(grid_indices(&[1..3, 0..2], &[3, 4]), [4, 5, 8, 9]);
        assert_eq!(grid_position(9, &[3, 4]), [2, 1]);
    }
}
