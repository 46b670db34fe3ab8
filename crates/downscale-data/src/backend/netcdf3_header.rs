//! A pre-flight reading of a NetCDF classic file's header, so that libnetcdf is only handed files whose header is
//! consistent with itself and with the file's real size.
//!
//! The classic format (CDF-1, its 64-bit-offset variant CDF-2, and CDF-5 with 64-bit counts and more integer
//! types) is one big-endian header followed by the data. The header holds, in order: the magic `CDF` and a version
//! byte; the number of records (or all ones, "streaming": count them from the file size); the dimensions (name and
//! length, length 0 marking the one unlimited "record" dimension); the global attributes (name, type, count, values);
//! and the variables (name, dimension ids, attributes, type, size, and `begin`, the byte where the data start). Each
//! list opens with a tag and an element count, or is "absent": a zero tag and a zero count. Names and attribute
//! values are padded with zeros to a multiple of 4 bytes. Counts, lengths and sizes are 32-bit in CDF-1 and CDF-2 and
//! 64-bit in CDF-5; `begin` is 32-bit only in CDF-1. The data follow the header: first every fixed-size variable
//! whole, then the records, each record holding one slice of every record variable, each slice padded to 4 bytes
//! unless the file has a single record variable (its slices then follow one another unpadded).
//!
//! libnetcdf takes that header at its word: a damaged count makes it allocate and walk arrays sized from garbage and
//! crash (a single flipped byte in a dimension count is enough), and a file shorter than its header says is read as
//! if the missing bytes were zeros. So before libnetcdf sees the file, this module reads the header itself, measuring
//! every count and length against the bytes that really remain before it allocates or skips anything, and checks
//! that the file is long enough for every variable the header places in it.
//!
//! The header is read incrementally from the start of the file, never beyond its end, so checking a large file
//! costs no more than reading its header. Headers longer than [`MAX_HEADER_BYTES`] are refused as a policy: real
//! headers are kilobytes, and a limit keeps a hostile one from making us read gigabytes.

use std::io::Read;

use super::preflight::{Refusal, damaged};

/// The largest header accepted (64 MiB), far above any real header (kilobytes, a few megabytes with huge attributes).
const MAX_HEADER_BYTES: u64 = 64 << 20;

/// List tags of the format.
const NC_DIMENSION: u32 = 0x0A;
const NC_VARIABLE: u32 = 0x0B;
const NC_ATTRIBUTE: u32 = 0x0C;

type Checked<T> = std::result::Result<T, Refusal>;

/// The three classic versions, which differ in field widths and in the types they allow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Version {
    Cdf1,
    Cdf2,
    Cdf5,
}

impl Version {
    /// Width of counts, lengths and sizes (the specification's NON_NEG).
    fn count_width(self) -> u64 {
        if self == Version::Cdf5 { 8 } else { 4 }
    }

    /// Width of a variable's `begin` (the specification's OFFSET).
    fn offset_width(self) -> u64 {
        if self == Version::Cdf1 { 4 } else { 8 }
    }

    /// Bytes of one value of type code `nc_type`, or `None` when the code is not a type of this version (CDF-5 adds
    /// the unsigned and 64-bit integers, 7 to 11).
    fn type_size(self, nc_type: u32) -> Option<u64> {
        match nc_type {
            1 | 2 => Some(1),
            3 => Some(2),
            4 | 5 => Some(4),
            6 => Some(8),
            7 if self == Version::Cdf5 => Some(1),
            8 if self == Version::Cdf5 => Some(2),
            9 if self == Version::Cdf5 => Some(4),
            10 | 11 if self == Version::Cdf5 => Some(8),
            _ => None,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Version::Cdf1 => "CDF-1",
            Version::Cdf2 => "CDF-2",
            Version::Cdf5 => "CDF-5",
        }
    }
}

struct Dimension {
    name: String,
    /// 0 for the unlimited dimension.
    len: u64,
}

struct Variable {
    name: String,
    dim_ids: Vec<usize>,
    value_size: u64,
    begin: u64,
}

/// What the size checks need from a header that parsed.
struct Header {
    /// `None` for a streaming file, whose record count comes from its size.
    numrecs: Option<u64>,
    dims: Vec<Dimension>,
    vars: Vec<Variable>,
    /// The byte just after the header: no variable may start before it.
    end: u64,
}

