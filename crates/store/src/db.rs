//! The one place where the two engines differ. Queries are written once with `$1` placeholders
//! (both engines accept them) and run through `with_db!`/`with_tx!`, which expand the same code
//! for each pool type — so there is no `Any` driver and every type (dates, times) decodes natively.

use std::str::FromStr;
use std::time::Duration;

use anyhow::Context;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgPool, SqlitePool};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

#[derive(Clone)]
pub enum Db {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// A write transaction. An audited one (`Store::begin`) carries the key its audit rows are
/// chained under and counts the rows appended: its `commit` fails, and rolls back, when none
/// was — so a change cannot be committed without its audit row. An unaudited one
/// (`Store::begin_unaudited`, `Db::begin_unaudited`) says at its call site why it needs none, and
/// refuses audit rows (they could not be chained without the key).
pub struct Tx {
    pub conn: TxConn,
    pub(crate) audit_key: Option<std::sync::Arc<crate::audit::ChainKey>>,
    /// Audit rows appended so far.
    pub(crate) appended: u32,
    /// Why this transaction writes no audit row (None: it must write one).
    pub(crate) unaudited: Option<&'static str>,
}

pub enum TxConn {
    Sqlite(sqlx::Transaction<'static, sqlx::Sqlite>),
    Postgres(sqlx::Transaction<'static, sqlx::Postgres>),
}

/// Runs `$body` with `$c` bound to the pool of whichever engine `$db` is.
#[macro_export]
macro_rules! with_db {
    ($db:expr, $c:ident => $body:expr) => {
        match $db {
            $crate::db::Db::Sqlite($c) => $body,
            $crate::db::Db::Postgres($c) => $body,
        }
    };
}

/// Runs `$body` with `$c` bound to the transaction's connection.
#[macro_export]
macro_rules! with_tx {
    ($tx:expr, $c:ident => $body:expr) => {
        match &mut ($tx).conn {
            $crate::db::TxConn::Sqlite(t) => {
                let $c = &mut **t;
                $body
            }
            $crate::db::TxConn::Postgres(t) => {
                let $c = &mut **t;
                $body
            }
        }
    };
}

/// `ids` as the text of an SQL list (`3,4,9`) for `IN (…)`: integers only (from our own rows and
/// paths), so they may be written into the statement, which then serves any number of them.
pub(crate) fn id_list(ids: impl IntoIterator<Item = i64>) -> String {
    let ids: Vec<String> = ids.into_iter().map(|i| i.to_string()).collect();
    ids.join(",")
}

/// The placeholders `$first, …, $(first + n - 1)`: one row of a multi-row INSERT, or an `IN (…)`
/// list whose values are bound.
pub(crate) fn placeholders(first: usize, n: usize) -> String {
    let list: Vec<String> = (first..first + n).map(|i| format!("${i}")).collect();
    list.join(", ")
}

/// Where the database is. A `postgres://` URL is PostgreSQL; anything else must be a SQLite file
/// path (created if missing). Ambiguous values are refused rather than guessed.
#[derive(Clone)]
pub enum DbTarget {
    SqliteFile(std::path::PathBuf),
    Postgres(String),
}

impl std::fmt::Debug for DbTarget {
    // never print a connection URL: it may carry a password
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DbTarget::SqliteFile(p) => write!(f, "SqliteFile({})", p.display()),
            DbTarget::Postgres(_) => f.write_str("Postgres(<redacted>)"),
        }
    }
}

impl DbTarget {
    pub fn parse(s: &str) -> anyhow::Result<Self> {
        if s.starts_with("postgres://") || s.starts_with("postgresql://") {
            Ok(DbTarget::Postgres(s.to_owned()))
        } else if let Some(path) = s.strip_prefix("sqlite://") {
            Ok(DbTarget::SqliteFile(path.into()))
        } else if s.contains("://") {
            anyhow::bail!("unsupported database URL scheme (use postgres://… or a SQLite file path)")
        } else {
            Ok(DbTarget::SqliteFile(s.into()))
        }
    }
}

/// Makes a file readable and writable by its owner only (the database, its WAL and shared-memory
/// files, backups): whatever the process's umask, no other account on the machine reads them.
pub fn owner_only(path: &std::path::Path) -> anyhow::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if path.exists() {
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
                .with_context(|| format!("making {} readable by its owner only", path.display()))?;
        }
    }
    let _ = path;
    Ok(())
}

