//! `$VAR` / `${VAR}` expansion, done when a value is used, never at load.
//!
//! Expanding late keeps secrets out of everything that shows or logs the
//! configuration: files, `--set` and `show` hold only the reference. The
//! syntax is deliberately strict: a `$` must start `$$` (a literal `$`), `$NAME`
//! or `${NAME}`; anything else is an error rather than a guess, because a
//! silently mangled credential is hard to debug.

use std::collections::BTreeMap;

/// Why a value could not be expanded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ExpandError {
    /// `$NAME` with `NAME` not in the environment.
    Missing(String),
    /// A `$` that starts no valid reference.
    Malformed(String),
}

/// Whether `name` is a shell-style variable name: `[A-Za-z_][A-Za-z0-9_]*`.
pub(crate) fn is_variable_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Replaces every reference in `raw` with its value from `env`.
pub(crate) fn expand(raw: &str, env: &BTreeMap<String, String>) -> Result<String, ExpandError> {
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    while let Some(dollar) = rest.find('$') {
        let position = raw.len() - rest.len() + dollar;
        out.push_str(&rest[..dollar]);
        let after = &rest[dollar + 1..];
        let (name, consumed) = if let Some(literal_rest) = after.strip_prefix('$') {
            out.push('$');
            rest = literal_rest;
            continue;
        } else if let Some(braced) = after.strip_prefix('{') {
            let close = braced.find('}').ok_or_else(|| ExpandError::Malformed("`${` without a closing `}`".into()))?;
            (&braced[..close], close + 2)
        } else {
            let len = after.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(after.len());
            (&after[..len], len)
        };
        if !is_variable_name(name) {
            let problem = format!(
                "`${}` at byte {position} starts no variable reference; write `$$` for a literal `$`",
                &after[..consumed.min(after.len())]
            );
            return Err(ExpandError::Malformed(problem));
        }
        out.push_str(env.get(name).ok_or_else(|| ExpandError::Missing(name.to_owned()))?);
        rest = &after[consumed..];
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env() -> BTreeMap<String, String> {
        BTreeMap::from([("BUCKET".into(), "b1".into()), ("_X9".into(), "$HOME".into())])
    }

    #[test]
    fn expands_both_forms_and_literal_dollars() {
        assert_eq!(expand("s3://$BUCKET/x", &env()), Ok("s3://b1/x".into()));
        assert_eq!(expand("${BUCKET}suffix", &env()), Ok("b1suffix".into()));
        assert_eq!(expand("cost: $$5 ${_X9}", &env()), Ok("cost: $5 $HOME".into()));
        assert_eq!(expand("no references", &env()), Ok("no references".into()));
    }

    #[test]
    fn reports_missing_and_malformed_references() {
        assert_eq!(expand("$NOPE/x", &env()), Err(ExpandError::Missing("NOPE".into())));
        for bad in ["trailing $", "${BUCKET", "${}", "$1abc", "${a-b}", "ü$ü"] {
            assert!(matches!(expand(bad, &env()), Err(ExpandError::Malformed(_))), "{bad}");
        }
    }
}