/// Checks the classic file read from `source` (positioned at its start), which is `file_size` bytes long.
pub(super) fn check(source: impl Read, file_size: u64) -> Checked<()> {
    let header = parse(source, file_size)?;
    check_extents(&header, file_size)
}

/// Reads big-endian fields, refusing any read that would pass the end of the file or the header limit.
struct Cursor<R> {
    source: R,
    pos: u64,
    file_size: u64,
    version: Version,
}

impl<R: Read> Cursor<R> {
    /// Refuses unless `n` more bytes, for `what`, lie inside both the file and the header limit.
    fn reserve(&self, n: u64, what: &str) -> Checked<()> {
        let end = self.pos.checked_add(n);
        if end.is_none_or(|end| end > self.file_size) {
            return damaged(format!(
                "the header is cut short: {what} needs {n} bytes at byte {} but the file has {} bytes",
                self.pos, self.file_size
            ));
        }
        if end.is_none_or(|end| end > MAX_HEADER_BYTES) {
            return damaged(format!(
                "the header would be longer than {} MiB ({what} needs {n} bytes at byte {}), more than any real \
                 header",
                MAX_HEADER_BYTES >> 20,
                self.pos
            ));
        }
        Ok(())
    }

    /// Refuses a list of `count` elements of at least `min_bytes` each that cannot fit in the rest of the file,
    /// before looping over (or allocating for) it.
    fn reserve_list(&self, count: u64, min_bytes: u64, what: &str) -> Checked<()> {
        let need = count.checked_mul(min_bytes);
        let left = self.file_size.saturating_sub(self.pos);
        if need.is_none_or(|need| need > left) {
            return damaged(format!(
                "the header says {count} {what}, which need at least {min_bytes} bytes each, but only {left} bytes \
                 follow byte {}",
                self.pos
            ));
        }
        Ok(())
    }

    fn bytes(&mut self, n: u64, what: &str) -> Checked<Vec<u8>> {
        self.reserve(n, what)?;
        // `reserve` bounds `n` by the bytes left in the file and by the header limit.
        let Ok(len) = usize::try_from(n) else { return damaged(format!("{what} is too large for memory")) };
        let mut buffer = vec![0; len];
        self.source.read_exact(&mut buffer)?;
        self.pos += n;
        Ok(buffer)
    }

    fn skip(&mut self, n: u64, what: &str) -> Checked<()> {
        self.reserve(n, what)?;
        let skipped = std::io::copy(&mut (&mut self.source).take(n), &mut std::io::sink())?;
        if skipped != n {
            return Err(std::io::Error::from(std::io::ErrorKind::UnexpectedEof).into());
        }
        self.pos += n;
        Ok(())
    }

    /// An unsigned big-endian integer of `width` (4 or 8) bytes.
    fn uint(&mut self, width: u64, what: &str) -> Checked<u64> {
        self.reserve(width, what)?;
        let mut buffer = [0u8; 8];
        let field = if width == 4 { &mut buffer[4..] } else { &mut buffer[..] };
        self.source.read_exact(field)?;
        self.pos += width;
        Ok(u64::from_be_bytes(buffer))
    }

    fn u32(&mut self, what: &str) -> Checked<u32> {
        self.reserve(4, what)?;
        let mut buffer = [0u8; 4];
        self.source.read_exact(&mut buffer)?;
        self.pos += 4;
        Ok(u32::from_be_bytes(buffer))
    }

    fn count(&mut self, what: &str) -> Checked<u64> {
        self.uint(self.version.count_width(), what)
    }

    /// The zero bytes that pad `len` bytes of names or values to a multiple of 4.
    fn padding(&mut self, len: u64, what: &str) -> Checked<()> {
        self.skip((4 - len % 4) % 4, what)
    }

    /// A list's tag and element count; an absent list has zero elements.
    fn list(&mut self, tag: u32, what: &str) -> Checked<u64> {
        let found = self.u32(&format!("the tag of the {what}"))?;
        let count = self.count(&format!("the length of the {what}"))?;
        match (found, count) {
            (0, 0) => Ok(0),
            (0, _) => damaged(format!("the {what} is marked absent (tag 0) but says it has {count} elements")),
            _ if found == tag => Ok(count),
            _ => damaged(format!("expected the {what} (tag {tag:#x}) or an absent list, found tag {found:#x}")),
        }
    }

