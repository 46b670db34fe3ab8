//! Failures this harness found, each kept as one mutant that must now be handled: every command exits with a
//! one-line error (or `validate` with its report), never a signal, a panic, a hang or exit 0 on damage.

use serde_json::json;

use crate::harness::{Mutant, Mutation, exercise};
use crate::inputs::{Input, Kind};
use crate::mutate_file::FileMutation;
use crate::mutate_store::{ChunkEdit, JsonBreakage, StoreMutation};

/// Runs every command on `kind`'s sample changed by the mutation `make` builds from its files and path, and fails
/// with what went wrong.
fn assert_handled(kind: Kind, make: impl FnOnce(&Input) -> StoreMutation) {
    assert_mutant_handled(kind, |input| Mutation::Store(make(input)));
}

fn assert_mutant_handled(kind: Kind, make: impl FnOnce(&Input) -> Mutation) {
    let scratch = tempfile::tempdir().unwrap();
    let input = Input::prepare(kind, scratch.path());
    let mutant = Mutant { kind, seed: 0, index: 0, mutations: vec![make(&input)] };
    let exercised = exercise(&input, &mutant);
    assert!(exercised.failures.is_empty(), "{:?}: {:#?}", mutant.mutations, exercised.failures);
}

/// `inspect` aborted allocating the claimed 1e12 time steps.
#[test]
fn zarr_v2_shape_of_1e12_is_refused_not_allocated() {
    assert_handled(Kind::ZarrV2, |i| i.files.resize(&i.path, "tas/.zarray", ".shape[0]", json!(1_000_000_000_000u64)));
}

/// 2^31 steps aborted `inspect` and `convert` (allocation) and hung `validate`.
#[test]
fn zarr_v2_shape_of_2_pow_31_is_refused_not_allocated() {
    assert_handled(Kind::ZarrV2, |i| i.files.resize(&i.path, "tas/.zarray", ".shape[0]", json!(1u64 << 31)));
}

/// 2^62 steps panicked in `inspect` and `convert` (capacity overflow) and hung `validate`.
#[test]
fn zarr_v3_shape_of_2_pow_62_is_refused_not_a_panic_or_a_hang() {
    assert_handled(Kind::ZarrV3, |i| i.files.resize(&i.path, "time/zarr.json", ".shape[0]", json!(1u64 << 62)));
}

/// u64::MAX steps overflowed `validate`'s element count (a panic) or hung it.
#[test]
fn zarr_v3_shape_of_u64_max_is_refused_not_a_panic() {
    assert_handled(Kind::ZarrV3, |i| i.files.resize(&i.path, "lat/zarr.json", ".shape[0]", json!(u64::MAX)));
}

/// Without `time/0` the time axis read as fill values and `convert` succeeded.
#[test]
fn zarr_v2_deleted_time_chunk_is_refused_not_a_constant_time_axis() {
    assert_handled(Kind::ZarrV2, |i| i.files.chunk("time/0", ChunkEdit::Delete));
}

/// An emptied coordinate chunk passed `validate` as complete.
#[test]
fn zarr_v2_emptied_time_chunk_is_reported_by_validate() {
    assert_handled(Kind::ZarrV2, |i| i.files.chunk("time/0", ChunkEdit::Empty));
}

/// A truncated time chunk of a store this tool wrote passed `validate` as complete.
#[test]
fn zarr_v3_truncated_time_chunk_is_reported_by_validate() {
    assert_handled(Kind::ZarrV3, |i| i.files.chunk("time/c/0", ChunkEdit::Truncate(601)));
}

/// An array whose `.zarray` is gone (still listed in `.zmetadata`) passed `validate` as complete.
#[test]
fn zarr_v2_deleted_array_definition_is_reported_by_validate() {
    assert_handled(Kind::ZarrV2, |i| i.files.delete("tas/.zarray"));
}

/// A `.zmetadata` nested deeper than the JSON parser's recursion limit was skipped, and `validate` said complete.
#[test]
fn zarr_v2_unreadable_consolidated_metadata_is_reported_by_validate() {
    assert_handled(Kind::ZarrV2, |i| i.files.break_json(".zmetadata", JsonBreakage::DeepNesting));
}

/// One byte of the NetCDF-4 sample's global heap collection (at byte 15777, 4096 bytes, holding the
/// `DIMENSION_LIST` references) set to 0xd7 makes HDF5 1.10's `H5HG_read` copy past the collection while libnetcdf
/// reads the variables' dimension scales (SIGSEGV in `nc_inq_varname`), which no check of the superblock sees: the
/// file's first open in a child process (`backend/isolated_open.rs`) catches the crash.
#[test]
fn netcdf4_damaged_global_heap_is_refused_not_a_segfault() {
    assert_mutant_handled(Kind::Netcdf4, |_| Mutation::File(FileMutation::Set { at: 16144, value: 0xd7 }));
}
