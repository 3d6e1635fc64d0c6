//! The audit trail: every change writes one row in the same transaction as the change
//! (`Tx::audit(…)…append()`, the last one with the commit: `Tx::into_audit(…)…commit()`; an
//! audited transaction cannot commit without one), chained by an
//! HMAC-SHA256 over the previous row's link under a key derived from the signing key — never
//! stored in the database — so an edited or deleted row breaks the chain, and someone with write
//! access to the database but not the keys cannot forge a new one (a plain SHA-256 chain could
//! be recomputed by anyone).
//!
//! There is one chain per top-level org (the first segment of the row's `org_path`; rows tied to
//! no org form chain 0), each with its head row in `audit_chain_head`: appenders lock only the
//! head of their chain, so writes in different top-level orgs never wait on each other (on
//! PostgreSQL the row number `seq` comes from a sequence). A row links to the previous row of
//! its chain and its link covers its chain and its number in the chain (`chain_seq`).
//!
//! Older databases had one chain for the whole deployment, head in the one-row `audit_head`:
//! first SHA-256 links (converted once to HMACs if they verify; `meta.audit_hmac_from` says from
//! which row on the links are HMACs), then converted once, at start, into per-chain links if
//! the single chain verifies. `meta.audit_chains_from` says from which row on the chains are
//! per org; rows before it (a single chain that did not verify, kept as it was so the break
//! stays visible) are checked as the one old chain, reported as chain `LEGACY_CHAIN`.

use hmac::{Hmac, KeyInit, Mac};
use serde_json::Value;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use std::borrow::BorrowMut;
use std::collections::BTreeMap;

use crate::db::{Db, Tx, TxConn};
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

/// The chain of rows tied to no org (key rotation, API tokens, …).
pub const GLOBAL_CHAIN: i64 = 0;
/// How verdicts name the single chain of rows written before the per-org chains, where it was
/// kept as it was because it did not verify (its rows are numbered by `seq`).
pub const LEGACY_CHAIN: i64 = -1;

