//! The audit trail: every change writes one row in the same transaction as the change, chained
//! by an HMAC-SHA256 over the previous row's link under a key derived from the signing key —
//! never stored in the database — so an edited or deleted row breaks the chain, and someone
//! with write access to the database but not the keys cannot forge a new one (a plain SHA-256
//! chain could be recomputed by anyone). `audit_head` is a one-row table whose update
//! serializes appenders on both engines. Chains written before the HMAC (SHA-256 links) are
//! converted once, at start, if they verify; `meta.audit_hmac_from` says from which row on the
//! links are HMACs.

use hmac::{Hmac, KeyInit, Mac};
use serde_json::Value;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::db::{Db, Tx};
use crate::error::{StoreError, StoreResult};
use crate::keys::Keys;

/// The key the chain's links are computed under (derived from the signing key).
pub struct ChainKey([u8; 32]);

impl ChainKey {
    pub fn of(keys: &Keys) -> Self {
        Self(keys.sign("audit-chain-key", b""))
    }
}

impl std::fmt::Debug for ChainKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ChainKey(..)")
    }
}

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

/// The fields a link covers, in order, each followed by a separator.
fn link_parts(prev: &str, r: &AuditRow) -> Vec<String> {
    vec![
        prev.to_owned(),
        r.seq.to_string(),
        r.at.format(&Rfc3339).unwrap_or_default(),
        r.user_id.map(|u| u.to_string()).unwrap_or_default(),
        r.actor.clone(),
        r.action.clone(),
        r.entity.clone(),
        r.entity_id.clone().unwrap_or_default(),
        r.org_path.clone().unwrap_or_default(),
        r.before_json.clone().unwrap_or_default(),
        r.after_json.clone().unwrap_or_default(),
    ]
}

/// The link of the chains written before the HMAC: plain SHA-256 (anyone can recompute it).
fn legacy_hash(prev: &str, r: &AuditRow) -> String {
    let mut h = Sha256::new();
    for part in link_parts(prev, r) {
        h.update(part.as_bytes());
        h.update([0x1f]);
    }
    hex::encode(h.finalize())
}

fn row_mac(key: &ChainKey, prev: &str, r: &AuditRow) -> String {
    let mut m = match Hmac::<Sha256>::new_from_slice(&key.0) {
        Ok(m) => m,
        Err(_) => unreachable!("HMAC takes keys of any length"),
    };
    for part in link_parts(prev, r) {
        m.update(part.as_bytes());
        m.update(&[0x1f]);
    }
    hex::encode(m.finalize().into_bytes())
}

/// From which row on the links are HMACs (1: the whole chain).
pub(crate) async fn hmac_from(db: &Db) -> StoreResult<Option<i64>> {
    let v: Option<String> = with_db!(db, p => sqlx::query_scalar(
        "SELECT value FROM meta WHERE key = 'audit_hmac_from'").fetch_optional(p).await)?;
    Ok(v.and_then(|v| v.parse().ok()))
}

/// Once per database: turns a SHA-256 chain into an HMAC chain under `keys` if it verifies (in
/// one transaction); a chain that does not verify is left as it is, so the break stays visible,
/// and the HMAC links start after it.
pub async fn upgrade_chain(db: &Db, keys: &Keys) -> StoreResult<()> {
    if hmac_from(db).await?.is_some() {
        return Ok(());
    }
    let legacy = verify_with(db, None, i64::MAX).await?;
    let key = ChainKey::of(keys);
    let mut tx = db.begin().await?;
    let from = match legacy {
        Verdict::Intact { .. } => {
            rechain(&mut tx, None, &key, 1).await?;
            1
        }
        _ => {
            let (head, _): (i64, String) = with_tx!(&mut tx, c => sqlx::query_as(
                "SELECT seq, hash FROM audit_head WHERE id = 1").fetch_one(c).await)?;
            tracing::error!(
                audit.seq = head,
                "the audit trail does not verify: it is kept as it is, and new records are chained after it"
            );
            head + 1
        }
    };
    with_tx!(&mut tx, c => sqlx::query("INSERT INTO meta (key, value) VALUES ('audit_hmac_from', $1)")
        .bind(from.to_string()).execute(c).await.map(|r| r.rows_affected()))?;
    tx.commit().await?;
    Ok(())
}

