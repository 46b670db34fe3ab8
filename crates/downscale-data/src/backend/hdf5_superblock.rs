//! A pre-flight reading of the HDF5 superblock of a NetCDF-4 file, so that a truncated or damaged file is refused
//! with a clear message before HDF5 opens it.
//!
//! An HDF5 file starts with its superblock: the 8-byte signature, a version byte, the sizes in bytes of the file's
//! addresses ("offsets") and lengths, then a few addresses, among them the base address (which every other address
//! is relative to) and the end-of-file address (the first byte past everything HDF5 has allocated). Versions 0 and
//! 1 put some other version numbers and tree parameters before the addresses; versions 2 and 3 are shorter and end
//! with a checksum of the superblock's bytes (Jenkins' lookup3 hash, [`lookup3`]).
//!
//! The signature may also sit at byte 512, 1024, 2048... after a "user block"; NetCDF-4 files are written with it at
//! byte 0, and only those are recognised as NetCDF (`backend::detect_format`), so only byte 0 is read here.
//!
//! A file shorter than its end-of-file address was cut short (an interrupted copy or download): its missing bytes
//! hold data or metadata HDF5 would look for. A superblock whose version or sizes are not the format's, or whose
//! checksum does not match, is damaged; its addresses cannot be believed.

use std::io::Read;

use super::preflight::{Refusal, damaged};

pub(super) const SIGNATURE: [u8; 8] = *b"\x89HDF\r\n\x1a\n";

/// Bytes read from the start of the file: the longest superblock prefix needed (version 1 with 16-byte addresses:
/// base address at byte 28, then three more addresses).
const PREFIX_BYTES: u64 = 28 + 4 * 16;

/// Checks the superblock of the HDF5 file read from `source` (positioned at its start), `file_size` bytes long.
pub(super) fn check(source: impl Read, file_size: u64) -> Result<(), Refusal> {
    let mut prefix = Vec::new();
    source.take(PREFIX_BYTES).read_to_end(&mut prefix)?;
    check_superblock(&prefix, file_size)
}

fn check_superblock(bytes: &[u8], file_size: u64) -> Result<(), Refusal> {
    let field =
        |start: usize, len: usize, what: &str| match start.checked_add(len).and_then(|end| bytes.get(start..end)) {
            Some(field) => Ok(field),
            None => damaged(format!(
                "the HDF5 superblock is cut short: {what} needs bytes {start} to {} but the file has {file_size} bytes",
                start.saturating_add(len)
            )),
        };
    if field(0, 8, "the signature")? != SIGNATURE {
        return damaged("expected the HDF5 signature at byte 0".to_string());
    }
    let version = field(8, 1, "the superblock version")?.first().copied().unwrap_or_default();
    // Where the two size bytes and the base address sit in each version.
    let (sizes_at, base_at) = match version {
        0 => (13, 24),
        1 => (13, 28),
        2 | 3 => (9, 12),
        _ => return damaged(format!("HDF5 superblock version {version} is not one of the known versions 0 to 3")),
    };
    let sizes = field(sizes_at, 2, "the sizes of addresses and lengths")?;
    for (size, what) in sizes.iter().zip(["addresses", "lengths"]) {
        if ![2, 4, 8, 16].contains(size) {
            return damaged(format!("the HDF5 superblock gives {what} {size} bytes, expected 2, 4, 8 or 16"));
        }
    }
    let width = usize::from(sizes.first().copied().unwrap_or_default());
    if version >= 2 {
        // Base, superblock extension, end-of-file and root group addresses, then the checksum of all before it.
        let end = base_at + 4 * width;
        let stored = field(end, 4, "the superblock checksum")?;
        let stored = u32::from_le_bytes([stored[0], stored[1], stored[2], stored[3]]);
        let computed = lookup3(field(0, end, "the superblock")?, 0);
        if stored != computed {
            return damaged(format!(
                "the HDF5 superblock checksum is {stored:#010x} but its bytes hash to {computed:#010x}"
            ));
        }
    }
    let base = address(field(base_at, width, "the base address")?, "base address")?;
    let eof = address(field(base_at + 2 * width, width, "the end-of-file address")?, "end-of-file address")?;
    match base.checked_add(eof) {
        Some(end) if end <= file_size => Ok(()),
        Some(end) => {
            damaged(format!("the HDF5 superblock says the file ends at byte {end} but the file has {file_size} bytes"))
        }
        None => damaged(format!("the HDF5 base address {base} plus end-of-file address {eof} overflow 64 bits")),
    }
}

