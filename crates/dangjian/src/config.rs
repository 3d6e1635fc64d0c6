//! Where the data, the database and the keys are, from flags and env. Opening the store here is
//! the one path every subcommand takes, so they all check the keys the same way.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use dangjian_store::{Clock, DbTarget, Keys, LocalTime, Settings, ShiftedClock, Store, SystemClock};

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

    /// Opens the store with the default settings (the subcommands that judge nothing).
    pub async fn open(&self) -> anyhow::Result<Store> {
        self.open_with(Arc::new(SystemClock), Settings::default()).await
    }

    /// Opens the store on the clock `today` gives (see [`demo_clock`]), with `settings`.
    pub async fn open_on(&self, today: Option<&str>, settings: Settings) -> anyhow::Result<Store> {
        self.open_with(demo_clock(today)?, settings).await
    }

    async fn open_with(&self, clock: Arc<dyn Clock>, settings: Settings) -> anyhow::Result<Store> {
        let target = self.target()?;
        if let DbTarget::SqliteFile(p) = &target {
            ensure_dir(p.parent().unwrap_or(Path::new(".")))?;
        }
        // a new SQLite database may get new keys; an existing one (or PostgreSQL, shared by
        // nodes) must be given its keys
        let fresh_sqlite = matches!(&target, DbTarget::SqliteFile(p) if !p.exists());
        let keys = self.load_keys(fresh_sqlite || self.db.is_some()).await?;
        Store::open_with(&target, keys, clock, settings).await
    }
}

/// The deployment's settings (`dangjian_store::Settings`), from flags and env; `serve` builds
/// them once and gives them to the store.
#[derive(Clone, Debug, clap::Args)]
pub struct SettingsArgs {
    /// Minutes after a meeting's start before a first check-in counts as late.
    #[arg(long, env = "DANGJIAN_LATE_GRACE_MINUTES", default_value_t = 5)]
    pub late_grace_minutes: i64,
    /// Check-ins are accepted from this many minutes before a meeting's start (earlier:
    /// staff and devices must confirm, members are refused).
    #[arg(long, env = "DANGJIAN_CHECKIN_OPENS_MINUTES", default_value_t = 120)]
    pub checkin_opens_minutes: i64,
    /// A device's `at` further than this from the server's receipt time is recorded, but
    /// the server's time decides lateness.
    #[arg(long, env = "DANGJIAN_DEVICE_CLOCK_TOLERANCE_SECONDS", default_value_t = 120)]
    pub device_clock_tolerance_seconds: i64,
    /// Leave an audit row each time someone is shown full member records (ID number, phone,
    /// birth date): the record, the API list, the page, the roster export. `false` turns it off.
    #[arg(long, env = "DANGJIAN_AUDIT_FULL_READS", default_value_t = true, action = clap::ArgAction::Set)]
    pub audit_full_reads: bool,
}

impl SettingsArgs {
    pub fn settings(&self) -> Settings {
        let mut s = Settings::default().with_checkin(
            self.late_grace_minutes,
            self.checkin_opens_minutes,
            self.device_clock_tolerance_seconds,
        );
        s.audit_full_reads = self.audit_full_reads;
        s
    }
}

/// The system clock, or with `--today` a clock that starts on that day (10:00 local) or at that
/// RFC 3339 instant and runs on from there: demo data and everything the server does then are as
/// on that date.
pub fn demo_clock(today: Option<&str>) -> anyhow::Result<Arc<dyn Clock>> {
    match today {
        None => Ok(Arc::new(SystemClock)),
        Some(raw) => {
            let start = dangjian_store::clock::parse_start(raw, LocalTime::default())
                .map_err(|e| anyhow::anyhow!("--today: {e}"))?;
            tracing::warn!(clock.start = %start, "the clock starts at --today, not at the real time");
            Ok(Arc::new(ShiftedClock::starting_at(start)))
        }
    }
}

pub fn ensure_dir(dir: &Path) -> anyhow::Result<()> {
    if dir.as_os_str().is_empty() {
        return Ok(());
    }
    std::fs::create_dir_all(dir).with_context(|| format!("creating directory {}", dir.display()))
}