/// The chain a row with this org path belongs to: its top-level org's id (the first path
/// segment), or `GLOBAL_CHAIN`.
pub fn chain_of(org_path: Option<&str>) -> i64 {
    org_path
        .and_then(|p| p.strip_prefix('/'))
        .and_then(|p| p.split('/').next())
        .and_then(|id| id.parse::<i64>().ok())
        .filter(|id| *id > 0)
        .unwrap_or(GLOBAL_CHAIN)
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

fn mac_of(key: &ChainKey, parts: Vec<String>) -> String {
    let mut m = match Hmac::<Sha256>::new_from_slice(&key.0) {
        Ok(m) => m,
        Err(_) => unreachable!("HMAC takes keys of any length"),
    };
    for part in parts {
        m.update(part.as_bytes());
        m.update(&[0x1f]);
    }
    hex::encode(m.finalize().into_bytes())
}

/// The link of the single chain (before per-org chains).
fn row_mac(key: &ChainKey, prev: &str, r: &AuditRow) -> String {
    mac_of(key, link_parts(prev, r))
}

/// The link of a row in a per-org chain: it also covers the chain and the row's place in it, so
/// a row cannot be moved to another chain or renumbered.
fn chain_mac(key: &ChainKey, prev: &str, r: &ChainRow) -> String {
    let mut parts = link_parts(prev, &r.row);
    parts.push(r.chain.to_string());
    parts.push(r.chain_seq.to_string());
    mac_of(key, parts)
}

/// A row of a per-org chain with its place in it.
#[derive(sqlx::FromRow)]
struct ChainRow {
    #[sqlx(flatten)]
    row: AuditRow,
    chain: i64,
    chain_seq: i64,
}

const ROW_COLS: &str =
    "seq, at, user_id, actor, action, entity, entity_id, org_path, before_json, after_json, prev_hash, hash";

/// The next page of per-chain rows after (`chain`, `chain_seq`), in chain order.
const CHAIN_PAGE: &str = "SELECT seq, at, user_id, actor, action, entity, entity_id, org_path, before_json, after_json, \
     prev_hash, hash, chain, chain_seq FROM audit WHERE chain_seq IS NOT NULL AND (chain, chain_seq) > ($1, $2) \
     ORDER BY chain, chain_seq LIMIT 5000";

/// From which row on the links are HMACs (1: the whole chain).
pub(crate) async fn hmac_from(db: &Db) -> StoreResult<Option<i64>> {
    meta_i64(db, "audit_hmac_from").await
}

/// From which row on the chains are per top-level org (1: every row).
pub(crate) async fn chains_from(db: &Db) -> StoreResult<Option<i64>> {
    meta_i64(db, "audit_chains_from").await
}

async fn meta_i64(db: &Db, key: &str) -> StoreResult<Option<i64>> {
    let v: Option<String> = with_db!(db, p => sqlx::query_scalar(
        "SELECT value FROM meta WHERE key = $1").bind(key).fetch_optional(p).await)?;
    Ok(v.and_then(|v| v.parse().ok()))
}

/// Records where a conversion of the trail starts (`meta`) and commits it.
async fn set_meta(mut tx: Tx, key: &str, value: i64) -> StoreResult<()> {
    with_tx!(&mut tx, c => sqlx::query("INSERT INTO meta (key, value) VALUES ($1, $2)")
        .bind(key).bind(value.to_string()).execute(c).await.map(|r| r.rows_affected()))?;
    tx.commit().await
}

/// Where a conversion starts when the single chain does not verify: after its head (the one-row
/// head of older databases), the chain kept as it is so the break stays visible; logged with
/// what happens to it.
async fn after_broken_trail(tx: &mut Tx, kept: &str) -> StoreResult<i64> {
    let head: i64 =
        with_tx!(tx, c => sqlx::query_scalar("SELECT seq FROM audit_head WHERE id = 1").fetch_one(c).await)?;
    tracing::error!(audit.seq = head, "the audit trail does not verify: {kept}");
    Ok(head + 1)
}

/// Once per database: turns a SHA-256 chain into an HMAC chain under `keys` if it verifies (in
/// one transaction); a chain that does not verify is left as it is, so the break stays visible,
/// and the HMAC links start after it.
pub async fn upgrade_chain(db: &Db, keys: &Keys) -> StoreResult<()> {
    if hmac_from(db).await?.is_some() {
        return Ok(());
    }
    let legacy = verify_legacy(db, None, i64::MAX, i64::MAX).await?;
    let key = ChainKey::of(keys);
    let mut tx = db
        .begin_unaudited("the audit chain's conversion to HMAC links")
        .await?;
    let from = match legacy {
        Verdict::Intact { .. } => {
            rechain_legacy(&mut tx, None, &key, 1, i64::MAX).await?;
            1
        }
        _ => {
            after_broken_trail(
                &mut tx,
                "it is kept as it is, and new records are chained after it",
            )
            .await?
        }
    };
    set_meta(tx, "audit_hmac_from", from).await
}

/// Once per database, after `upgrade_chain`: splits the single chain into one chain per
/// top-level org, re-linking every row, if it verifies (in one transaction). A single chain
/// that does not verify is kept as it is — the break stays visible — and the per-org chains
/// start after it. `meta.audit_chains_from` records which.
pub async fn upgrade_to_chains(db: &Db, keys: &Keys) -> StoreResult<()> {
    if chains_from(db).await?.is_some() {
        return Ok(());
    }
    let key = ChainKey::of(keys);
    let hmac = hmac_from(db).await?.unwrap_or(i64::MAX);
    let legacy = verify_legacy(db, Some(&key), hmac, i64::MAX).await?;
    let mut tx = db
        .begin_unaudited("the audit trail's conversion to one chain per top-level org")
        .await?;
    if let TxConn::Postgres(t) = &mut tx.conn {
        // several nodes may start at once: one converts, the others find it done
        sqlx::query("SELECT pg_advisory_xact_lock(7263502)")
            .execute(&mut **t)
            .await?;
    }
    let done: Option<String> = with_tx!(&mut tx, c => sqlx::query_scalar(
        "SELECT value FROM meta WHERE key = 'audit_chains_from'").fetch_optional(c).await)?;
    if done.is_some() {
        return Ok(tx.rollback().await?);
    }
    let from = match legacy {
        Verdict::Intact { rows } => {
            split_into_chains(&mut tx, &key).await?;
            if rows > 0 {
                tracing::info!(
                    audit.rows = rows,
                    "the audit trail is now one chain per top-level org"
                );
            }
            1
        }
        _ => {
            after_broken_trail(
                &mut tx,
                "it is kept as one chain, and the chains per org start after it",
            )
            .await?
        }
    };
    set_meta(tx, "audit_chains_from", from).await
}

/// Re-links every row of the (verified) single chain into its top-level org's chain.
async fn split_into_chains(tx: &mut Tx, key: &ChainKey) -> StoreResult<()> {
    let mut heads: BTreeMap<i64, (i64, String)> = BTreeMap::new();
    let mut prev_old = GENESIS.to_owned();
    let mut after = 0i64;
    loop {
        let sql = format!("SELECT {ROW_COLS} FROM audit WHERE seq > $1 ORDER BY seq LIMIT 5000");
        let rows: Vec<AuditRow> = with_tx!(tx, c => sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(after).fetch_all(c).await)?;
        if rows.is_empty() {
            break;
        }
        for r in rows {
            if r.prev_hash != prev_old || row_mac(key, &prev_old, &r) != r.hash {
                return Err(StoreError::Internal(anyhow::anyhow!(
                    "audit record {} does not verify: the chain is not split",
                    r.seq
                )));
            }
            prev_old.clone_from(&r.hash);
            after = r.seq;
            let chain = chain_of(r.org_path.as_deref());
            let (n, prev) = heads.entry(chain).or_insert_with(|| (0, GENESIS.to_owned()));
            *n += 1;
            let mut cr = ChainRow {
                row: r,
                chain,
                chain_seq: *n,
            };
            cr.row.prev_hash.clone_from(prev);
            cr.row.hash = chain_mac(key, prev, &cr);
            with_tx!(tx, c => sqlx::query(
                "UPDATE audit SET chain = $1, chain_seq = $2, prev_hash = $3, hash = $4 WHERE seq = $5")
                .bind(cr.chain).bind(cr.chain_seq).bind(&cr.row.prev_hash).bind(&cr.row.hash).bind(cr.row.seq)
                .execute(c).await.map(|r| r.rows_affected()))?;
            prev.clone_from(&cr.row.hash);
        }
    }
    with_tx!(tx, c => sqlx::query("DELETE FROM audit_chain_head").execute(c).await.map(|r| r.rows_affected()))?;
    for (chain, (n, hash)) in heads {
        with_tx!(tx, c => sqlx::query("INSERT INTO audit_chain_head (chain, chain_seq, hash) VALUES ($1, $2, $3)")
            .bind(chain).bind(n).bind(&hash).execute(c).await.map(|r| r.rows_affected()))?;
    }
    Ok(())
}

/// Re-links the whole trail under `new` inside the caller's transaction (key rotation), after
/// checking every stored link under `old`, so a rewrite never launders a tampered row: the
/// single chain of older databases from its first HMAC row on, and every per-org chain.
pub(crate) async fn rechain_all(db: &Db, tx: &mut Tx, old: &ChainKey, new: &ChainKey) -> StoreResult<()> {
    let hmac = hmac_from(db).await?.unwrap_or(1);
    let chains = chains_from(db).await?.unwrap_or(i64::MAX);
    if hmac < chains {
        rechain_legacy(tx, Some(old), new, hmac, chains).await?;
    }
    rechain_chains(tx, old, new).await
}

/// Recomputes the links of the single chain from record `start` to before `end` under `new`
/// inside the caller's transaction, after checking each stored link under `old` (None: as
/// SHA-256). Records before `start` are left as they are.
async fn rechain_legacy(
    tx: &mut Tx,
    old: Option<&ChainKey>,
    new: &ChainKey,
    start: i64,
    end: i64,
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
        let sql = format!("SELECT {ROW_COLS} FROM audit WHERE seq > $1 AND seq < $2 ORDER BY seq LIMIT 5000");
        let rows: Vec<AuditRow> = with_tx!(tx, c => sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(after).bind(end).fetch_all(c).await)?;
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

/// Re-links every per-org chain under `new`, each row and each head checked under `old` first
/// (a chain cut at its end is refused too, not laundered).
async fn rechain_chains(tx: &mut Tx, old: &ChainKey, new: &ChainKey) -> StoreResult<()> {
    // chain → (rows, last old link, last new link)
    let mut walked: BTreeMap<i64, (i64, String, String)> = BTreeMap::new();
    let mut after = (i64::MIN, 0i64);
    loop {
        let rows: Vec<ChainRow> = with_tx!(tx, c => sqlx::query_as(CHAIN_PAGE)
            .bind(after.0).bind(after.1).fetch_all(c).await)?;
        if rows.is_empty() {
            break;
        }
        for mut r in rows {
            let (n, prev_old, prev_new) = walked
                .entry(r.chain)
                .or_insert_with(|| (0, GENESIS.to_owned(), GENESIS.to_owned()));
            if r.chain_seq != *n + 1
                || r.row.prev_hash != *prev_old
                || chain_mac(old, prev_old, &r) != r.row.hash
            {
                return Err(StoreError::Internal(anyhow::anyhow!(
                    "audit chain {} does not verify at its record {}: the chains are not rewritten",
                    r.chain,
                    *n + 1
                )));
            }
            *n += 1;
            prev_old.clone_from(&r.row.hash);
            r.row.prev_hash.clone_from(prev_new);
            r.row.hash = chain_mac(new, prev_new, &r);
            with_tx!(tx, c => sqlx::query("UPDATE audit SET prev_hash = $1, hash = $2 WHERE seq = $3")
                .bind(&r.row.prev_hash).bind(&r.row.hash).bind(r.row.seq).execute(c).await.map(|r| r.rows_affected()))?;
            prev_new.clone_from(&r.row.hash);
            after = (r.chain, r.chain_seq);
        }
    }
    let heads: Vec<(i64, i64, String)> = with_tx!(tx, c => sqlx::query_as(
        "SELECT chain, chain_seq, hash FROM audit_chain_head ORDER BY chain").fetch_all(c).await)?;
    for (chain, seq, hash) in heads {
        let (n, last_old, last_new) = walked
            .remove(&chain)
            .unwrap_or_else(|| (0, GENESIS.to_owned(), GENESIS.to_owned()));
        if n != seq || last_old != hash {
            return Err(StoreError::Internal(anyhow::anyhow!(
                "audit chain {chain} does not end at its head: the chains are not rewritten"
            )));
        }
        with_tx!(tx, c => sqlx::query("UPDATE audit_chain_head SET hash = $1 WHERE chain = $2")
            .bind(&last_new).bind(chain).execute(c).await.map(|r| r.rows_affected()))?;
    }
    if let Some((chain, _)) = walked.into_iter().next() {
        return Err(StoreError::Internal(anyhow::anyhow!(
            "audit chain {chain} has no head: the chains are not rewritten"
        )));
    }
    Ok(())
}

pub async fn ensure_head(db: &Db) -> StoreResult<()> {
    let mut tx = db.begin_unaudited("the audit trail's head row").await?;
    let n: i64 =
        with_tx!(&mut tx, c => sqlx::query_scalar("SELECT COUNT(*) FROM audit_head").fetch_one(c).await)?;
    if n == 0 {
        with_tx!(&mut tx, c => sqlx::query("INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, $1)")
            .bind(GENESIS).execute(c).await.map(|r| r.rows_affected()))?;
    }
    tx.commit().await?;
    Ok(())
}

/// An audit row being written: `tx.audit(actor, at).act(action, entity)`, then what applies of
/// `.id(…)`, `.org(…)`, `.before(…)`, `.after(…)`, then `.append().await?`. The last row of a
/// transaction is written with its commit: `tx.into_audit(actor, at)…commit().await?`, so no
/// write path can commit before its row, or forget the commit after it.
pub struct AuditStart<'a, T> {
    tx: T,
    actor: &'a Actor,
    at: OffsetDateTime,
}

#[must_use = "an audit entry is written only by .append().await or .commit().await"]
pub struct EntryBuilder<'a, T> {
    /// `&mut Tx` (`append`), or the transaction itself (`commit`).
    tx: T,
    entry: Entry<'a>,
}

