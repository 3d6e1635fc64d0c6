//! A small migration runner: numbered SQL files per engine, embedded at build time, applied in
//! order inside one transaction each, recorded in `schema_version`.

use anyhow::Context;

use crate::db::{Db, Engine};

struct Migration {
    version: i64,
    name: &'static str,
    sqlite: &'static str,
    postgres: &'static str,
}

const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "core",
        sqlite: include_str!("../migrations/sqlite/0001_core.sql"),
        postgres: include_str!("../migrations/postgres/0001_core.sql"),
    },
    Migration {
        version: 2,
        name: "meetings",
        sqlite: include_str!("../migrations/sqlite/0002_meetings.sql"),
        postgres: include_str!("../migrations/postgres/0002_meetings.sql"),
    },
    Migration {
        version: 3,
        name: "dues",
        sqlite: include_str!("../migrations/sqlite/0003_dues.sql"),
        postgres: include_str!("../migrations/postgres/0003_dues.sql"),
    },
    Migration {
        version: 4,
        name: "dues_payments",
        sqlite: include_str!("../migrations/sqlite/0004_dues_payments.sql"),
        postgres: include_str!("../migrations/postgres/0004_dues_payments.sql"),
    },
    Migration {
        version: 5,
        name: "meeting_plans",
        sqlite: include_str!("../migrations/sqlite/0005_meeting_plans.sql"),
        postgres: include_str!("../migrations/postgres/0005_meeting_plans.sql"),
    },
    Migration {
        version: 6,
        name: "meeting_records",
        sqlite: include_str!("../migrations/sqlite/0006_meeting_records.sql"),
        postgres: include_str!("../migrations/postgres/0006_meeting_records.sql"),
    },
    Migration {
        version: 7,
        name: "login_throttle",
        sqlite: include_str!("../migrations/sqlite/0007_login_throttle.sql"),
        postgres: include_str!("../migrations/postgres/0007_login_throttle.sql"),
    },
    Migration {
        version: 8,
        name: "token_expiry",
        sqlite: include_str!("../migrations/sqlite/0008_token_expiry.sql"),
        postgres: include_str!("../migrations/postgres/0008_token_expiry.sql"),
    },
    Migration {
        version: 9,
        name: "checkin_counted_at",
        sqlite: include_str!("../migrations/sqlite/0009_checkin_counted_at.sql"),
        postgres: include_str!("../migrations/postgres/0009_checkin_counted_at.sql"),
    },
    Migration {
        version: 10,
        name: "audit_chains",
        sqlite: include_str!("../migrations/sqlite/0010_audit_chains.sql"),
        postgres: include_str!("../migrations/postgres/0010_audit_chains.sql"),
    },
    Migration {
        version: 11,
        name: "org_settings",
        sqlite: include_str!("../migrations/sqlite/0011_org_settings.sql"),
        postgres: include_str!("../migrations/postgres/0011_org_settings.sql"),
    },
    Migration {
        version: 12,
        name: "event_months",
        sqlite: include_str!("../migrations/sqlite/0012_event_months.sql"),
        postgres: include_str!("../migrations/postgres/0012_event_months.sql"),
    },
    Migration {
        version: 13,
        name: "quorum_term_dues_from",
        sqlite: include_str!("../migrations/sqlite/0013_quorum_term_dues_from.sql"),
        postgres: include_str!("../migrations/postgres/0013_quorum_term_dues_from.sql"),
    },
];

/// Applies every migration not yet applied. Safe to call on every start and from several nodes
/// at once (PostgreSQL: an advisory lock serializes them).
pub async fn migrate(db: &Db) -> anyhow::Result<()> {
    let mut tx = db.begin_unaudited("migrations").await?;
    if db.engine() == Engine::Postgres {
        with_tx!(&mut tx, c => sqlx::query("SELECT pg_advisory_xact_lock(7263501)").execute(c).await.map(|r| r.rows_affected()))?;
    }
    with_tx!(&mut tx, c => sqlx::query(
        "CREATE TABLE IF NOT EXISTS schema_version (version BIGINT PRIMARY KEY, name TEXT NOT NULL)"
    ).execute(c).await.map(|r| r.rows_affected()))?;
    let applied: Vec<i64> =
        with_tx!(&mut tx, c => sqlx::query_scalar("SELECT version FROM schema_version").fetch_all(c).await)?;
    for m in MIGRATIONS.iter().filter(|m| !applied.contains(&m.version)) {
        let sql = match db.engine() {
            Engine::Sqlite => m.sqlite,
            Engine::Postgres => m.postgres,
        };
        with_tx!(&mut tx, c => sqlx::raw_sql(sql).execute(c).await.map(|r| r.rows_affected()))
            .with_context(|| format!("applying migration {} {}", m.version, m.name))?;
        with_tx!(&mut tx, c => sqlx::query("INSERT INTO schema_version (version, name) VALUES ($1, $2)")
            .bind(m.version).bind(m.name).execute(c).await.map(|r| r.rows_affected()))?;
        tracing::info!(
            migration.version = m.version,
            "applied migration {} ({})",
            m.version,
            m.name
        );
    }
    tx.commit().await?;
    Ok(())
}