/// Recomputes the links from record `start` on under `new` inside the caller's transaction,
/// after checking each stored link under `old` (None: as SHA-256), so a rewrite never launders a
/// tampered row. Records before `start` are left as they are.
pub(crate) async fn rechain(
    tx: &mut Tx,
    old: Option<&ChainKey>,
    new: &ChainKey,
    start: i64,
) -> StoreResult<()> {
    let mut after = start - 1;
    let first: Option<String> = with_tx!(tx, c => sqlx::query_scalar("SELECT prev_hash FROM audit WHERE seq = $1")
        .bind(start).fetch_optional(c).await)?;
    let Some(first_prev) = first else {
        return Ok(());
    };
    let mut prev_old = first_prev.clone();
    let mut prev_new = first_prev;
    loop {
        let rows: Vec<AuditRow> = with_tx!(tx, c => sqlx::query_as(
            "SELECT seq, at, user_id, actor, action, entity, entity_id, org_path, before_json, after_json, prev_hash, hash \
             FROM audit WHERE seq > $1 ORDER BY seq LIMIT 5000").bind(after).fetch_all(c).await)?;
        if rows.is_empty() {
            break;
        }
        for r in &rows {
            let stored = match old {
                None => legacy_hash(&prev_old, r),
                Some(k) => row_mac(k, &prev_old, r),
            };
            if r.prev_hash != prev_old || stored != r.hash {
                return Err(StoreError::Internal(anyhow::anyhow!(
                    "audit record {} does not verify: the chain is not rewritten",
                    r.seq
                )));
            }
            prev_old.clone_from(&r.hash);
            let link = row_mac(new, &prev_new, r);
            with_tx!(tx, c => sqlx::query("UPDATE audit SET prev_hash = $1, hash = $2 WHERE seq = $3")
                .bind(&prev_new).bind(&link).bind(r.seq).execute(c).await.map(|r| r.rows_affected()))?;
            prev_new = link;
            after = r.seq;
        }
    }
    with_tx!(tx, c => sqlx::query("UPDATE audit_head SET hash = $1 WHERE id = 1")
        .bind(&prev_new).execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
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
    let key = tx.audit_key.clone().ok_or_else(|| {
        StoreError::Internal(anyhow::anyhow!(
            "an audited write outside the store's transactions"
        ))
    })?;
    row.hash = row_mac(&key, &row.prev_hash, &row);
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

/// Checks the whole chain under `keys`: SHA-256 links before `meta.audit_hmac_from`, HMACs from
/// there on.
pub async fn verify(db: &Db, keys: &Keys) -> StoreResult<Verdict> {
    let from = hmac_from(db).await?.unwrap_or(i64::MAX);
    verify_with(db, Some(&ChainKey::of(keys)), from).await
}

/// The head of the chain — its last record's number and link — to be written down outside the
/// database (docs/deployment.md): a later `verify-audit --head SEQ:LINK` proves that record is
/// still there unchanged, which no one without the recorded value can fake by cutting the end.
pub async fn head(db: &Db) -> StoreResult<(i64, String)> {
    Ok(with_db!(db, p => sqlx::query_as("SELECT seq, hash FROM audit_head WHERE id = 1").fetch_one(p).await)?)
}

/// Whether record `seq` still has the link recorded earlier.
pub async fn has_link(db: &Db, seq: i64, link: &str) -> StoreResult<bool> {
    let stored: Option<String> = with_db!(db, p => sqlx::query_scalar("SELECT hash FROM audit WHERE seq = $1")
        .bind(seq).fetch_optional(p).await)?;
    Ok(stored.as_deref() == Some(link))
}

async fn verify_with(db: &Db, key: Option<&ChainKey>, hmac_from: i64) -> StoreResult<Verdict> {
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
            let link = match key {
                Some(k) if r.seq >= hmac_from => row_mac(k, &prev, r),
                _ => legacy_hash(&prev, r),
            };
            if r.prev_hash != prev || link != r.hash {
                return Ok(Verdict::Altered { seq: r.seq });
            }
            prev.clone_from(&r.hash);
            expected_seq += 1;
            after = r.seq;
        }
    }
    let (head_seq, head_hash) = head(db).await?;
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