/// The fields of one audit row as the builder collects them.
struct Entry<'a> {
    actor: &'a Actor,
    at: OffsetDateTime,
    action: &'a str,
    entity: &'a str,
    entity_id: Option<String>,
    org_path: Option<String>,
    before: Option<Value>,
    after: Option<Value>,
}

impl Tx {
    /// Locks the heads of the chains these org paths belong to, in chain order, before a
    /// transaction appends rows to several chains: two such transactions then never hold one
    /// head each while waiting for the other's (PostgreSQL; SQLite has one writer anyway).
    pub async fn lock_audit_chains<'p>(
        &mut self,
        org_paths: impl IntoIterator<Item = Option<&'p str>>,
    ) -> StoreResult<()> {
        let chains: std::collections::BTreeSet<i64> = org_paths.into_iter().map(chain_of).collect();
        if chains.len() < 2 {
            return Ok(());
        }
        if let TxConn::Postgres(t) = &mut self.conn {
            for chain in chains {
                // a head that does not exist yet is made at 0 rows (what the first append expects)
                sqlx::query(
                    "INSERT INTO audit_chain_head (chain, chain_seq, hash) VALUES ($1, 0, $2) \
                     ON CONFLICT (chain) DO UPDATE SET chain_seq = audit_chain_head.chain_seq",
                )
                .bind(chain)
                .bind(GENESIS)
                .execute(&mut **t)
                .await?;
            }
        }
        Ok(())
    }

    /// Starts an audit row of this change, by `actor` at `at`.
    pub fn audit<'t, 'a>(&'t mut self, actor: &'a Actor, at: OffsetDateTime) -> AuditStart<'a, &'t mut Tx> {
        AuditStart { tx: self, actor, at }
    }

    /// Starts the last audit row of this change, written and committed by `.commit()`.
    pub fn into_audit(self, actor: &Actor, at: OffsetDateTime) -> AuditStart<'_, Tx> {
        AuditStart { tx: self, actor, at }
    }
}

