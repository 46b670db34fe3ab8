//! Streaming a task over blocks: a body reads a block of its inputs, computes, and writes that block of its output,
//! on several blocks at once, so it holds a few blocks in memory instead of whole fields and needs no rechunking.
//! Blocks follow the output's chunks: blocks of days for stores of whole-map chunks, spatial tiles (every day of a
//! block of cells) for stores of whole-series chunks.

use std::ops::Range;

use downscale_data::{DataArray, VariableReader, WriteOptions};
use downscale_engine::{Budget, TaskContext, TaskError};
use ndarray::ArrayD;
use rayon::prelude::*;

/// How many blocks' worth of the budget one block in flight is given: reading a block holds the decoded chunks and
/// the block's values (zarrs decodes into a buffer and copies out), writing holds the output values, their chunks
/// and the compressed bytes, and the process itself (libraries, coordinates, the allocator's slack) takes about a
/// hundred MB of the budget. At 4 (with tiles then sized by their output alone) the flow bench's 5x5 case peaked at
/// 1.2 times a 512 MiB budget.
const BLOCK_MEMORY_FACTOR: usize = 8;

/// The most memory a block in flight is given, whatever the budget: past a few tens of MB a larger block is only
/// more fresh memory to fault in and fewer blocks to overlap reading with computing. The flow bench's spatial
/// anomalies took 0.18 s in one block of the whole field (a 4 GiB budget) and 0.11 s in blocks of 16 MB.
const MAX_BLOCK_BYTES: usize = 16 << 20;

/// What one block in flight may hold under `budget`.
fn block_bytes(budget: Budget) -> usize {
    (budget.memory_bytes as usize / budget.threads.max(1) / BLOCK_MEMORY_FACTOR).min(MAX_BLOCK_BYTES)
}

/// Maps the block `selection` of `reader`'s variable, block of days by block of days, to a store of `shape`
/// labelled like `labels` (the same days): `map` turns a block of the input (the selection's cells, some of its
/// days) into the output's values for those days. Blocks run in parallel on the runtime's pool.
pub fn map_time_blocks(
    ctx: &TaskContext,
    reader: &VariableReader,
    selection: &[Range<usize>],
    labels: &DataArray,
    shape: &[usize],
    options: &WriteOptions,
    map: impl Fn(DataArray) -> Result<ArrayD<f32>, TaskError> + Sync,
) -> Result<(), TaskError> {
    let steps = selection[0].len();
    if shape.first() != Some(&steps) {
        return Err(TaskError::new(format!(
            "{}: {steps} days in, but the output has shape {shape:?}",
            reader.template().source
        )));
    }
    let cells_in = selection[1..].iter().map(ExactSizeIterator::len).product::<usize>();
    let step_bytes = 4 * (cells_in + shape[1..].iter().product::<usize>());
    ctx.write_blocks(labels, shape, options, |writer| {
        let blocks = time_blocks(steps, step_bytes, writer.chunk_shape()[0], ctx.budget());
        // Handed out in time order, so the blocks in flight are neighbours: a file chunked along time (NetCDF
        // inputs) then has its chunks decompressed once into its chunk cache, not once per block.
        blocks.into_iter().par_bridge().try_for_each(|days| {
            let mut ranges = selection.to_vec();
            ranges[0] = selection[0].start + days.start..selection[0].start + days.end;
            let values = map(reader.read_block(&ranges)?)?;
            let mut offset = vec![0; shape.len()];
            offset[0] = days.start;
            Ok(writer.write_block(&offset, values.view())?)
        })
    })
}

/// Consecutive blocks of days covering `steps`: whole output chunks of `chunk_steps` days each, as many per block
/// as [`block_bytes`] allows, at least one chunk (a chunk written in parts would be re-read and re-coded).
pub(crate) fn time_blocks(steps: usize, step_bytes: usize, chunk_steps: usize, budget: Budget) -> Vec<Range<usize>> {
    let chunks_per_block = (block_bytes(budget) / (step_bytes * chunk_steps).max(1)).max(1);
    // Leave every thread a block: a single block would run on one thread.
    let balanced = steps.div_ceil(chunk_steps).div_ceil(budget.threads.max(1)).max(1);
    let block_steps = chunk_steps * chunks_per_block.min(balanced);
    (0..steps).step_by(block_steps).map(|start| start..(start + block_steps).min(steps)).collect()
}

