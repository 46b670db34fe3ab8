//! The states of runs and tasks and the levels of log lines, as the run records store them: one word of text
//! each, so that the file stays readable with any SQLite client and files written by earlier versions still read.
//! Each enum's [`as_str`](RunState::as_str) is that word, and is also what `Display` prints and what JSON holds,
//! so `runs list`, `runs show` and `runs show --json` say exactly what the file says.
//!
//! A file written by a newer version can hold a word this version does not know; reading it gives
//! [`UnknownValue`], naming the word, rather than a panic or a guess.

use std::fmt;
use std::str::FromStr;

use rusqlite::types::{FromSql, FromSqlError, FromSqlResult, ToSql, ToSqlOutput, ValueRef};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Stored text that names no variant of a [`RunState`], [`TaskState`] or [`LogLevel`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {kind} '{value}' (this version knows {})", known.join(", "))]
pub struct UnknownValue {
    /// What the text should have been: `run state`, `task state` or `log level`.
    pub kind: &'static str,
    /// The stored word this version does not know.
    pub value: String,
    /// Every text this version knows for `kind`.
    pub known: &'static [&'static str],
}

/// An enum stored as one word of text: the word of each variant, and everything that reads or writes it (text,
/// `Display`, JSON, SQLite) taken from that one list so they cannot disagree.
macro_rules! stored_as_text {
    (
        $(#[$meta:meta])*
        pub enum $name:ident ($kind:literal) {
            $($(#[$variant_meta:meta])* $variant:ident => $text:literal,)+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[$variant_meta])* $variant,)+
        }

        impl $name {
            /// Every stored text, in the order of the variants.
            pub const TEXTS: &'static [&'static str] = &[$($text),+];

            /// The text the records store.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)+
                }
            }
        }

        impl FromStr for $name {
            type Err = UnknownValue;

            fn from_str(text: &str) -> Result<$name, UnknownValue> {
                match text {
                    $($text => Ok($name::$variant),)+
                    _ => Err(UnknownValue { kind: $kind, value: text.to_string(), known: $name::TEXTS }),
                }
            }
        }

        /// The stored text; width and alignment apply, for tables.
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.pad(self.as_str())
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<$name, D::Error> {
                let text = String::deserialize(deserializer)?;
                text.parse().map_err(serde::de::Error::custom)
            }
        }

        impl ToSql for $name {
            fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
                Ok(ToSqlOutput::from(self.as_str()))
            }
        }

        impl FromSql for $name {
            fn column_result(value: ValueRef<'_>) -> FromSqlResult<$name> {
                value.as_str()?.parse().map_err(FromSqlError::other)
            }
        }
    };
}

stored_as_text! {
    /// Where a run is.
    pub enum RunState("run state") {
        /// Started and not finished: its process is working on it, or died on another host (only the host that
        /// ran it can tell, see `interrupted`).
        Running => "running",
        /// Every task done, the outputs and the manifest published.
        Succeeded => "succeeded",
        /// A task or the publishing failed: nothing published, the manifest is under `failed-runs/`.
        Failed => "failed",
        /// Its process ended without finishing it (killed, machine lost), found when the records were next opened
        /// on its host.
        Interrupted => "interrupted",
    }
}

stored_as_text! {
    /// Where a task of a run is.
    pub enum TaskState("task state") {
        /// Planned when the run started and not reached yet; it stays so when an earlier task failed.
        Pending => "pending",
        /// Being executed (its cache was looked at and held nothing).
        Running => "running",
        /// An attempt failed with a transient error (a storage timeout, a dropped connection); the next attempt
        /// starts after a pause.
        Retrying => "retrying",
        /// Executed, its artifact complete.
        Succeeded => "succeeded",
        /// Not executed: its artifact was already complete under its cache key.
        Cached => "cached",
        /// Its last attempt failed, or its cache could not be looked at.
        Failed => "failed",
        /// Running when its run's process ended without finishing it.
        Interrupted => "interrupted",
    }
}