impl<'a, T: BorrowMut<Tx>> AuditStart<'a, T> {
    /// What was done (`create`, `update`, …) to which kind of thing (`org`, `person`, …).
    pub fn act(self, action: &'a str, entity: &'a str) -> EntryBuilder<'a, T> {
        EntryBuilder {
            tx: self.tx,
            entry: Entry {
                actor: self.actor,
                at: self.at,
                action,
                entity,
                entity_id: None,
                org_path: None,
                before: None,
                after: None,
            },
        }
    }

    /// [`act`](Self::act) on one row (`id`) of the subtree at `org_path`, whose chain it joins:
    /// what nearly every change records.
    pub fn on(
        self,
        action: &'a str,
        entity: &'a str,
        id: impl ToString,
        org_path: &str,
    ) -> EntryBuilder<'a, T> {
        self.act(action, entity).id(id).org(org_path.to_owned())
    }
}

impl<T: BorrowMut<Tx>> EntryBuilder<'_, T> {
    /// The entity's id.
    pub fn id(mut self, id: impl ToString) -> Self {
        self.entry.entity_id = Some(id.to_string());
        self
    }

    /// The entity's id, if it has one.
    pub fn id_opt(mut self, id: Option<String>) -> Self {
        self.entry.entity_id = id;
        self
    }

    /// Where in the tree it happened (a `String` or an `Option<String>`); it decides the chain.
    pub fn org(mut self, path: impl Into<Option<String>>) -> Self {
        self.entry.org_path = path.into();
        self
    }

    pub fn before(mut self, v: impl Into<Option<Value>>) -> Self {
        self.entry.before = v.into();
        self
    }

    pub fn after(mut self, v: impl Into<Option<Value>>) -> Self {
        self.entry.after = v.into();
        self
    }

    /// Appends the row to its chain inside the transaction; returns its `seq`.
    pub async fn append(mut self) -> StoreResult<i64> {
        append_row(self.tx.borrow_mut(), self.entry).await
    }
}

