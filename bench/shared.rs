//! What the benchmark binaries share (each includes this file as `mod shared`): a scratch
//! PostgreSQL database for one run, and the results written into BENCHMARKS.md.

use std::path::Path;

use anyhow::Context;

/// Runs `bench` on a fresh database `{prefix}_{pid}` on the server of `pg` (a URL ending in
/// `/database`), given the new database's URL; the database is dropped afterwards, whatever
/// the bench answered.
pub async fn on_scratch_db<T>(
    pg: &str,
    prefix: &str,
    bench: impl AsyncFnOnce(String) -> anyhow::Result<T>,
) -> anyhow::Result<T> {
    let name = format!("{prefix}_{}", std::process::id());
    let url = format!(
        "{}/{name}",
        pg.rsplit_once('/')
            .context("--pg needs a URL ending in /database")?
            .0
    );
    let admin = sqlx::PgPool::connect(pg).await?;
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&admin)
        .await?;
    let result = bench(url).await;
    let _ = sqlx::query(sqlx::AssertSqlSafe(format!("DROP DATABASE {name} WITH (FORCE)")))
        .execute(&admin)
        .await;
    result
}

/// Puts `report` between the `<!-- {key}-results:begin -->` and `<!-- {key}-results:end -->`
/// markers of the file at `path`.
pub fn write_results(path: &Path, key: &str, report: &str) -> anyhow::Result<()> {
    let md = std::fs::read_to_string(path)?;
    let (begin, end) = (
        format!("<!-- {key}-results:begin -->"),
        format!("<!-- {key}-results:end -->"),
    );
    let (Some(i), Some(j)) = (md.find(&begin), md.find(&end)) else {
        anyhow::bail!("{} has no {key} markers", path.display());
    };
    std::fs::write(path, format!("{}{begin}\n{report}\n{}", &md[..i], &md[j..]))?;
    Ok(())
}
