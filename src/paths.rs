//! Where things live. `$CAMPAIGN_HOME` puts everything (database, config, outbox, output)
//! under one folder, which makes an isolated install; otherwise the platform directories.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::fsutil::Files;
use crate::store::DbLocation;

#[derive(Debug, Clone)]
pub struct Paths {
    pub data_dir: PathBuf,
    pub config_dir: PathBuf,
    /// The database file.
    pub db: PathBuf,
    /// Where the database is, as the store opens it.
    pub location: DbLocation,
    /// What no output may land on: the database and its companions, the account file,
    /// and (see [`Paths::with_inputs`]) the files the command reads.
    files: Files,
}

impl Paths {
    /// Resolves the paths: `--db` (or `$CAMPAIGN_DB`, which clap folds into `db_flag`),
    /// else `campaigns.db` under `$CAMPAIGN_HOME`, else under the platform data directory.
    pub fn resolve(db_flag: Option<&Path>) -> Result<Self> {
        let (data_dir, config_dir) = match std::env::var_os("CAMPAIGN_HOME")
            .filter(|v| !v.is_empty())
        {
            Some(home) => {
                let home = PathBuf::from(home);
                (home.clone(), home)
            }
            None => {
                let dirs = directories::ProjectDirs::from("org", "HereToStay", "campaign").ok_or_else(|| {
                    Error::Invalid(
                        "cannot find a home directory for the database: set CAMPAIGN_HOME or pass --db".into(),
                    )
                })?;
                (
                    dirs.data_dir().to_path_buf(),
                    dirs.config_dir().to_path_buf(),
                )
            }
        };
        let location = match db_flag {
            Some(flag) => DbLocation::parse(flag.as_os_str())?,
            None => DbLocation::Sqlite(data_dir.join("campaigns.db")),
        };
        let db = location.file().map(Path::to_path_buf).unwrap_or_default();
        let mut paths = Paths {
            data_dir,
            config_dir,
            db,
            location,
            files: Files::new(),
        };
        paths.files.protect_database(&paths.db);
        paths
            .files
            .protect(paths.config_file(), "your account file");
        Ok(paths)
    }

    /// Also protects the files the command reads (`--from`, `--picture`, ...), each with
    /// what it is ("the CSV file --from imports").
    pub fn with_inputs(mut self, inputs: impl IntoIterator<Item = (PathBuf, String)>) -> Self {
        for (path, what) in inputs {
            self.files.protect(path, what);
        }
        self
    }

    /// The one way to write a file: refuses every protected path (see [`Files`]).
    pub fn files(&self) -> &Files {
        &self.files
    }

    /// The organizer's account and settings.
    pub fn config_file(&self) -> PathBuf {
        self.config_dir.join("config.toml")
    }

    /// Emails waiting to be sent (`.eml` files).
    pub fn outbox_dir(&self) -> PathBuf {
        self.data_dir.join("outbox")
    }

    /// Emails sent.
    pub fn sent_dir(&self) -> PathBuf {
        self.data_dir.join("sent")
    }

    /// Default folder for generated documents (paper forms, deliveries).
    pub fn documents_dir(&self) -> PathBuf {
        self.data_dir.join("documents")
    }
}