impl EntryBuilder<'_, Tx> {
    /// Appends the row, then commits the transaction.
    pub async fn commit(mut self) -> StoreResult<()> {
        append_row(&mut self.tx, self.entry).await?;
        self.tx.commit().await
    }
}

async fn append_row(tx: &mut Tx, e: Entry<'_>) -> StoreResult<i64> {
    let key = match (&tx.audit_key, tx.unaudited) {
        (Some(k), None) => k.clone(),
        _ => {
            return Err(StoreError::Internal(anyhow::anyhow!(
                "an audited write outside the store's audited transactions"
            )));
        }
    };
    let chain = chain_of(e.org_path.as_deref());
    // Only the head of this chain is locked (PostgreSQL row lock; SQLite already holds the
    // write lock from BEGIN IMMEDIATE), so appenders of one chain queue and others do not.
    // The row number is shared by all chains: a sequence on PostgreSQL (taking no lock another
    // chain waits for); on SQLite, whose writers are serialized anyway, the next after the last
    // (and after the old single chain's head, which may count rows cut off its end). Both come
    // back from the one statement: the hot path pays no extra round trip for them.
    let (chain_seq, prev, seq): (i64, String, i64) = match &mut tx.conn {
        TxConn::Sqlite(t) => {
            sqlx::query_as(
                "INSERT INTO audit_chain_head (chain, chain_seq, hash) VALUES ($1, 1, $2) \
                 ON CONFLICT (chain) DO UPDATE SET chain_seq = audit_chain_head.chain_seq + 1 \
                 RETURNING chain_seq, hash, MAX(COALESCE((SELECT MAX(seq) FROM audit), 0), \
                 COALESCE((SELECT seq FROM audit_head WHERE id = 1), 0)) + 1",
            )
            .bind(chain)
            .bind(GENESIS)
            .fetch_one(&mut **t)
            .await?
        }
        TxConn::Postgres(t) => {
            sqlx::query_as(
                "INSERT INTO audit_chain_head (chain, chain_seq, hash) VALUES ($1, 1, $2) \
                 ON CONFLICT (chain) DO UPDATE SET chain_seq = audit_chain_head.chain_seq + 1 \
                 RETURNING chain_seq, hash, nextval('audit_seq')",
            )
            .bind(chain)
            .bind(GENESIS)
            .fetch_one(&mut **t)
            .await?
        }
    };
    let mut r = ChainRow {
        row: AuditRow {
            seq,
            at: crate::clock::truncate_micros(e.at),
            user_id: e.actor.user_id,
            actor: e.actor.name.clone(),
            action: e.action.to_owned(),
            entity: e.entity.to_owned(),
            entity_id: e.entity_id,
            org_path: e.org_path,
            before_json: e.before.map(|v| v.to_string()),
            after_json: e.after.map(|v| v.to_string()),
            prev_hash: prev,
            hash: String::new(),
        },
        chain,
        chain_seq,
    };
    r.row.hash = chain_mac(&key, &r.row.prev_hash, &r);
    let row = &r.row;
    with_tx!(tx, c => sqlx::query(
        "INSERT INTO audit (seq, at, user_id, actor, action, entity, entity_id, org_path, before_json, after_json, prev_hash, hash, chain, chain_seq) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)")
        .bind(row.seq).bind(row.at).bind(row.user_id).bind(&row.actor).bind(&row.action).bind(&row.entity)
        .bind(&row.entity_id).bind(&row.org_path).bind(&row.before_json).bind(&row.after_json)
        .bind(&row.prev_hash).bind(&row.hash).bind(chain).bind(chain_seq).execute(c).await.map(|r| r.rows_affected()))?;
    with_tx!(tx, c => sqlx::query("UPDATE audit_chain_head SET hash = $1 WHERE chain = $2")
        .bind(&row.hash).bind(chain).execute(c).await.map(|r| r.rows_affected()))?;
    tx.appended += 1;
    Ok(seq)
}