    /// Bytes that the smallest name occupies: its length and 4 bytes (one byte, padded).
    fn min_name_bytes(&self) -> u64 {
        self.version.count_width() + 4
    }

    /// A name: not empty, UTF-8, no NUL (libnetcdf hands names on as C strings).
    fn name(&mut self, what: &str) -> Checked<String> {
        let len = self.count(&format!("the name length of {what}"))?;
        if len == 0 {
            return damaged(format!("{what} has an empty name"));
        }
        let bytes = self.bytes(len, &format!("the name of {what}"))?;
        self.padding(len, &format!("the padding of the name of {what}"))?;
        match String::from_utf8(bytes) {
            Ok(name) if !name.contains('\0') => Ok(name),
            Ok(_) => damaged(format!("the name of {what} contains a NUL byte")),
            Err(_) => damaged(format!("the name of {what} is not valid UTF-8")),
        }
    }

    /// An attribute list, whose values are checked for size and skipped.
    fn attributes(&mut self, owner: &str) -> Checked<()> {
        let what = format!("attribute list of {owner}");
        let count = self.list(NC_ATTRIBUTE, &what)?;
        let min_bytes = self.min_name_bytes() + 4 + self.version.count_width();
        self.reserve_list(count, min_bytes, &format!("attributes of {owner}"))?;
        for index in 0..count {
            let name = self.name(&format!("attribute {index} of {owner}"))?;
            let what = format!("attribute '{name}' of {owner}");
            let nc_type = self.u32(&format!("the type of {what}"))?;
            let size = self.type_size(nc_type, &what)?;
            let count = self.count(&format!("the value count of {what}"))?;
            let Some(len) = count.checked_mul(size) else {
                return damaged(format!("{what} says it has {count} values, more than a file can hold"));
            };
            self.skip(len, &format!("the values of {what}"))?;
            self.padding(len, &format!("the padding of the values of {what}"))?;
        }
        Ok(())
    }

    fn type_size(&self, nc_type: u32, what: &str) -> Checked<u64> {
        match self.version.type_size(nc_type) {
            Some(size) => Ok(size),
            None => damaged(format!("{what} has type code {nc_type}, not a {} type", self.version.name())),
        }
    }
}

fn parse(source: impl Read, file_size: u64) -> Checked<Header> {
    let mut cursor = Cursor { source, pos: 0, file_size, version: Version::Cdf1 };
    let magic = cursor.bytes(4, "the magic number")?;
    cursor.version = match magic.as_slice() {
        b"CDF\x01" => Version::Cdf1,
        b"CDF\x02" => Version::Cdf2,
        b"CDF\x05" => Version::Cdf5,
        _ => return damaged(format!("expected the magic number CDF followed by 1, 2 or 5, found {magic:?}")),
    };
    let width = cursor.version.count_width();
    let streaming = if width == 4 { u64::from(u32::MAX) } else { u64::MAX };
    let numrecs = Some(cursor.count("the record count")?).filter(|n| *n != streaming);

    let dim_count = cursor.list(NC_DIMENSION, "dimension list")?;
    cursor.reserve_list(dim_count, cursor.min_name_bytes() + width, "dimensions")?;
    let mut dims: Vec<Dimension> = Vec::new();
    for index in 0..dim_count {
        let name = cursor.name(&format!("dimension {index}"))?;
        let len = cursor.count(&format!("the length of dimension '{name}'"))?;
        if len == 0
            && let Some(other) = dims.iter().find(|d| d.len == 0)
        {
            return damaged(format!(
                "dimensions '{}' and '{name}' are both unlimited; a file has at most one",
                other.name
            ));
        }
        dims.push(Dimension { name, len });
    }

    cursor.attributes("the file (global attributes)")?;

    let var_count = cursor.list(NC_VARIABLE, "variable list")?;
    let min_var_bytes = cursor.min_name_bytes() + width + 4 + width + 4 + width + cursor.version.offset_width();
    cursor.reserve_list(var_count, min_var_bytes, "variables")?;
    let mut vars = Vec::new();
    for index in 0..var_count {
        let name = cursor.name(&format!("variable {index}"))?;
        let what = format!("variable '{name}'");
        let rank = cursor.count(&format!("the dimension count of {what}"))?;
        cursor.reserve_list(rank, width, &format!("dimension ids of {what}"))?;
        let mut dim_ids = Vec::new();
        for position in 0..rank {
            let id = cursor.count(&format!("dimension id {position} of {what}"))?;
            let Some(dim) = usize::try_from(id).ok().filter(|id| *id < dims.len()) else {
                return damaged(format!(
                    "{what} uses dimension id {id}, but the header defines {} dimensions",
                    dims.len()
                ));
            };
            if position > 0 && dims.get(dim).is_some_and(|d| d.len == 0) {
                return damaged(format!(
                    "{what} uses the unlimited dimension '{}' in position {position}; only its first dimension may \
                     be unlimited",
                    dims.get(dim).map_or("", |d| d.name.as_str())
                ));
            }
            dim_ids.push(dim);
        }
        cursor.attributes(&what)?;
        let nc_type = cursor.u32(&format!("the type of {what}"))?;
        let value_size = cursor.type_size(nc_type, &what)?;
        // The stored size is not used: it is capped for variables over 4 GiB in CDF-1/2, and the sizes checked below
        // are computed from the dimensions, as libnetcdf computes them.
        cursor.count(&format!("the size of {what}"))?;
        let begin = cursor.uint(cursor.version.offset_width(), &format!("the data offset of {what}"))?;
        vars.push(Variable { name, dim_ids, value_size, begin });
    }
    Ok(Header { numrecs, dims, vars, end: cursor.pos })
}

