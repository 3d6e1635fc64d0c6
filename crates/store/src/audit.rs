//! The audit trail: every change writes one row in the same transaction as the change, chained
//! by SHA-256 over the previous row's hash, so an edited or deleted row breaks the chain.
//! `audit_head` is a one-row table whose update serializes appenders on both engines.

use serde_json::Value;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::db::{Db, Tx};
use crate::error::StoreResult;

const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Who did it: the user id (None for the system itself) and the username, for the record.
#[derive(Clone, Debug)]
pub struct Actor {
    pub user_id: Option<i64>,
    pub name: String,
}

impl Actor {
    pub fn system(what: &str) -> Self {
        Self {
            user_id: None,
            name: format!("system:{what}"),
        }
    }
}

pub struct Entry<'a> {
    pub action: &'a str,
    pub entity: &'a str,
    pub entity_id: Option<String>,
    pub org_path: Option<String>,
    pub before: Option<Value>,
    pub after: Option<Value>,
}

#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct AuditRow {
    pub seq: i64,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    pub user_id: Option<i64>,
    pub actor: String,
    pub action: String,
    pub entity: String,
    pub entity_id: Option<String>,
    pub org_path: Option<String>,
    pub before_json: Option<String>,
    pub after_json: Option<String>,
    pub prev_hash: String,
    pub hash: String,
}

fn row_hash(prev: &str, r: &AuditRow) -> String {
    let at = r.at.format(&Rfc3339).unwrap_or_default();
    let mut h = Sha256::new();
    for part in [
        prev,
        &r.seq.to_string(),
        &at,
        &r.user_id.map(|u| u.to_string()).unwrap_or_default(),
        &r.actor,
        &r.action,
        &r.entity,
        r.entity_id.as_deref().unwrap_or(""),
        r.org_path.as_deref().unwrap_or(""),
        r.before_json.as_deref().unwrap_or(""),
        r.after_json.as_deref().unwrap_or(""),
    ] {
        h.update(part.as_bytes());
        h.update([0x1f]);
    }
    hex::encode(h.finalize())
}

pub async fn ensure_head(db: &Db) -> StoreResult<()> {
    let mut tx = db.begin().await?;
    let n: i64 =
        with_tx!(&mut tx, c => sqlx::query_scalar("SELECT COUNT(*) FROM audit_head").fetch_one(c).await)?;
    if n == 0 {
        with_tx!(&mut tx, c => sqlx::query("INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, $1)")
            .bind(GENESIS).execute(c).await.map(|r| r.rows_affected()))?;
    }
    tx.commit().await?;
    Ok(())
}

/// Appends one audit row inside the caller's transaction.
pub async fn append(tx: &mut Tx, at: OffsetDateTime, actor: &Actor, e: Entry<'_>) -> StoreResult<i64> {
    // Taking the head row's lock first serializes concurrent appenders (PostgreSQL row lock;
    // SQLite already holds the write lock from BEGIN IMMEDIATE).
    let (seq, prev): (i64, String) = with_tx!(tx, c => sqlx::query_as(
        "UPDATE audit_head SET seq = seq + 1 WHERE id = 1 RETURNING seq, hash"
    ).fetch_one(c).await)?;
    let mut row = AuditRow {
        seq,
        at: crate::clock::truncate_micros(at),
        user_id: actor.user_id,
        actor: actor.name.clone(),
        action: e.action.to_owned(),
        entity: e.entity.to_owned(),
        entity_id: e.entity_id,
        org_path: e.org_path,
        before_json: e.before.map(|v| v.to_string()),
        after_json: e.after.map(|v| v.to_string()),
        prev_hash: prev,
        hash: String::new(),
    };
    row.hash = row_hash(&row.prev_hash, &row);
    with_tx!(tx, c => sqlx::query(
        "INSERT INTO audit (seq, at, user_id, actor, action, entity, entity_id, org_path, before_json, after_json, prev_hash, hash) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)")
        .bind(row.seq).bind(row.at).bind(row.user_id).bind(&row.actor).bind(&row.action).bind(&row.entity)
        .bind(&row.entity_id).bind(&row.org_path).bind(&row.before_json).bind(&row.after_json)
        .bind(&row.prev_hash).bind(&row.hash).execute(c).await.map(|r| r.rows_affected()))?;
    with_tx!(tx, c => sqlx::query("UPDATE audit_head SET hash = $1 WHERE id = 1").bind(&row.hash).execute(c).await.map(|r| r.rows_affected()))?;
    Ok(seq)
}

/// The outcome of checking the chain.
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    Intact {
        rows: i64,
    },
    /// The first row whose content or link does not match.
    Altered {
        seq: i64,
    },
    /// A sequence number with no row (deleted), or rows missing at the end.
    Missing {
        seq: i64,
    },
}

