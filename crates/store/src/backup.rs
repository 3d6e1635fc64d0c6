//! Online backup of a SQLite database (`VACUUM INTO`: a consistent copy while the server runs).
//! PostgreSQL deployments use pg_dump.

use std::path::Path;

use anyhow::{Context, bail};

use crate::db::Db;

pub async fn backup_sqlite(db: &Db, dest: &Path) -> anyhow::Result<()> {
    let Db::Sqlite(pool) = db else {
        bail!(
            "backup is for the embedded SQLite database; for PostgreSQL use pg_dump (see docs/deployment.md)"
        );
    };
    if dest.exists() {
        bail!("{} exists already; choose a new file name", dest.display());
    }
    let dest = dest.to_str().context("backup path is not valid UTF-8")?;
    sqlx::query("VACUUM INTO $1")
        .bind(dest)
        .execute(pool)
        .await
        .context("VACUUM INTO")?;
    // a backup holds everything the database does: its owner only
    crate::db::owner_only(Path::new(dest))?;
    Ok(())
}
