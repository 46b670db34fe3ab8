//! Shared fixtures: a temporary system and user directory and an explicit
//! environment, so no test reads or changes the real ones.

use std::path::{Path, PathBuf};

use downscale_config::{Config, ConfigError, Sources, load};

pub(crate) struct Fixture {
    pub dir: tempfile::TempDir,
    pub sources: Sources,
}

impl Fixture {
    pub(crate) fn new() -> Fixture {
        let dir = tempfile::tempdir().expect("temporary directory");
        let sources = Sources {
            system_dir: Some(dir.path().join("etc")),
            user_dir: Some(dir.path().join("user")),
            ..Sources::default()
        };
        Fixture { dir, sources }
    }

    /// Writes `text` to `relative` under the fixture directory (creating
    /// parents) and returns the full path.
    pub(crate) fn write(&self, relative: &str, text: &str) -> PathBuf {
        let path = self.dir.path().join(relative);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("create parent");
        std::fs::write(&path, text).expect("write file");
        path
    }

    pub(crate) fn path(&self, relative: &str) -> PathBuf {
        self.dir.path().join(relative)
    }

    pub(crate) fn env(&mut self, name: &str, value: &str) -> &mut Fixture {
        self.sources.env.insert(name.to_owned(), value.to_owned());
        self
    }

    pub(crate) fn set(&mut self, text: &str) -> &mut Fixture {
        self.sources.overrides.push(text.to_owned());
        self
    }

    pub(crate) fn config_file(&mut self, path: &Path) -> &mut Fixture {
        self.sources.files.push(path.to_owned());
        self
    }

    pub(crate) fn load(&self) -> Config {
        load(&self.sources).unwrap_or_else(|e| panic!("load failed: {e}"))
    }

    pub(crate) fn error(&self) -> ConfigError {
        match load(&self.sources) {
            Ok(config) => panic!("load succeeded: {}", config.show_text()),
            Err(e) => e,
        }
    }
}
