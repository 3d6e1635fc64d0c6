//! Storage for dangjian on SQLite or PostgreSQL: schema and migrations for both engines, the
//! queries (written once), transactions with their audit rows, and the key check.

#[macro_use]
pub mod db;
pub mod account;
pub mod audit;
pub mod backup;
pub mod clock;
pub mod dues;
pub mod error;
pub mod keys;
pub mod meeting;
pub mod migrate;
pub mod org;
pub mod paths;
pub mod person;
pub mod rotate;
pub mod scope;
pub mod settings;

use std::sync::Arc;

use anyhow::bail;
use time::{Date, OffsetDateTime};

pub use audit::Actor;
pub use clock::{Clock, FixedClock, LocalTime, ShiftedClock, SystemClock};
pub use db::{Db, DbTarget, Engine};
pub use error::{StoreError, StoreResult};
pub use keys::Keys;
pub use scope::{Cap, Grants, Role, Scope};
pub use settings::Settings;

/// The store: a pool, the keys, the clock, the local calendar and the deployment's settings.
/// Cheap to clone.
#[derive(Clone)]
pub struct Store {
    pub db: Db,
    pub keys: Arc<Keys>,
    pub clock: Arc<dyn Clock>,
    pub local: LocalTime,
    /// The deployment's settings, as given at open.
    settings: Arc<Settings>,
    /// The node's check-in writer (one per store, shared by its clones).
    pub checkins: Arc<meeting::writer::CheckinWriter>,
    /// Bearer-token callers recently seen (see `Accounts::token_auth`).
    pub auth_cache: Arc<account::AuthCache>,
    /// The audit chain's key, given to every write transaction (`Store::begin`).
    chain_key: Arc<audit::ChainKey>,
    /// When this node last swept old login-limit rows (unix seconds).
    pub login_sweep: Arc<std::sync::atomic::AtomicI64>,
}

/// Per-feature handles: a feature's operations are found under its name
/// (`store.meetings().attendance(..)`, `store.dues().member_dues(..)`), so `Store` itself keeps
/// only what every feature shares (the pool, keys, clock, settings, transactions). A handle is a
/// borrowed view of the store and derefs to it.
macro_rules! handles {
    ($($(#[$doc:meta])* $name:ident => $get:ident),* $(,)?) => {$(
        $(#[$doc])*
        #[derive(Clone, Copy)]
        pub struct $name<'a>(&'a Store);

        impl std::ops::Deref for $name<'_> {
            type Target = Store;
            fn deref(&self) -> &Store {
                self.0
            }
        }

        impl Store {
            pub fn $get(&self) -> $name<'_> {
                $name(self)
            }
        }
    )*};
}

handles! {
    /// The organization tree, its history and posts.
    Orgs => orgs,
    /// Member records, status events and the roster import.
    Members => members,
    /// Logins, grants, sessions, tokens and login limits.
    Accounts => accounts,
    /// Meetings: planning, leave, check-in, attendance, minutes, seats and the ledger.
    Meetings => meetings,
    /// Dues: bases, bills, payments, hardship, arrears and reports.
    Dues => dues,
}

impl Store {
    /// [`Store::open_with`] the default settings.
    pub async fn open(target: &DbTarget, keys: Keys, clock: Arc<dyn Clock>) -> anyhow::Result<Self> {
        Self::open_with(target, keys, clock, Settings::default()).await
    }

    /// Connects, migrates, and checks that `keys` are the ones this database was set up with
    /// (recording their fingerprint on first start). A mismatch is refused, saying why.
    /// `settings` hold for this store and its clones only.
    pub async fn open_with(
        target: &DbTarget,
        keys: Keys,
        clock: Arc<dyn Clock>,
        settings: Settings,
    ) -> anyhow::Result<Self> {
        let db = Db::connect(target).await?;
        migrate::migrate(&db).await?;
        audit::ensure_head(&db).await?;
        check_fingerprint(&db, &keys).await?;
        audit::upgrade_chain(&db, &keys).await?;
        audit::upgrade_to_chains(&db, &keys).await?;
        Ok(Self {
            chain_key: Arc::new(audit::ChainKey::of(&keys)),
            db,
            keys: Arc::new(keys),
            clock,
            local: LocalTime::default(),
            settings: Arc::new(settings),
            checkins: Arc::default(),
            auth_cache: Arc::default(),
            login_sweep: Arc::default(),
        })
    }

    /// A write transaction whose audit rows are chained under this store's keys. Its `commit`
    /// fails (and rolls back) unless it appended at least one (`tx.audit(…)…append()`, or the
    /// last one with the commit: `tx.into_audit(…)…commit()`).
    pub async fn begin(&self) -> Result<db::Tx, sqlx::Error> {
        let mut tx = self.db.begin_tx().await?;
        tx.audit_key = Some(self.chain_key.clone());
        Ok(tx)
    }

    /// [`Store::begin`], with the instant its change is recorded at (the audit row's time and
    /// the rows' timestamps), read just before it starts.
    pub async fn begin_now(&self) -> Result<(db::Tx, OffsetDateTime), sqlx::Error> {
        let now = self.now();
        Ok((self.begin().await?, now))
    }

    /// A write transaction that is rightly not audited, `why` saying so at the call site
    /// (sessions, login-limit rows, a token's last use, a user's UI language). It cannot append
    /// audit rows.
    pub async fn begin_unaudited(&self, why: &'static str) -> Result<db::Tx, sqlx::Error> {
        self.db.begin_unaudited(why).await
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// The deployment's late grace (`Settings::grace`).
    pub fn grace(&self) -> time::Duration {
        self.settings.grace()
    }

    pub fn now(&self) -> OffsetDateTime {
        clock::truncate_micros(self.clock.now_utc())
    }

    pub fn today(&self) -> Date {
        self.local.today(self.clock.as_ref())
    }

    /// Whether the database holds no organization yet (a new database, for `--demo`).
    pub async fn is_empty(&self) -> StoreResult<bool> {
        let n: i64 =
            with_db!(&self.db, p => sqlx::query_scalar("SELECT COUNT(*) FROM org").fetch_one(p).await)?;
        Ok(n == 0)
    }
}

async fn check_fingerprint(db: &Db, keys: &Keys) -> anyhow::Result<()> {
    let fp = keys.fingerprint();
    let mut tx = db.begin_unaudited("the key check").await?;
    let stored: Option<String> = with_tx!(&mut tx, c => sqlx::query_scalar(
        "SELECT value FROM meta WHERE key = 'key_fingerprint'").fetch_optional(c).await)?;
    match stored {
        None => {
            with_tx!(&mut tx, c => sqlx::query("INSERT INTO meta (key, value) VALUES ('key_fingerprint', $1)")
                .bind(&fp).execute(c).await.map(|r| r.rows_affected()))?;
            tx.commit().await?;
            Ok(())
        }
        Some(s) if s == fp => Ok(()),
        Some(s) => bail!(
            "refusing to start: this node's keys (fingerprint {fp}) are not the keys this database was set up with \
             (fingerprint {s}). Every node must use the same key file or DANGJIAN_*_KEY values; see docs/deployment.md"
        ),
    }
}