stored_as_text! {
    /// How much a recorded log line matters.
    pub enum LogLevel("log level") {
        /// What happened: a task started, was found in the cache, ended.
        Info => "info",
        /// A failure that will be retried.
        Warn => "warn",
        /// A task or the run failed.
        Error => "error",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `value` is stored, printed, serialized and parsed as `text`.
    fn assert_round_trip<T>(value: T, text: &str)
    where
        T: FromStr<Err = UnknownValue> + fmt::Display + Serialize + ToSql + FromSql + Copy + PartialEq + fmt::Debug,
    {
        assert_eq!(text.parse::<T>(), Ok(value));
        assert_eq!(value.to_string(), text);
        assert_eq!(serde_json::to_value(value).unwrap(), serde_json::Value::from(text));
        let stored = value.to_sql().unwrap();
        assert_eq!(stored, ToSqlOutput::from(text));
        assert_eq!(T::column_result(ValueRef::Text(text.as_bytes())).unwrap(), value);
    }

    #[test]
    fn every_run_state_reads_back_as_the_text_earlier_versions_stored() {
        let states = [
            (RunState::Running, "running"),
            (RunState::Succeeded, "succeeded"),
            (RunState::Failed, "failed"),
            (RunState::Interrupted, "interrupted"),
        ];
        for (state, text) in states {
            assert_eq!(state.as_str(), text);
            assert_round_trip(state, text);
        }
        assert_eq!(RunState::TEXTS, states.map(|(_, text)| text), "every variant is listed above");
    }

    #[test]
    fn every_task_state_reads_back_as_the_text_earlier_versions_stored() {
        let states = [
            (TaskState::Pending, "pending"),
            (TaskState::Running, "running"),
            (TaskState::Retrying, "retrying"),
            (TaskState::Succeeded, "succeeded"),
            (TaskState::Cached, "cached"),
            (TaskState::Failed, "failed"),
            (TaskState::Interrupted, "interrupted"),
        ];
        for (state, text) in states {
            assert_eq!(state.as_str(), text);
            assert_round_trip(state, text);
        }
        assert_eq!(TaskState::TEXTS, states.map(|(_, text)| text), "every variant is listed above");
    }

    #[test]
    fn every_log_level_reads_back_as_the_text_earlier_versions_stored() {
        let levels = [(LogLevel::Info, "info"), (LogLevel::Warn, "warn"), (LogLevel::Error, "error")];
        for (level, text) in levels {
            assert_eq!(level.as_str(), text);
            assert_round_trip(level, text);
        }
        assert_eq!(LogLevel::TEXTS, levels.map(|(_, text)| text), "every variant is listed above");
    }

    #[test]
    fn unknown_text_is_a_typed_error_naming_it() {
        let error = "exploded".parse::<TaskState>().unwrap_err();
        assert_eq!((error.kind, error.value.as_str()), ("task state", "exploded"));
        assert_eq!(
            error.to_string(),
            "unknown task state 'exploded' (this version knows pending, running, retrying, succeeded, cached, \
             failed, interrupted)"
        );
        // Stored text is matched exactly: no case folding, no trimming.
        assert_eq!("Running".parse::<RunState>().unwrap_err().value, "Running");
        assert_eq!("warn ".parse::<LogLevel>().unwrap_err().kind, "log level");
        let from_sql = RunState::column_result(ValueRef::Text(b"paused")).unwrap_err();
        let FromSqlError::Other(cause) = from_sql else { panic!("{from_sql:?}") };
        assert_eq!(cause.downcast_ref::<UnknownValue>().map(|e| e.value.as_str()), Some("paused"));
    }

    #[test]
    fn display_pads_like_text_for_tables() {
        assert_eq!(format!("[{:<11}]", TaskState::Cached), "[cached     ]");
        assert_eq!(format!("[{:>5}]", LogLevel::Warn), "[ warn]");
    }
}