/// A little-endian address; all ones is HDF5's "undefined address", which these two fields never are.
fn address(bytes: &[u8], what: &str) -> Result<u64, Refusal> {
    if bytes.iter().all(|b| *b == 0xFF) {
        return damaged(format!("the HDF5 {what} is undefined"));
    }
    let value = bytes.iter().rev().fold(0u128, |value, byte| (value << 8) | u128::from(*byte));
    match u64::try_from(value) {
        Ok(value) => Ok(value),
        Err(_) => damaged(format!("the HDF5 {what} {value} lies beyond any file")),
    }
}

/// Bob Jenkins' lookup3 hash (`hashlittle`, public domain, 2006), reading the key byte by byte in little-endian
/// order, which is the checksum HDF5 stores after its version 2 and 3 superblocks and other metadata (with
/// `initval` 0). Written from the algorithm's description: three 32-bit words absorb the key 12 bytes at a time,
/// mixed after each block; the last 1 to 12 bytes (zero-filled) go through a final mix; an empty key returns the
/// initial state.
fn lookup3(key: &[u8], initval: u32) -> u32 {
    let word = |bytes: &[u8]| bytes.iter().rev().fold(0u32, |w, b| (w << 8) | u32::from(*b));
    let init = 0xdead_beef_u32.wrapping_add(key.len() as u32).wrapping_add(initval);
    let (mut a, mut b, mut c) = (init, init, init);
    let mut rest = key;
    while rest.len() > 12 {
        a = a.wrapping_add(word(&rest[0..4]));
        b = b.wrapping_add(word(&rest[4..8]));
        c = c.wrapping_add(word(&rest[8..12]));
        // The mixing step: each word subtracted, xored with a rotation of another, added to the third.
        for (shift_a, shift_b, shift_c) in [(4, 6, 8), (16, 19, 4)] {
            a = a.wrapping_sub(c) ^ c.rotate_left(shift_a);
            c = c.wrapping_add(b);
            b = b.wrapping_sub(a) ^ a.rotate_left(shift_b);
            a = a.wrapping_add(c);
            c = c.wrapping_sub(b) ^ b.rotate_left(shift_c);
            b = b.wrapping_add(a);
        }
        rest = &rest[12..];
    }
    if rest.is_empty() {
        return c;
    }
    let mut tail = [0u8; 12];
    tail[..rest.len()].copy_from_slice(rest);
    a = a.wrapping_add(word(&tail[0..4]));
    b = b.wrapping_add(word(&tail[4..8]));
    c = c.wrapping_add(word(&tail[8..12]));
    // The final step.
    c = (c ^ b).wrapping_sub(b.rotate_left(14));
    a = (a ^ c).wrapping_sub(c.rotate_left(11));
    b = (b ^ a).wrapping_sub(a.rotate_left(25));
    c = (c ^ b).wrapping_sub(b.rotate_left(16));
    a = (a ^ c).wrapping_sub(c.rotate_left(4));
    b = (b ^ a).wrapping_sub(a.rotate_left(14));
    (c ^ b).wrapping_sub(b.rotate_left(24))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A version 2 superblock with 8-byte addresses whose end-of-file address is `eof`, with its checksum.
    fn superblock_v2(eof: u64) -> Vec<u8> {
        let mut bytes = SIGNATURE.to_vec();
        bytes.extend_from_slice(&[2, 8, 8, 0]);
        bytes.extend_from_slice(&0u64.to_le_bytes());
        bytes.extend_from_slice(&[0xFF; 8]);
        bytes.extend_from_slice(&eof.to_le_bytes());
        bytes.extend_from_slice(&48u64.to_le_bytes());
        let checksum = lookup3(&bytes, 0);
        bytes.extend_from_slice(&checksum.to_le_bytes());
        bytes
    }

    /// A version 0 superblock with 8-byte addresses and lengths whose end-of-file address is `eof` (no checksum).
    fn superblock_v0(eof: u64) -> Vec<u8> {
        let mut bytes = SIGNATURE.to_vec();
        bytes.extend_from_slice(&[0, 0, 0, 0, 0, 8, 8, 0, 4, 0, 16, 0, 0, 0, 0, 0]);
        for address in [0, u64::MAX, eof, u64::MAX] {
            bytes.extend_from_slice(&address.to_le_bytes());
        }
        bytes
    }

    fn refusal(bytes: &[u8], file_size: u64) -> String {
        match check(bytes, file_size) {
            Err(Refusal::Damaged(detail)) => detail,
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    #[test]
    fn lookup3_matches_the_published_test_values() {
        assert_eq!(lookup3(b"", 0), 0xdead_beef);
        assert_eq!(lookup3(b"Four score and seven years ago", 0), 0x1777_0551);
        assert_eq!(lookup3(b"Four score and seven years ago", 1), 0xcd62_8161);
    }

    #[test]
    fn a_file_as_long_as_its_end_of_file_address_passes() {
        assert!(check(superblock_v2(4096).as_slice(), 4096).is_ok());
        assert!(check(superblock_v0(4096).as_slice(), 5000).is_ok());
    }

    #[test]
    fn a_file_shorter_than_its_end_of_file_address_is_refused() {
        let expected = "the HDF5 superblock says the file ends at byte 4096 but the file has 4095 bytes";
        assert_eq!(refusal(&superblock_v2(4096), 4095), expected);
        assert_eq!(refusal(&superblock_v0(4096), 4095), expected);
    }

    #[test]
    fn a_damaged_superblock_is_refused() {
        let mut flipped = superblock_v2(4096);
        flipped[30] ^= 1;
        assert!(refusal(&flipped, 1 << 20).starts_with("the HDF5 superblock checksum is"));
        let mut version = superblock_v2(4096);
        version[8] = 4;
        assert!(refusal(&version, 4096).contains("version 4 is not one of the known versions 0 to 3"));
        let mut sizes = superblock_v0(4096);
        sizes[14] = 3;
        assert!(refusal(&sizes, 4096).contains("gives lengths 3 bytes, expected 2, 4, 8 or 16"));
        let undefined = superblock_v0(u64::MAX);
        assert!(refusal(&undefined, 4096).contains("end-of-file address is undefined"));
        assert!(refusal(&superblock_v2(4096)[..40], 40).contains("superblock is cut short"));
    }

    #[test]
    fn the_superblocks_of_the_samples_pass_and_their_checksums_match() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/samples");
        let mut pending = vec![root];
        let mut checksummed = 0;
        while let Some(dir) = pending.pop() {
            for path in std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()) {
                if path.is_dir() {
                    pending.push(path);
                    continue;
                }
                let bytes = std::fs::read(&path).unwrap();
                if path.extension().is_some_and(|e| e == "nc") && bytes.starts_with(&SIGNATURE) {
                    check(bytes.as_slice(), bytes.len() as u64).unwrap_or_else(|e| panic!("{}: {e:?}", path.display()));
                    checksummed += usize::from(bytes[8] >= 2);
                }
            }
        }
        assert!(checksummed > 0, "no sample has a version 2 or 3 superblock");
    }

    #[test]
    fn no_mutation_or_truncation_of_a_superblock_panics() {
        for superblock in [superblock_v2(4096), superblock_v0(4096)] {
            for at in 0..superblock.len() {
                for value in [0, 1, 2, 3, 4, 16, 0x80, 0xFF] {
                    let mut mutated = superblock.clone();
                    mutated[at] = value;
                    let _ = check(mutated.as_slice(), 4096);
                }
            }
            for len in 0..superblock.len() {
                let _ = check(&superblock[..len], len as u64);
            }
        }
    }
}
