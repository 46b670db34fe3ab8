//! Memory-limit strings such as `8GiB`, `500MB` or `50%`.
//!
//! Limits are written the way dask and Slurm users already write them, so the
//! parser accepts both decimal (`kB`, `MB`, `GB`, `TB`, and single letters
//! `K`, `M`, `G`, `T`) and binary (`KiB`, `MiB`, `GiB`, `TiB`) units, case-
//! insensitively, plus a percentage meaning a share of the machine's RAM. The
//! number itself is parsed by hand so that `inf`, `NaN` or exponents, which a
//! float parser would accept, are rejected.

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, Visitor};

/// A memory limit: an absolute size or a share of the machine's RAM.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum MemoryLimit {
    /// A size in bytes (always > 0).
    Bytes(u64),
    /// A fraction of the machine's RAM in (0, 1]; `50%` is `0.5`.
    FractionOfRam(f64),
}

/// Why a memory-limit string was rejected; its message is shown to the user
/// after the key and source, so it restates the accepted forms.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid memory limit {input:?}: {reason}; expected a size like 8GiB or 500MB, or a share of RAM like 50%")]
pub struct MemoryLimitError {
    /// The rejected text.
    pub input: String,
    /// What is wrong with it.
    pub reason: String,
}

impl MemoryLimit {
    /// Parses `8GiB`, `500 MB`, `1.5g`, `4096` (bytes) or `50%`.
    pub fn parse(text: &str) -> Result<MemoryLimit, MemoryLimitError> {
        let fail = |reason: &str| MemoryLimitError { input: text.to_owned(), reason: reason.to_owned() };
        let trimmed = text.trim();
        let split = trimmed.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(trimmed.len());
        let (number, unit) = trimmed.split_at(split);
        let value = parse_decimal(number).ok_or_else(|| fail("it does not start with a number"))?;
        let unit = unit.trim();
        if unit == "%" {
            if !(value > 0.0 && value <= 100.0) {
                return Err(fail("a percentage must be above 0 and at most 100"));
            }
            return Ok(MemoryLimit::FractionOfRam(value / 100.0));
        }
        let multiplier = unit_multiplier(unit).ok_or_else(|| fail(&format!("unknown unit {unit:?}")))?;
        let bytes = value * multiplier as f64;
        // 2^64 is exactly representable; anything at or above it does not fit.
        if bytes >= 18_446_744_073_709_551_616.0 {
            return Err(fail("it is too large"));
        }
        let bytes = bytes.round() as u64;
        if bytes == 0 {
            return Err(fail("it must be more than zero bytes"));
        }
        Ok(MemoryLimit::Bytes(bytes))
    }

    /// The limit in bytes on a machine with `total_ram` bytes of memory.
    pub fn bytes_for(self, total_ram: u64) -> u64 {
        match self {
            MemoryLimit::Bytes(bytes) => bytes,
            MemoryLimit::FractionOfRam(fraction) => (total_ram as f64 * fraction).round() as u64,
        }
    }
}

/// `digits[.digits]`; `None` for anything else, including an empty string.
fn parse_decimal(text: &str) -> Option<f64> {
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    let digits_ok = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() || !digits_ok(whole) || !digits_ok(fraction) || (text.contains('.') && fraction.is_empty()) {
        return None;
    }
    text.parse().ok()
}

fn unit_multiplier(unit: &str) -> Option<u64> {
    const KI: u64 = 1024;
    let multiplier = match unit.to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" => 1_000,
        "m" | "mb" => 1_000_000,
        "g" | "gb" => 1_000_000_000,
        "t" | "tb" => 1_000_000_000_000,
        "kib" => KI,
        "mib" => KI * KI,
        "gib" => KI * KI * KI,
        "tib" => KI * KI * KI * KI,
        _ => return None,
    };
    Some(multiplier)
}

/// Accepts a string (parsed as above) or a bare integer number of bytes, so
/// `DOWNSCALE_RUNTIMES__LOCAL__MEMORY_LIMIT=8000000000`, which arrives as an
/// integer, works too.
impl<'de> Deserialize<'de> for MemoryLimit {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(MemoryLimitVisitor)
    }
}

struct MemoryLimitVisitor;

impl Visitor<'_> for MemoryLimitVisitor {
    type Value = MemoryLimit;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a memory limit like 8GiB, 500MB or 50%")
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<MemoryLimit, E> {
        MemoryLimit::parse(text).map_err(E::custom)
    }

    fn visit_u64<E: de::Error>(self, bytes: u64) -> Result<MemoryLimit, E> {
        MemoryLimit::parse(&bytes.to_string()).map_err(E::custom)
    }

    fn visit_i64<E: de::Error>(self, bytes: i64) -> Result<MemoryLimit, E> {
        MemoryLimit::parse(&bytes.to_string()).map_err(E::custom)
    }
}

/// For Slurm's `memory`, which is a job request: a share of RAM means nothing
/// before the job has a node, so only absolute sizes are accepted.
pub(crate) fn absolute_bytes<'de, D: Deserializer<'de>>(deserializer: D) -> Result<u64, D::Error> {
    match MemoryLimit::deserialize(deserializer)? {
        MemoryLimit::Bytes(bytes) => Ok(bytes),
        MemoryLimit::FractionOfRam(_) => {
            Err(de::Error::custom("a job's memory must be an absolute size like 16GiB, not a share of RAM"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_binary_decimal_and_percent_forms() {
        assert_eq!(MemoryLimit::parse("8GiB"), Ok(MemoryLimit::Bytes(8 * 1024 * 1024 * 1024)));
        assert_eq!(MemoryLimit::parse("500MB"), Ok(MemoryLimit::Bytes(500_000_000)));
        assert_eq!(MemoryLimit::parse(" 1.5 gib "), Ok(MemoryLimit::Bytes(1_610_612_736)));
        assert_eq!(MemoryLimit::parse("2k"), Ok(MemoryLimit::Bytes(2_000)));
        assert_eq!(MemoryLimit::parse("4096"), Ok(MemoryLimit::Bytes(4096)));
        assert_eq!(MemoryLimit::parse("50%"), Ok(MemoryLimit::FractionOfRam(0.5)));
        assert_eq!(MemoryLimit::parse("100 %"), Ok(MemoryLimit::FractionOfRam(1.0)));
    }

    #[test]
    fn rejects_malformed_limits_with_a_reason() {
        for bad in ["", "GiB", "8 parsecs", "-1GiB", "inf", "NaNGiB", "1e9", "1.GiB", ".5GiB", "0", "0%", "150%"] {
            let error = MemoryLimit::parse(bad).expect_err(bad);
            assert_eq!(error.input, bad);
            assert!(error.to_string().contains("expected a size like 8GiB"), "{error}");
        }
        assert!(MemoryLimit::parse("99999999999TiB").unwrap_err().reason.contains("too large"));
        assert!(MemoryLimit::parse("8 parsecs").unwrap_err().reason.contains("\"parsecs\""));
    }

    #[test]
    fn resolves_against_total_ram() {
        assert_eq!(MemoryLimit::FractionOfRam(0.25).bytes_for(16_000), 4_000);
        assert_eq!(MemoryLimit::Bytes(123).bytes_for(16_000), 123);
    }
}
