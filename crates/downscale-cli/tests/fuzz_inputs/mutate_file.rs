//! Byte-level damage to a NetCDF file: what a failing disk, an interrupted copy or a hostile writer leaves.
//!
//! Offsets lean towards the first 4 KiB, where the classic header and the HDF5 superblock and root group sit: a
//! changed data byte only changes a value, a changed header byte changes what every later read believes.

use proptest::prelude::*;
use proptest::sample::select;

/// Bytes at the start of a file that most damage lands in.
const HEADER_BYTES: usize = 4096;

/// Values that break counts, lengths and addresses: zero, all ones, the sign bit of a 32-bit count, 2^62 and 2^63
/// (which overflow any size multiplied by them), and the largest 32-bit counts.
const EXTREMES: [u64; 8] = [0, u64::MAX, 1 << 31, (1 << 31) - 1, u32::MAX as u64, 1 << 32, 1 << 62, 1 << 63];

#[derive(Debug, Clone)]
pub(crate) enum FileMutation {
    /// XOR the byte at `at` with a non-zero mask.
    Flip {
        at: usize,
        mask: u8,
    },
    Set {
        at: usize,
        value: u8,
    },
    /// Keep only the first `keep` bytes.
    Truncate {
        keep: usize,
    },
    Insert {
        at: usize,
        bytes: Vec<u8>,
    },
    Delete {
        at: usize,
        len: usize,
    },
    /// Overwrite the `width`-byte field at `at` with the low bytes of `value`, in either byte order (the classic
    /// format is big-endian, HDF5 little-endian).
    Field {
        at: usize,
        value: u64,
        width: usize,
        big_endian: bool,
    },
}

/// One mutation of a file `len` bytes long.
pub(crate) fn strategy(len: usize) -> impl Strategy<Value = FileMutation> {
    let header = len.min(HEADER_BYTES);
    let at = prop_oneof![3 => 0..header, 1 => 0..len];
    // Cuts anywhere, in the header, and by a few bytes only (a copy that stopped just short).
    let keep = prop_oneof![0..header, 0..len, len.saturating_sub(64)..len];
    prop_oneof![
        3 => (at.clone(), 1..=u8::MAX).prop_map(|(at, mask)| FileMutation::Flip { at, mask }),
        1 => (at.clone(), any::<u8>()).prop_map(|(at, value)| FileMutation::Set { at, value }),
        2 => keep.prop_map(|keep| FileMutation::Truncate { keep }),
        1 => (at.clone(), proptest::collection::vec(any::<u8>(), 1..64))
            .prop_map(|(at, bytes)| FileMutation::Insert { at, bytes }),
        1 => (at.clone(), 1..256usize).prop_map(|(at, len)| FileMutation::Delete { at, len }),
        3 => (at, select(EXTREMES.to_vec()), prop_oneof![Just(4usize), Just(8)], any::<bool>())
            .prop_map(|(at, value, width, big_endian)| FileMutation::Field { at, value, width, big_endian }),
    ]
}

impl FileMutation {
    /// Applies the mutation to `bytes`, clamping offsets to the current length (an earlier mutation may have cut
    /// the file); returns what was done, for reports.
    pub(crate) fn apply(&self, bytes: &mut Vec<u8>) -> String {
        let len = bytes.len();
        let clamp = |at: usize| at.min(len.saturating_sub(1));
        match self {
            FileMutation::Flip { at, mask } if len > 0 => {
                bytes[clamp(*at)] ^= mask;
                format!("flip byte {} with {mask:#04x}", clamp(*at))
            }
            FileMutation::Set { at, value } if len > 0 => {
                bytes[clamp(*at)] = *value;
                format!("set byte {} to {value:#04x}", clamp(*at))
            }
            FileMutation::Truncate { keep } => {
                bytes.truncate(*keep);
                format!("truncate {len} bytes to {}", bytes.len())
            }
            FileMutation::Insert { at, bytes: inserted } => {
                let at = (*at).min(len);
                bytes.splice(at..at, inserted.iter().copied());
                format!("insert {} bytes at {at}", inserted.len())
            }
            FileMutation::Delete { at, len: count } => {
                let at = (*at).min(len);
                let end = at.saturating_add(*count).min(len);
                bytes.drain(at..end);
                format!("delete bytes {at}..{end}")
            }
            FileMutation::Field { at, value, width, big_endian } if len >= *width => {
                let at = (*at).min(len - width);
                let full = if *big_endian { value.to_be_bytes() } else { value.to_le_bytes() };
                let field = if *big_endian { &full[8 - width..] } else { &full[..*width] };
                bytes[at..at + width].copy_from_slice(field);
                let order = if *big_endian { "big" } else { "little" };
                format!("set the {width}-byte field at {at} to {value:#x} ({order}-endian)")
            }
            _ => "nothing (empty file)".to_string(),
        }
    }

    /// A short name of the kind of mutation, grouping failures into classes.
    pub(crate) fn label(&self) -> &'static str {
        match self {
            FileMutation::Flip { .. } => "byte flip",
            FileMutation::Set { .. } => "byte set",
            FileMutation::Truncate { .. } => "truncation",
            FileMutation::Insert { .. } => "insertion",
            FileMutation::Delete { .. } => "deletion",
            FileMutation::Field { .. } => "extreme field",
        }
    }

    /// Whether the mutation, alone on a file `len` bytes long, certainly leaves it too short for what its header
    /// places in it, which the pre-flight must refuse: it removes at least 4 bytes (a classic file may lack the
    /// padding of its last record, 3 bytes at most; the samples end exactly at their HDF5 end-of-file address).
    pub(crate) fn removes_data(&self, len: usize) -> bool {
        let removed = match self {
            FileMutation::Truncate { keep } => len.saturating_sub(*keep),
            FileMutation::Delete { at, len: count } => (*count).min(len.saturating_sub(*at)),
            _ => 0,
        };
        removed >= 4
    }
}