/// The outcome of checking every chain.
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Every chain verifies; `rows` in all.
    Intact { rows: i64 },
    /// The first row of `chain` whose content or link does not match (`seq`: its row number;
    /// the last row of the chain when its head does not match it).
    Altered { chain: i64, seq: i64 },
    /// Record number `chain_seq` of `chain` has no row (deleted, or cut off the end: the head
    /// counts more). For `LEGACY_CHAIN` the number is the row number `seq`.
    Missing { chain: i64, chain_seq: i64 },
}

/// Checks every chain under `keys`: the single chain of older databases (SHA-256 links before
/// `meta.audit_hmac_from`, HMACs from there on) and each per-org chain with its head.
pub async fn verify(db: &Db, keys: &Keys) -> StoreResult<Verdict> {
    let key = ChainKey::of(keys);
    let hmac = hmac_from(db).await?.unwrap_or(i64::MAX);
    let chains = chains_from(db).await?.unwrap_or(i64::MAX);
    let legacy_rows = if chains > 1 {
        match verify_legacy(db, Some(&key), hmac, chains).await? {
            Verdict::Intact { rows } => rows,
            broken => return Ok(broken),
        }
    } else {
        0
    };
    match verify_chains(db, &key, chains).await? {
        Verdict::Intact { rows } => Ok(Verdict::Intact {
            rows: legacy_rows + rows,
        }),
        broken => Ok(broken),
    }
}

