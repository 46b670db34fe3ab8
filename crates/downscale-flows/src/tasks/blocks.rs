//! Streaming a task over blocks of days: a body reads a block of its input, computes, and writes that block of its
//! output, on several blocks at once, so it holds a few blocks in memory instead of whole fields and needs no
//! rechunking (the blocks follow the output's chunks along time).

use std::ops::Range;

use downscale_data::select::whole;
use downscale_data::{DataArray, VariableReader, WriteOptions};
use downscale_engine::{Budget, TaskContext, TaskError};
use ndarray::ArrayD;
use rayon::prelude::*;

/// How many blocks' worth of memory one block in flight costs: its input and output values, the codec's copies of
/// the chunks it reads and writes, and the allocator's slack.
const BLOCK_MEMORY_FACTOR: usize = 4;

/// Maps `reader`'s variable, block of days by block of days, to a store of `shape` labelled like `labels`
/// (the same time axis): `map` turns a block of the input (every cell, its days) into the output's values for those
/// days. Blocks run in parallel on the runtime's pool.
pub fn map_time_blocks(
    ctx: &TaskContext,
    reader: &VariableReader,
    labels: &DataArray,
    shape: &[usize],
    options: &WriteOptions,
    map: impl Fn(DataArray) -> Result<ArrayD<f32>, TaskError> + Sync,
) -> Result<(), TaskError> {
    let steps = reader.shape()[0];
    if shape.first() != Some(&steps) {
        return Err(TaskError::new(format!(
            "{}: {steps} days in, but the output has shape {shape:?}",
            reader.template().source
        )));
    }
    let step_bytes = 4 * (reader.shape()[1..].iter().product::<usize>() + shape[1..].iter().product::<usize>());
    ctx.write_blocks(labels, shape, options, |writer| {
        let blocks = time_blocks(steps, step_bytes, writer.chunk_shape()[0], ctx.budget());
        blocks.into_par_iter().try_for_each(|days| {
            let mut ranges = whole(reader.shape());
            ranges[0] = days.clone();
            let values = map(reader.read_block(&ranges)?)?;
            let mut offset = vec![0; shape.len()];
            offset[0] = days.start;
            Ok(writer.write_block(&offset, values.view())?)
        })
    })
}

/// Consecutive blocks of days covering `steps`: whole output chunks of `chunk_steps` days each, as many per block
/// as the budget gives every thread, at least one chunk (a chunk written in parts would be re-read and re-coded).
fn time_blocks(steps: usize, step_bytes: usize, chunk_steps: usize, budget: Budget) -> Vec<Range<usize>> {
    let per_thread = budget.memory_bytes as usize / budget.threads.max(1) / BLOCK_MEMORY_FACTOR;
    let chunks_per_block = (per_thread / (step_bytes * chunk_steps).max(1)).max(1);
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
        // 100 days of 1000-byte steps in 10-day chunks; 80 kB over 2 threads leaves 10 kB a block: one chunk.
        let blocks = time_blocks(100, 1000, 10, budget(80_000, 2));
        assert_eq!(blocks.len(), 10);
        assert!(blocks.iter().all(|b| b.len() == 10));
        // A large budget is capped so that both threads get blocks; the last block is short.
        let blocks = time_blocks(95, 1000, 10, budget(1 << 30, 2));
        assert_eq!(blocks, [0..50, 50..95]);
        // A budget below one chunk still gives whole chunks.
        assert_eq!(time_blocks(20, 1000, 10, budget(1, 1)), [0..10, 10..20]);
    }
}