impl Db {
    pub async fn connect(target: &DbTarget) -> anyhow::Result<Self> {
        match target {
            DbTarget::SqliteFile(path) => {
                // created owner-only before SQLite opens it (SQLite gives its -wal and -shm
                // files the database file's mode)
                if !path.exists() {
                    let mut opts = std::fs::OpenOptions::new();
                    opts.write(true).create_new(true);
                    #[cfg(unix)]
                    {
                        use std::os::unix::fs::OpenOptionsExt;
                        opts.mode(0o600);
                    }
                    opts.open(path)
                        .with_context(|| format!("creating SQLite database {}", path.display()))?;
                }
                owner_only(path)?;
                let opts = SqliteConnectOptions::new()
                    .filename(path)
                    .create_if_missing(true)
                    .journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Full)
                    .foreign_keys(true)
                    .busy_timeout(Duration::from_secs(10));
                let pool = SqlitePoolOptions::new()
                    .max_connections(8)
                    .connect_with(opts)
                    .await
                    .with_context(|| format!("opening SQLite database {}", path.display()))?;
                for suffix in ["-wal", "-shm"] {
                    let mut side = path.clone().into_os_string();
                    side.push(suffix);
                    owner_only(std::path::Path::new(&side))?;
                }
                Ok(Db::Sqlite(pool))
            }
            DbTarget::Postgres(url) => {
                let opts = PgConnectOptions::from_str(url).context("parsing the PostgreSQL URL")?;
                let pool = PgPoolOptions::new()
                    .max_connections(16)
                    .acquire_timeout(Duration::from_secs(10))
                    .connect_with(opts)
                    .await
                    .context("connecting to PostgreSQL")?;
                Ok(Db::Postgres(pool))
            }
        }
    }

    pub fn engine(&self) -> Engine {
        match self {
            Db::Sqlite(_) => Engine::Sqlite,
            Db::Postgres(_) => Engine::Postgres,
        }
    }

    /// A write transaction that writes no audit row, `why` naming the reason (migrations, the
    /// key check, the chain's own upkeep). SQLite takes the write lock up front
    /// (`BEGIN IMMEDIATE`) so two writers never deadlock upgrading a read lock.
    pub async fn begin_unaudited(&self, why: &'static str) -> Result<Tx, sqlx::Error> {
        let mut tx = self.begin_tx().await?;
        tx.unaudited = Some(why);
        Ok(tx)
    }

    /// A write transaction that must append an audit row before it commits (the store adds the
    /// chain key: `Store::begin`).
    pub(crate) async fn begin_tx(&self) -> Result<Tx, sqlx::Error> {
        let conn = match self {
            Db::Sqlite(p) => TxConn::Sqlite(p.begin_with("BEGIN IMMEDIATE").await?),
            Db::Postgres(p) => TxConn::Postgres(p.begin().await?),
        };
        Ok(Tx {
            conn,
            audit_key: None,
            appended: 0,
            unaudited: None,
        })
    }

    pub async fn close(&self) {
        with_db!(self, p => p.close().await)
    }
}

impl Tx {
    /// Commits; an audited transaction without an audit row is rolled back instead, and that is
    /// an error (a write path that forgot its row).
    pub async fn commit(self) -> crate::StoreResult<()> {
        if self.unaudited.is_none() && self.appended == 0 {
            self.rollback().await?;
            return Err(crate::StoreError::Internal(anyhow::anyhow!(
                "an audited write transaction committed without an audit row: rolled back"
            )));
        }
        match self.conn {
            TxConn::Sqlite(t) => t.commit().await?,
            TxConn::Postgres(t) => t.commit().await?,
        }
        Ok(())
    }

    /// Gives everything up (what dropping the transaction does too, said out loud).
    pub async fn rollback(self) -> Result<(), sqlx::Error> {
        match self.conn {
            TxConn::Sqlite(t) => t.rollback().await,
            TxConn::Postgres(t) => t.rollback().await,
        }
    }

    /// How many audit rows this transaction has appended.
    pub fn appended(&self) -> u32 {
        self.appended
    }
}

/// The database's own table and column names, for the test that keeps both schemas in step.
pub async fn schema_columns(db: &Db) -> Result<Vec<(String, String)>, sqlx::Error> {
    let mut cols: Vec<(String, String)> = match db {
        Db::Sqlite(p) => {
            sqlx::query_as(
                "SELECT m.name, p.name FROM sqlite_master m JOIN pragma_table_info(m.name) p \
                 WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%'",
            )
            .fetch_all(p)
            .await?
        }
        Db::Postgres(p) => {
            sqlx::query_as(
                "SELECT table_name::text, column_name::text FROM information_schema.columns \
                 WHERE table_schema = current_schema()",
            )
            .fetch_all(p)
            .await?
        }
    };
    cols.sort();
    Ok(cols)
}