/// The head of one chain — its number of records and last link — to be written down outside
/// the database (docs/deployment.md).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Head {
    pub chain: i64,
    pub chain_seq: i64,
    pub hash: String,
}

impl std::fmt::Display for Head {
    /// `CHAIN:SEQ:LINK`, as `verify-audit --head` takes it back.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}:{}", self.chain, self.chain_seq, self.hash)
    }
}

impl std::str::FromStr for Head {
    type Err = &'static str;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut parts = s.trim().splitn(3, ':');
        let (Some(c), Some(n), Some(h)) = (parts.next(), parts.next(), parts.next()) else {
            return Err("expected CHAIN:SEQ:LINK");
        };
        Ok(Head {
            chain: c.trim().parse().map_err(|_| "CHAIN is not a number")?,
            chain_seq: n.trim().parse().map_err(|_| "SEQ is not a number")?,
            hash: h.trim().to_owned(),
        })
    }
}

/// The head of every chain, by chain: a later `verify-audit --head CHAIN:SEQ:LINK` proves that
/// record is still there unchanged, which no one without the recorded value can fake by cutting
/// the end of a chain (or dropping a whole chain).
pub async fn heads(db: &Db) -> StoreResult<Vec<Head>> {
    Ok(with_db!(db, p => sqlx::query_as(
        "SELECT chain, chain_seq, hash FROM audit_chain_head WHERE chain_seq > 0 ORDER BY chain").fetch_all(p).await)?)
}

/// Whether `head`'s record is still in its chain with the link recorded earlier.
pub async fn has_head(db: &Db, head: &Head) -> StoreResult<bool> {
    let stored: Option<String> = with_db!(db, p => sqlx::query_scalar(
        "SELECT hash FROM audit WHERE chain = $1 AND chain_seq = $2")
        .bind(head.chain).bind(head.chain_seq).fetch_optional(p).await)?;
    Ok(stored.as_deref() == Some(head.hash.as_str()))
}

/// Whether record `seq` still has the link recorded earlier (the `SEQ:LINK` heads of the single
/// chain: still valid for any row whose link has not been rewritten since).
pub async fn has_link(db: &Db, seq: i64, link: &str) -> StoreResult<bool> {
    let stored: Option<String> = with_db!(db, p => sqlx::query_scalar("SELECT hash FROM audit WHERE seq = $1")
        .bind(seq).fetch_optional(p).await)?;
    Ok(stored.as_deref() == Some(link))
}

