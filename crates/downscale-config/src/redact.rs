//! Hiding secrets when configuration is shown or quoted in an error.
//!
//! Storage credentials are configuration like any other, so anything that
//! prints configuration must hide them. A key is secret by its last segment's
//! name; an environment reference (`$AZURE_STORAGE_CONNECTION_STRING`) under
//! such a key is shown, because it is how a secret is *meant* to be written
//! and seeing it confirms the setup. Independently, a password in a URI's
//! userinfo is hidden wherever the URI appears.

use serde_json::Value as Json;

use downscale_message::escape_controls;

/// What replaces a hidden value.
pub(crate) const REDACTED: &str = "<redacted>";

const SECRET_WORDS: [&str; 6] = ["secret", "password", "token", "credential", "connection_string", "sas"];

/// Whether the value at dotted `key` is secret, judged by its last segment.
pub(crate) fn is_secret_key(key: &str) -> bool {
    let last = key.rsplit('.').next().unwrap_or(key).to_ascii_lowercase().replace('-', "_");
    last.ends_with("key") || SECRET_WORDS.iter().any(|word| last.contains(word))
}

/// Whether `text` is nothing but one `$NAME` or `${NAME}` reference.
pub(crate) fn is_env_reference(text: &str) -> bool {
    let Some(rest) = text.strip_prefix('$') else { return false };
    let name = rest.strip_prefix('{').and_then(|inner| inner.strip_suffix('}')).unwrap_or(rest);
    crate::expand::is_variable_name(name)
}

/// A value as it may be shown: secrets hidden, URI passwords hidden.
pub(crate) fn shown_value(key: &str, value: &Json) -> Json {
    if is_secret_key(key) && !value.as_str().is_some_and(is_env_reference) {
        return Json::String(REDACTED.to_owned());
    }
    hide_uri_passwords(value)
}

/// Raw text as it may be quoted in an error message: secrets and URI
/// passwords hidden, control characters escaped, and a long value shortened
/// (see [`quoted`]).
pub(crate) fn shown_text(key: &str, raw: &str) -> String {
    if is_secret_key(key) && !is_env_reference(raw) { REDACTED.to_owned() } else { quoted(&hide_uri_password(raw)) }
}

/// A `KEY=VALUE` assignment as it may be quoted; text without `=` has only
/// URI passwords hidden (and is escaped and shortened like a value).
pub(crate) fn shown_assignment(text: &str) -> String {
    match text.split_once('=') {
        Some((key, value)) => {
            format!("{}={}", escape_controls(key), shown_text(&crate::tree::normalise_key(key), value))
        }
        None => quoted(&hide_uri_password(text)),
    }
}

/// Most characters of a value quoted in an error message.
const QUOTED_CHARS: usize = 80;

/// `text` fit for a one-line message: control characters escaped, and only
/// its first [`QUOTED_CHARS`] characters with its length when it is longer,
/// so a 70,000-character `--set` value does not become a 70,000-character
/// error line.
fn quoted(text: &str) -> String {
    let length = text.chars().count();
    if length <= QUOTED_CHARS {
        return escape_controls(text);
    }
    let start: String = text.chars().take(QUOTED_CHARS).collect();
    format!("{}… ({length} characters)", escape_controls(&start))
}

fn hide_uri_passwords(value: &Json) -> Json {
    match value {
        Json::String(text) => Json::String(hide_uri_password(text)),
        Json::Array(items) => Json::Array(items.iter().map(hide_uri_passwords).collect()),
        Json::Object(map) => Json::Object(map.iter().map(|(k, v)| (k.clone(), shown_value(k, v))).collect()),
        other => other.clone(),
    }
}

/// `scheme://user:pass@host/path` → `scheme://user:<redacted>@host/path`;
/// text without a password in a URI's userinfo is returned unchanged.
pub fn hide_uri_password(text: &str) -> String {
    let Some(scheme_end) = text.find("://") else { return text.to_owned() };
    let authority_start = scheme_end + 3;
    let rest = &text[authority_start..];
    let authority_len = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..authority_len];
    let Some(at) = authority.rfind('@') else { return text.to_owned() };
    let Some(colon) = authority[..at].find(':') else { return text.to_owned() };
    let password_start = authority_start + colon + 1;
    let password_end = authority_start + at;
    format!("{}{REDACTED}{}", &text[..password_start], &text[password_end..])
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn secret_keys_by_last_segment() {
        for key in [
            "storage.results.options.azure_storage_connection_string",
            "storage.results.options.aws_secret_access_key",
            "storage.results.options.account_key",
            "key",
            "x.ACCOUNT-KEY",
            "x.sas_token",
            "x.azure_storage_sas",
            "x.password",
            "x.client_credentials",
        ] {
            assert!(is_secret_key(key), "{key}");
        }
        for key in ["storage.results.uri", "storage.results.options.aws_access_key_id", "x.keys", "key.uri"] {
            assert!(!is_secret_key(key), "{key}");
        }
    }

    #[test]
    fn references_stay_visible_and_literals_do_not() {
        let key = "a.account_key";
        assert_eq!(shown_value(key, &json!("$AZ_KEY")), json!("$AZ_KEY"));
        assert_eq!(shown_value(key, &json!("${AZ_KEY}")), json!("${AZ_KEY}"));
        assert_eq!(shown_value(key, &json!("abc$AZ_KEY")), json!(REDACTED));
        assert_eq!(shown_value(key, &json!(12)), json!(REDACTED));
        assert_eq!(shown_text(key, "hunter2"), REDACTED);
        assert_eq!(shown_value("a.uri", &json!("plain")), json!("plain"));
        assert_eq!(shown_assignment("x.sas-token=abc=="), "x.sas-token=<redacted>");
        assert_eq!(shown_assignment("x.uri=s3://u:p@h"), "x.uri=s3://u:<redacted>@h");
    }

    #[test]
    fn uri_passwords_are_hidden() {
        assert_eq!(hide_uri_password("s3://user:pa:ss@host/x?y=1"), "s3://user:<redacted>@host/x?y=1");
        assert_eq!(hide_uri_password("https://user@host/x"), "https://user@host/x");
        assert_eq!(hide_uri_password("https://host/a:b@c"), "https://host/a:b@c");
        assert_eq!(hide_uri_password("no uri: here@x"), "no uri: here@x");
        assert_eq!(hide_uri_password("ü://ü:ü@ü"), "ü://ü:<redacted>@ü");
        assert_eq!(shown_value("a.args", &json!(["ftp://u:p@h"])), json!(["ftp://u:<redacted>@h"]));
    }
}
