//! Streaming a task over blocks of days: a body reads a block of its inputs, computes, and writes that block of its
//! output, on several blocks at once, so it holds a few blocks in memory instead of whole fields and needs no
//! rechunking. Blocks are whole chunks of the output (stores of whole maps). Outputs of whole-series chunks are
//! written by sharded tasks instead, a chunk (every day of a tile of cells) a shard.

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
}