/// The single chain of rows before `end` (`key` None: SHA-256 links throughout).
async fn verify_legacy(db: &Db, key: Option<&ChainKey>, hmac_from: i64, end: i64) -> StoreResult<Verdict> {
    let mut prev = GENESIS.to_owned();
    let mut expected_seq = 1i64;
    let mut after = 0i64;
    let missing = |seq| Verdict::Missing {
        chain: LEGACY_CHAIN,
        chain_seq: seq,
    };
    loop {
        let sql = format!("SELECT {ROW_COLS} FROM audit WHERE seq > $1 AND seq < $2 ORDER BY seq LIMIT 5000");
        let rows: Vec<AuditRow> = with_db!(db, p => sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(after).bind(end).fetch_all(p).await)?;
        if rows.is_empty() {
            break;
        }
        for r in &rows {
            if r.seq != expected_seq {
                return Ok(missing(expected_seq));
            }
            let link = match key {
                Some(k) if r.seq >= hmac_from => row_mac(k, &prev, r),
                _ => legacy_hash(&prev, r),
            };
            if r.prev_hash != prev || link != r.hash {
                return Ok(Verdict::Altered {
                    chain: LEGACY_CHAIN,
                    seq: r.seq,
                });
            }
            prev.clone_from(&r.hash);
            expected_seq += 1;
            after = r.seq;
        }
    }
    let (head_seq, head_hash): (i64, String) = with_db!(db, p => sqlx::query_as("SELECT seq, hash FROM audit_head WHERE id = 1").fetch_one(p).await)?;
    if head_seq >= expected_seq {
        return Ok(missing(expected_seq));
    }
    if head_hash != prev {
        return Ok(Verdict::Altered {
            chain: LEGACY_CHAIN,
            seq: head_seq,
        });
    }
    Ok(Verdict::Intact {
        rows: expected_seq - 1,
    })
}

/// Every per-org chain: contiguous numbers from 1, each link over the previous row of its chain,
/// and the last row matching the chain's head. Rows from `chains_from` on outside every chain
/// are reported as altered (they would otherwise pass unchecked).
async fn verify_chains(db: &Db, key: &ChainKey, chains_from: i64) -> StoreResult<Verdict> {
    let stray: Option<(i64, Option<String>)> = with_db!(db, p => sqlx::query_as(
        "SELECT seq, org_path FROM audit WHERE seq >= $1 AND (chain_seq IS NULL OR chain IS NULL) ORDER BY seq LIMIT 1")
        .bind(chains_from).fetch_optional(p).await)?;
    if let Some((seq, path)) = stray {
        return Ok(Verdict::Altered {
            chain: chain_of(path.as_deref()),
            seq,
        });
    }
    // chain → (records, last link, last row number)
    let mut walked: BTreeMap<i64, (i64, String, i64)> = BTreeMap::new();
    let mut total = 0i64;
    let mut after = (i64::MIN, 0i64);
    loop {
        let rows: Vec<ChainRow> = with_db!(db, p => sqlx::query_as(CHAIN_PAGE)
            .bind(after.0).bind(after.1).fetch_all(p).await)?;
        if rows.is_empty() {
            break;
        }
        for r in &rows {
            let (n, prev, last) = walked
                .entry(r.chain)
                .or_insert_with(|| (0, GENESIS.to_owned(), 0));
            if r.chain_seq != *n + 1 {
                return Ok(Verdict::Missing {
                    chain: r.chain,
                    chain_seq: *n + 1,
                });
            }
            if r.row.prev_hash != *prev || chain_mac(key, prev, r) != r.row.hash {
                return Ok(Verdict::Altered {
                    chain: r.chain,
                    seq: r.row.seq,
                });
            }
            *n += 1;
            prev.clone_from(&r.row.hash);
            *last = r.row.seq;
            total += 1;
            after = (r.chain, r.chain_seq);
        }
    }
    let heads: Vec<Head> = with_db!(db, p => sqlx::query_as(
        "SELECT chain, chain_seq, hash FROM audit_chain_head ORDER BY chain").fetch_all(p).await)?;
    let mut problems: BTreeMap<i64, Verdict> = BTreeMap::new();
    for h in heads {
        let (n, prev, last) = walked
            .remove(&h.chain)
            .unwrap_or_else(|| (0, GENESIS.to_owned(), 0));
        if h.chain_seq > n {
            problems.insert(
                h.chain,
                Verdict::Missing {
                    chain: h.chain,
                    chain_seq: n + 1,
                },
            );
        } else if h.chain_seq < n || h.hash != prev {
            problems.insert(
                h.chain,
                Verdict::Altered {
                    chain: h.chain,
                    seq: last,
                },
            );
        }
    }
    // a chain whose head row is gone
    for (chain, (_, _, last)) in walked {
        problems.insert(chain, Verdict::Altered { chain, seq: last });
    }
    Ok(problems
        .into_values()
        .next()
        .unwrap_or(Verdict::Intact { rows: total }))
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
        "SELECT {ROW_COLS} FROM audit WHERE {cond} ORDER BY seq DESC LIMIT ${} OFFSET ${}",
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