/// Writes a store of `shape` (time first) labelled like `labels`, spatial tile by spatial tile: `map(lat, lon)`
/// gives the values of every step for the cells `lat × lon` (index ranges). A tile's cell costs `cell_bytes` (what
/// `map` reads and returns for one cell over all steps: a summary reads every day of a cell but returns a few
/// values). Tiles are whole output chunks, as many along longitude as [`block_bytes`] allows, at least one, and run
/// in parallel.
pub fn map_tiles(
    ctx: &TaskContext,
    labels: &DataArray,
    shape: &[usize],
    cell_bytes: usize,
    options: &WriteOptions,
    map: impl Fn(Range<usize>, Range<usize>) -> Result<ArrayD<f32>, TaskError> + Sync,
) -> Result<(), TaskError> {
    let [_, rows, columns] = shape else {
        return Err(TaskError::new(format!("{}: tiles need a (time, lat, lon) output, not {shape:?}", labels.source)));
    };
    ctx.write_blocks(labels, shape, options, |writer| {
        let tiles = spatial_tiles([*rows, *columns], writer.chunk_shape(), cell_bytes, ctx.budget());
        tiles.into_par_iter().try_for_each(|(lat, lon)| {
            let values = map(lat.clone(), lon.clone())?;
            Ok(writer.write_block(&[0, lat.start, lon.start], values.view())?)
        })
    })
}

/// Tiles of whole chunks of `chunk_shape` (`[steps, lat, lon]`) covering `rows × columns` cells of `cell_bytes`
/// each: rows of chunks split along longitude into tiles of as many chunks as [`block_bytes`] allows, leaving every
/// thread a tile.
fn spatial_tiles(
    [rows, columns]: [usize; 2],
    chunk_shape: &[usize],
    cell_bytes: usize,
    budget: Budget,
) -> Vec<(Range<usize>, Range<usize>)> {
    let (chunk_rows, chunk_columns) = (chunk_shape[1].max(1), chunk_shape[2].max(1));
    let chunk_bytes = cell_bytes * chunk_rows * chunk_columns;
    let chunks_per_tile = (block_bytes(budget) / chunk_bytes.max(1)).max(1);
    let chunks = rows.div_ceil(chunk_rows) * columns.div_ceil(chunk_columns);
    let balanced = chunks.div_ceil(budget.threads.max(1)).max(1);
    let tile_columns = chunk_columns * chunks_per_tile.min(balanced).min(columns.div_ceil(chunk_columns));
    let mut tiles = Vec::new();
    for lat in (0..rows).step_by(chunk_rows) {
        for lon in (0..columns).step_by(tile_columns) {
            tiles.push((lat..(lat + chunk_rows).min(rows), lon..(lon + tile_columns).min(columns)));
        }
    }
    tiles
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_are_whole_chunks_within_the_budget_and_cover_every_day() {
        let budget = |memory_bytes: u64, threads: usize| Budget { threads, memory_bytes };
        // 100 days of 1000-byte steps in 10-day chunks; 160 kB over 2 threads leaves 10 kB a block: one chunk.
        let blocks = time_blocks(100, 1000, 10, budget(160_000, 2));
        assert_eq!(blocks.len(), 10);
        assert!(blocks.iter().all(|b| b.len() == 10));
        // A large budget is capped so that both threads get blocks; the last block is short.
        let blocks = time_blocks(95, 1000, 10, budget(1 << 30, 2));
        assert_eq!(blocks, [0..50, 50..95]);
        // A budget below one chunk still gives whole chunks.
        assert_eq!(time_blocks(20, 1000, 10, budget(1, 1)), [0..10, 10..20]);
    }

    #[test]
    fn tiles_are_whole_chunks_within_the_budget_and_cover_every_cell() {
        let budget = |memory_bytes: u64, threads: usize| Budget { threads, memory_bytes };
        // 10x25 cells of 400 bytes in chunks of 4 x 10 cells (16 kB): 3 chunk rows, 3 chunk columns.
        let chunk = [100, 4, 10];
        let covered = |tiles: &[(Range<usize>, Range<usize>)]| {
            let mut cells = vec![0; 250];
            for (lat, lon) in tiles {
                for i in lat.clone() {
                    for j in lon.clone() {
                        cells[i * 25 + j] += 1;
                    }
                }
            }
            cells.iter().all(|&n| n == 1)
        };
        // A budget of one chunk a thread: one chunk a tile.
        let tiles = spatial_tiles([10, 25], &chunk, 400, budget(2 * 8 * 16_000, 2));
        assert_eq!(tiles.len(), 9);
        assert!(covered(&tiles));
        assert_eq!(tiles[8], (8..10, 20..25));
        // A large budget joins a chunk row's chunks, as long as both threads keep work.
        let tiles = spatial_tiles([10, 25], &chunk, 400, budget(1 << 30, 2));
        assert_eq!(tiles.len(), 3);
        assert!(covered(&tiles));
        assert_eq!(tiles[0], (0..4, 0..25));
        // Cells that cost ten times more (a summary reading every day) get one chunk a tile again.
        assert_eq!(spatial_tiles([10, 25], &chunk, 4000, budget(2 * 8 * 160_000, 2)).len(), 9);
    }
}
