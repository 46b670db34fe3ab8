//! The header checks on small hand-built headers, one per rule, and a miniature fuzzing of every header byte.

use super::*;

/// One field of a header under construction; counts and offsets take the widths of the magic number's version.
enum Field<'a> {
    Int(u32),
    Count(u64),
    Offset(u64),
    Name(&'a str),
    Raw(&'a [u8]),
}

use Field::{Count as C, Int as I, Name as N, Offset as O, Raw as R};

fn build(magic: &[u8; 4], fields: &[Field]) -> Vec<u8> {
    let version = match magic[3] {
        2 => Version::Cdf2,
        5 => Version::Cdf5,
        _ => Version::Cdf1,
    };
    let uint = |out: &mut Vec<u8>, value: u64, width: u64| {
        let bytes = value.to_be_bytes();
        out.extend_from_slice(&bytes[(8 - width as usize)..]);
    };
    let mut out = magic.to_vec();
    for field in fields {
        match field {
            Field::Int(value) => out.extend_from_slice(&value.to_be_bytes()),
            Field::Count(value) => uint(&mut out, *value, version.count_width()),
            Field::Offset(value) => uint(&mut out, *value, version.offset_width()),
            Field::Name(name) => {
                uint(&mut out, name.len() as u64, version.count_width());
                out.extend_from_slice(name.as_bytes());
                out.resize(out.len() + (4 - name.len() % 4) % 4, 0);
            }
            Field::Raw(bytes) => out.extend_from_slice(bytes),
        }
    }
    out
}

const CDF1: &[u8; 4] = b"CDF\x01";

/// Dimensions `time` (unlimited) and `x` (3), a global text attribute, and three variables starting at
/// `begins`: `x(x)` float, `time(time)` double and `v(time, x)` short with an attribute.
fn header(magic: &[u8; 4], numrecs: u64, begins: [u64; 3]) -> Vec<u8> {
    let [x, time, v] = begins;
    #[rustfmt::skip]
    let fields = [
        C(numrecs),
        I(NC_DIMENSION), C(2), N("time"), C(0), N("x"), C(3),
        I(NC_ATTRIBUTE), C(1), N("title"), I(2), C(2), R(b"hi\0\0"),
        I(NC_VARIABLE), C(3),
        N("x"), C(1), C(1), I(0), C(0), I(5), C(12), O(x),
        N("time"), C(1), C(0), I(0), C(0), I(6), C(8), O(time),
        N("v"), C(2), C(0), C(1), I(NC_ATTRIBUTE), C(1), N("units"), I(2), C(1), R(b"K\0\0\0"), I(3), C(8), O(v),
    ];
    build(magic, &fields)
}

/// The whole file of [`header`] with `numrecs` records: `x`'s 12 bytes, then records of 16 bytes (`time`'s 8,
/// `v`'s 6 and 2 of padding). Returns the file and its header's length.
fn sample_file(magic: &[u8; 4], numrecs: u64) -> (Vec<u8>, u64) {
    let len = header(magic, numrecs, [0; 3]).len() as u64;
    let mut file = header(magic, numrecs, [len, len + 12, len + 20]);
    file.resize(len as usize + 12 + 16 * numrecs as usize, 0);
    (file, len)
}

/// One variable `v` of type `nc_type` over `var_dims` of `dims`, no attributes, starting at `begin` (by default
/// right after the header); no data.
fn one_variable(magic: &[u8; 4], dims: &[(&str, u64)], var_dims: &[u64], nc_type: u32, begin: Option<u64>) -> Vec<u8> {
    let header = |begin: u64| {
        let mut fields = vec![C(2), I(NC_DIMENSION), C(dims.len() as u64)];
        fields.extend(dims.iter().flat_map(|(name, len)| [N(name), C(*len)]));
        fields.extend([I(0), C(0), I(NC_VARIABLE), C(1), N("v"), C(var_dims.len() as u64)]);
        fields.extend(var_dims.iter().map(|id| C(*id)));
        fields.extend([I(0), C(0), I(nc_type), C(0), O(begin)]);
        build(magic, &fields)
    };
    header(begin.unwrap_or(header(0).len() as u64))
}

fn verdict_with_size(bytes: &[u8], file_size: u64) -> Result<(), String> {
    check(bytes, file_size).map_err(|refusal| match refusal {
        Refusal::Damaged(detail) => detail,
        Refusal::Unreadable(error) => panic!("a read of bytes in memory failed: {error}"),
    })
}

fn verdict(bytes: &[u8]) -> Result<(), String> {
    verdict_with_size(bytes, bytes.len() as u64)
}

fn refusal(bytes: &[u8]) -> String {
    verdict(bytes).expect_err("should be refused")
}

fn assert_refused(bytes: &[u8], expected: &str) {
    let detail = refusal(bytes);
    assert!(detail.contains(expected), "'{expected}' missing from: {detail}");
}

#[test]
fn complete_files_of_every_version_pass() {
    for magic in [CDF1, b"CDF\x02", b"CDF\x05"] {
        let (file, _) = sample_file(magic, 2);
        assert_eq!(verdict(&file), Ok(()), "{magic:?}");
    }
}

#[test]
fn a_huge_dimension_count_is_refused_before_anything_is_allocated() {
    let (mut file, _) = sample_file(CDF1, 2);
    file[12] = 150;
    assert_refused(&file, "the header says 2516582402 dimensions");
}

#[test]
fn garbage_after_the_magic_number_is_refused() {
    assert_refused(b"CDF\x01garbage", "the header is cut short");
    assert_refused(b"CDF\x03\0\0\0\0", "expected the magic number CDF followed by 1, 2 or 5");
}

#[test]
fn a_file_missing_data_is_refused_naming_the_variable_and_the_sizes() {
    for magic in [CDF1, b"CDF\x02", b"CDF\x05"] {
        let (file, header_len) = sample_file(magic, 2);
        let end = file.len();
        // The last record's padding is never read, so it need not be there.
        assert_eq!(verdict(&file[..end - 2]), Ok(()));
        assert_eq!(
            refusal(&file[..end - 3]),
            format!(
                "header says variable 'v' ends at byte {} (2 records of 16 bytes) but the file has {} bytes",
                end - 2,
                end - 3
            )
        );
        let cut = header_len as usize + 11;
        assert_eq!(
            refusal(&file[..cut]),
            format!("header says variable 'x' ends at byte {} but the file has {cut} bytes", cut + 1)
        );
    }
}

#[test]
fn a_streaming_file_is_not_held_to_a_record_count() {
    let (mut file, header_len) = sample_file(CDF1, 2);
    file[4..8].copy_from_slice(&[0xFF; 4]);
    assert_eq!(verdict(&file[..header_len as usize + 12]), Ok(()));
}

#[test]
fn a_single_record_variable_has_unpadded_records() {
    let file = one_variable(CDF1, &[("t", 0), ("x", 3)], &[0, 1], 3, None);
    let header_len = file.len();
    // Two records of three shorts: 12 bytes, where padded records would need 14.
    let mut complete = file.clone();
    complete.resize(header_len + 12, 0);
    assert_eq!(verdict(&complete), Ok(()));
    assert_refused(&complete[..header_len + 11], "(2 records of 6 bytes)");
}

#[test]
fn malformed_lists_are_refused() {
    let absent_with_elements = build(CDF1, &[C(0), I(0), C(1), R(&[0; 16])]);
    assert_refused(&absent_with_elements, "the dimension list is marked absent (tag 0) but says it has 1");
    let wrong_tag = build(CDF1, &[C(0), I(NC_VARIABLE), C(1), R(&[0; 16])]);
    assert_refused(&wrong_tag, "expected the dimension list (tag 0xa) or an absent list, found tag 0xb");
    let short_dims = build(CDF1, &[C(0), I(NC_DIMENSION), C(2), N("x"), C(1)]);
    assert_refused(&short_dims, "the header says 2 dimensions, which need at least 12 bytes each");
}

#[test]
fn names_must_be_non_empty_utf8_without_nul() {
    // One dimension of length 1 named `name`, bytes that need not be UTF-8.
    let dim = |name: &[u8]| {
        let padding = vec![0; (4 - name.len() % 4) % 4];
        build(CDF1, &[C(0), I(NC_DIMENSION), C(1), C(name.len() as u64), R(name), R(&padding), C(1)])
    };
    let empty = build(CDF1, &[C(0), I(NC_DIMENSION), C(1), C(0), C(1), R(&[0; 4])]);
    assert_refused(&empty, "dimension 0 has an empty name");
    assert_refused(&dim(b"\xff\xfe"), "the name of dimension 0 is not valid UTF-8");
    assert_refused(&dim(b"a\0"), "the name of dimension 0 contains a NUL byte");
}

#[test]
fn dimension_ids_must_exist() {
    assert_refused(
        &one_variable(CDF1, &[("x", 3)], &[1], 5, None),
        "variable 'v' uses dimension id 1, but the header defines 1 dimensions",
    );
}

#[test]
fn only_one_unlimited_dimension_and_only_first() {
    assert_refused(
        &one_variable(CDF1, &[("a", 0), ("b", 0)], &[0], 5, None),
        "dimensions 'a' and 'b' are both unlimited",
    );
    assert_refused(
        &one_variable(CDF1, &[("x", 3), ("t", 0)], &[0, 1], 5, None),
        "variable 'v' uses the unlimited dimension 't' in position 1",
    );
}

#[test]
fn types_must_belong_to_the_version() {
    assert_refused(&one_variable(CDF1, &[("x", 1)], &[0], 12, None), "variable 'v' has type code 12");
    // An unsigned short exists in CDF-5 only.
    assert_refused(&one_variable(CDF1, &[("x", 1)], &[0], 8, None), "not a CDF-1 type");
    let mut cdf5 = one_variable(b"CDF\x05", &[("x", 1)], &[0], 8, None);
    cdf5.extend_from_slice(&[0; 2]);
    assert_eq!(verdict(&cdf5), Ok(()));
}

#[test]
fn data_must_start_after_the_header_and_sizes_must_not_overflow() {
    assert_refused(&one_variable(CDF1, &[("x", 1)], &[0], 5, Some(8)), "starts at byte 8, inside the header");
    let huge = one_variable(b"CDF\x05", &[("a", 1 << 40), ("b", 1 << 40)], &[0, 1], 6, None);
    assert_refused(&huge, "the size of variable 'v' overflows 64 bits");
}

#[test]
fn headers_past_the_size_limit_are_refused_without_reading_them() {
    let long_name = build(CDF1, &[C(0), I(NC_DIMENSION), C(1), C(70 << 20)]);
    let detail = verdict_with_size(&long_name, 1 << 30).expect_err("should be refused");
    assert!(detail.contains("longer than 64 MiB"), "{detail}");
}

/// Fuzzing in miniature: every byte of every version's header set to values that break counts, tags and
/// types, and every truncation, each gives a verdict and never a panic.
#[test]
fn no_mutation_or_truncation_of_a_header_panics() {
    for magic in [CDF1, b"CDF\x02", b"CDF\x05"] {
        let (file, header_len) = sample_file(magic, 2);
        for at in 0..header_len as usize {
            for value in [0, 1, 0x0A, 0x7F, 0x80, 0xFF, file[at] ^ 1] {
                let mut mutated = file.clone();
                mutated[at] = value;
                let _ = verdict(&mutated);
            }
        }
        for len in 0..file.len() {
            let _ = verdict(&file[..len]);
        }
    }
}
