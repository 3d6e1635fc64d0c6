//! Where the data, the database and the keys are, from flags and env. Opening the store here is
//! the one path every subcommand takes, so they all check the keys the same way.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use dangjian_store::{DbTarget, Keys, Store, SystemClock};

#[derive(Clone, Debug, clap::Args)]
pub struct DataArgs {
    /// Data directory: the SQLite database (dangjian.db) and the key file (keys.json) live here.
    #[arg(long, env = "DANGJIAN_DATA", default_value = "./data")]
    pub data: PathBuf,
    /// Use PostgreSQL instead of the embedded SQLite: postgres://user@host/db
    #[arg(long, env = "DANGJIAN_DB", hide_env_values = true)]
    pub db: Option<String>,
    /// Key file (default: DATA/keys.json). The env vars DANGJIAN_ENCRYPTION_KEY, DANGJIAN_INDEX_KEY
    /// and DANGJIAN_SIGNING_KEY take precedence when all three are set.
    #[arg(long, env = "DANGJIAN_KEYS")]
    pub keys: Option<PathBuf>,
}

impl DataArgs {
    pub fn target(&self) -> anyhow::Result<DbTarget> {
        match &self.db {
            Some(url) => DbTarget::parse(url),
            None => Ok(DbTarget::SqliteFile(self.data.join("dangjian.db"))),
        }
    }

    pub fn key_path(&self) -> PathBuf {
        self.keys.clone().unwrap_or_else(|| self.data.join("keys.json"))
    }

    /// The keys from env or the key file; on a first start (no key file, a database without a
    /// fingerprint) a new key file is generated — never over an existing one.
    pub async fn load_keys(&self, may_generate: bool) -> anyhow::Result<Keys> {
        if let Some(k) = Keys::from_env()? {
            return Ok(k);
        }
        let path = self.key_path();
        if path.exists() {
            return Keys::read_file(&path);
        }
        if !may_generate {
            anyhow::bail!(
                "no keys: {} does not exist and DANGJIAN_*_KEY are not set (run `dangjian keys generate`)",
                path.display()
            );
        }
        ensure_dir(path.parent().unwrap_or(Path::new(".")))?;
        let keys = Keys::generate();
        keys.write_new_file(&path)?;
        tracing::warn!(
            key.fingerprint = %keys.fingerprint(),
            "generated new keys in {}: back this file up — without it encrypted fields cannot be read",
            path.display()
        );
        Ok(keys)
    }

    pub async fn open(&self) -> anyhow::Result<Store> {
        let target = self.target()?;
        if let DbTarget::SqliteFile(p) = &target {
            ensure_dir(p.parent().unwrap_or(Path::new(".")))?;
        }
        // a new SQLite database may get new keys; an existing one (or PostgreSQL, shared by
        // nodes) must be given its keys
        let fresh_sqlite = matches!(&target, DbTarget::SqliteFile(p) if !p.exists());
        let keys = self.load_keys(fresh_sqlite || self.db.is_some()).await?;
        Store::open(&target, keys, Arc::new(SystemClock)).await
    }
}

pub fn ensure_dir(dir: &Path) -> anyhow::Result<()> {
    if dir.as_os_str().is_empty() {
        return Ok(());
    }
    std::fs::create_dir_all(dir).with_context(|| format!("creating directory {}", dir.display()))
}