/// Bytes of `var` outside the record dimension: the whole variable, or one record's slice of it.
fn slice_bytes(header: &Header, var: &Variable) -> Checked<u64> {
    let fixed = var.dim_ids.get(usize::from(is_record(header, var))..).unwrap_or_default();
    fixed
        .iter()
        .try_fold(var.value_size, |bytes, id| bytes.checked_mul(header.dims.get(*id).map_or(0, |d| d.len)))
        .map_or_else(|| damaged(format!("the size of variable '{}' overflows 64 bits", var.name)), Ok)
}

fn is_record(header: &Header, var: &Variable) -> bool {
    var.dim_ids.first().is_some_and(|id| header.dims.get(*id).is_some_and(|d| d.len == 0))
}

/// Refuses a header that places data inside itself or past the end of the file. Only the bytes that are read are
/// required: the padding after the last record's last slice need not be in the file.
fn check_extents(header: &Header, file_size: u64) -> Checked<()> {
    let mut record_vars = 0usize;
    let mut padded_record_bytes = 0u64;
    for var in &header.vars {
        if var.begin < header.end {
            return damaged(format!(
                "header says variable '{}' starts at byte {}, inside the header, which ends at byte {}",
                var.name, var.begin, header.end
            ));
        }
        let bytes = slice_bytes(header, var)?;
        if is_record(header, var) {
            record_vars += 1;
            padded_record_bytes = bytes
                .checked_next_multiple_of(4)
                .and_then(|padded| padded_record_bytes.checked_add(padded))
                .map_or_else(|| damaged("the record size overflows 64 bits".to_string()), Ok)?;
        } else {
            let end = var.begin.checked_add(bytes);
            if end.is_none_or(|end| end > file_size) {
                return damaged(format!(
                    "header says variable '{}' ends at byte {} but the file has {file_size} bytes",
                    var.name,
                    end.map_or_else(|| "beyond 2^64".to_string(), |e| e.to_string())
                ));
            }
        }
    }
    // A streaming file's records are counted from its size, so no count can be short.
    let Some(numrecs) = header.numrecs.filter(|n| *n > 0) else { return Ok(()) };
    for var in header.vars.iter().filter(|v| is_record(header, v)) {
        let bytes = slice_bytes(header, var)?;
        // With one record variable its slices are not padded: the record is the slice.
        let record_size = if record_vars == 1 { bytes } else { padded_record_bytes };
        let end = (numrecs - 1)
            .checked_mul(record_size)
            .and_then(|skip| skip.checked_add(var.begin))
            .and_then(|start| start.checked_add(bytes));
        if end.is_none_or(|end| end > file_size) {
            return damaged(format!(
                "header says variable '{}' ends at byte {} ({numrecs} records of {record_size} bytes) but the file \
                 has {file_size} bytes",
                var.name,
                end.map_or_else(|| "beyond 2^64".to_string(), |e| e.to_string())
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