pub async fn verify(db: &Db) -> StoreResult<Verdict> {
    let mut prev = GENESIS.to_owned();
    let mut expected_seq = 1i64;
    let mut after = 0i64;
    loop {
        let rows: Vec<AuditRow> = with_db!(db, p => sqlx::query_as(
            "SELECT seq, at, user_id, actor, action, entity, entity_id, org_path, before_json, after_json, prev_hash, hash \
             FROM audit WHERE seq > $1 ORDER BY seq LIMIT 5000").bind(after).fetch_all(p).await)?;
        if rows.is_empty() {
            break;
        }
        for r in &rows {
            if r.seq != expected_seq {
                return Ok(Verdict::Missing { seq: expected_seq });
            }
            if r.prev_hash != prev || row_hash(&prev, r) != r.hash {
                return Ok(Verdict::Altered { seq: r.seq });
            }
            prev.clone_from(&r.hash);
            expected_seq += 1;
            after = r.seq;
        }
    }
    let (head_seq, head_hash): (i64, String) = with_db!(db, p => sqlx::query_as("SELECT seq, hash FROM audit_head WHERE id = 1").fetch_one(p).await)?;
    if head_seq >= expected_seq {
        return Ok(Verdict::Missing { seq: expected_seq });
    }
    if head_hash != prev {
        return Ok(Verdict::Altered { seq: head_seq });
    }
    Ok(Verdict::Intact {
        rows: expected_seq - 1,
    })
}

/// What to show of the audit trail (every field optional).
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    /// `org`, `person`, `user`, … (exact).
    pub entity: Option<String>,
    /// The actor's username (exact).
    pub actor: Option<String>,
    /// From this instant on (inclusive).
    pub from: Option<OffsetDateTime>,
    /// Before this instant (exclusive).
    pub until: Option<OffsetDateTime>,
    /// Also rows tied to no org (key rotation, API tokens, older account rows): for callers who
    /// see everything. The web layer decides who that is.
    pub include_unplaced: bool,
}

/// Audit rows visible in a scope that match the filter, newest first, and their total.
///
/// Time bounds: SQLite keeps times as RFC 3339 text with the fraction's trailing zeros cut, whose
/// text order matches time order between seconds but not always within one. So `from` becomes
/// `at > from - 1µs` and `until` becomes `at <= until - 1µs`: the same instants on PostgreSQL
/// (microsecond precision), and on SQLite exact for every row except one at a whole second
/// (`…:59Z`, no fraction) just before a bound.
pub async fn list(
    db: &Db,
    scope: &crate::scope::Scope,
    f: &AuditFilter,
    limit: i64,
    offset: i64,
) -> StoreResult<(Vec<AuditRow>, i64)> {
    const BEFORE: time::Duration = time::Duration::microseconds(1);
    let (scope_filter, binds) = scope.sql_filter("org_path", None, 4);
    let placed = if f.include_unplaced {
        format!("({scope_filter} OR org_path IS NULL)")
    } else {
        scope_filter
    };
    let cond = format!(
        "($1 = '' OR entity = $1) AND ($2 = '' OR actor = $2) AND ($3 IS NULL OR at > $3) \
         AND ($4 IS NULL OR at <= $4) AND {placed}"
    );
    let n = binds.len() + 4;
    // SAFETY of the SQL text: `cond` is built from fixed column names and `$n` placeholders only.
    let sql = format!(
        "SELECT seq, at, user_id, actor, action, entity, entity_id, org_path, before_json, after_json, prev_hash, hash \
         FROM audit WHERE {cond} ORDER BY seq DESC LIMIT ${} OFFSET ${}",
        n + 1,
        n + 2
    );
    let count_sql = format!("SELECT COUNT(*) FROM audit WHERE {cond}");
    let entity = f.entity.clone().unwrap_or_default();
    let actor = f.actor.clone().unwrap_or_default();
    let from = f.from.map(|t| crate::clock::truncate_micros(t) - BEFORE);
    let until = f.until.map(|t| crate::clock::truncate_micros(t) - BEFORE);
    with_db!(db, p => {
        let mut q = sqlx::query_as::<_, AuditRow>(sqlx::AssertSqlSafe(sql))
            .bind(&entity).bind(&actor).bind(from).bind(until);
        let mut cq = sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(count_sql))
            .bind(&entity).bind(&actor).bind(from).bind(until);
        for b in &binds { q = q.bind(b); cq = cq.bind(b); }
        let rows = q.bind(limit).bind(offset).fetch_all(p).await?;
        let total = cq.fetch_one(p).await?;
        Ok((rows, total))
    })
}
