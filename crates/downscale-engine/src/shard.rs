//! Sharded tasks: a task whose Zarr artifact is written in **shards**, independent sets of whole chunks (spatial
//! tiles of its output, blocks of points), each of which any process can write on its own.
//!
//! A [`ShardedKind`] states the artifact's [`Layout`] (its labels, shape, encoding and shards) as a function of its
//! parameters and its inputs' labels, so every process computes the same one, and writes one shard at a time. The
//! runtime decides where shards run: the threads of this process (`local`, `ci`), array elements or futures on a
//! cluster (`downscale task --shard`). Each shard leaves its state under the task's folder (`shards/<n>.json`); a
//! shard that failed or was killed is run again alone; and the artifact is published and marked complete only when
//! every shard is done and every chunk of the store is there.

use std::ops::Range;
use std::sync::Arc;

use downscale_data::{DataArray, WriteOptions, ZarrWriter};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::context::TaskContext;
use crate::error::TaskError;

/// The store a sharded task writes, and how its work splits.
#[derive(Debug, Clone)]
pub struct Layout {
    /// The artifact's labels: dims, coordinates for the full shape, time axis and attributes (its data is ignored).
    pub labels: DataArray,
    /// The artifact's shape.
    pub shape: Vec<usize>,
    /// How it is encoded; its chunk shape follows from these and the shape
    /// ([`WriteOptions::chunk_shape_for`]).
    pub options: WriteOptions,
    /// The shards: regions of whole chunks (a region may end at the array's end), which together cover the
    /// array once.
    pub shards: Vec<Vec<Range<usize>>>,
}

impl Layout {
    /// A layout of `labels` with `shape` and `options` whose shards are its chunks, one each, in order: the finest
    /// split whole chunks allow, for outputs whose every chunk is a day's worth of work or more.
    pub fn chunk_per_shard(labels: DataArray, shape: Vec<usize>, options: WriteOptions) -> Layout {
        let chunk = options.chunk_shape_for(&labels, &shape);
        let mut shards: Vec<Vec<Range<usize>>> = vec![Vec::new()];
        for (&length, &size) in shape.iter().zip(&chunk) {
            let ranges: Vec<Range<usize>> =
                (0..length.max(1)).step_by(size.max(1)).map(|start| start..(start + size).min(length)).collect();
            shards = shards
                .into_iter()
                .flat_map(|prefix| {
                    ranges.iter().map(move |range| {
                        let mut region = prefix.clone();
                        region.push(range.clone());
                        region
                    })
                })
                .collect();
        }
        Layout { labels, shape, options, shards }
    }

    /// Checks that every shard is a region of whole chunks inside the array, so that shards written by different
    /// processes never share a chunk.
    pub(crate) fn check(&self, task: &str) -> Result<(), TaskError> {
        let chunk = self.options.chunk_shape_for(&self.labels, &self.shape);
        for (index, region) in self.shards.iter().enumerate() {
            let whole = region.len() == self.shape.len()
                && region.iter().zip(&self.shape).zip(&chunk).all(|((range, &length), &size)| {
                    range.start % size == 0 && (range.end % size == 0 || range.end == length) && range.end <= length
                });
            if !whole {
                return Err(TaskError::new(format!(
                    "task '{task}': shard {index} {region:?} is not whole chunks of {chunk:?} in an array of {:?}",
                    self.shape
                )));
            }
        }
        Ok(())
    }
}

/// A kind of task whose Zarr artifact is written shard by shard.
pub trait ShardedKind: Send + Sync + 'static {
    /// The name in task specs, cache keys, records and artifact folders.
    const NAME: &'static str;
    /// Bumped whenever the body's output changes for the same parameters and inputs.
    const VERSION: u32;
    /// Everything the body reads besides its inputs and external data; all of it goes into the cache key.
    type Params: Serialize + DeserializeOwned;
    /// The artifact's layout, from the parameters and the inputs' labels only (never the budget): every process
    /// that writes a shard computes it and must get the same.
    fn layout(&self, ctx: &TaskContext, params: &Self::Params) -> Result<Layout, TaskError>;
    /// Writes the chunks of the shard `region` (one of the layout's) through `writer`.
    fn write_shard(
        &self,
        ctx: &TaskContext,
        params: &Self::Params,
        region: &[Range<usize>],
        writer: &ZarrWriter,
    ) -> Result<(), TaskError>;
}

/// A registered sharded kind, its parameters read from the context.
pub(crate) trait ShardedBody: Send + Sync {
    fn layout(&self, ctx: &TaskContext) -> Result<Layout, TaskError>;
    fn write_shard(&self, ctx: &TaskContext, region: &[Range<usize>], writer: &ZarrWriter) -> Result<(), TaskError>;
}

/// A [`ShardedKind`] as a [`ShardedBody`].
pub(crate) struct Registered<K>(pub(crate) K);

impl<K: ShardedKind> ShardedBody for Registered<K> {
    fn layout(&self, ctx: &TaskContext) -> Result<Layout, TaskError> {
        self.0.layout(ctx, &ctx.params::<K::Params>()?)
    }

    fn write_shard(&self, ctx: &TaskContext, region: &[Range<usize>], writer: &ZarrWriter) -> Result<(), TaskError> {
        self.0.write_shard(ctx, &ctx.params::<K::Params>()?, region, writer)
    }
}

/// A [`TaskKind`](crate::TaskKind)'s body, its parameters read from the context.
pub(crate) type WholeBody = dyn Fn(&TaskContext) -> Result<(), TaskError> + Send + Sync;

/// What runs a task: a body that writes the whole artifact, or shards.
#[derive(Clone)]
pub(crate) enum Body {
    /// A [`TaskKind`](crate::TaskKind)'s body.
    Whole(Arc<WholeBody>),
    /// A [`ShardedKind`]'s layout and shards.
    Sharded(Arc<dyn ShardedBody>),
}
