//! Hardship (domain-rules §2, [C]): the member applies, the branch discusses, the higher 党委
//! approves — for retirees the branch alone — and the dues of the period are reduced or waived.
//! Waived months are not unpaid (the arrears rules skip them). Bills generated later in an
//! approved period get the relief when they are created.

use dangjian_rules::RuleViolation;
use dangjian_rules::dues::ledger::format_ym;
use dangjian_rules::dues::{HardshipMode, HardshipStatus};
use dangjian_rules::member::PersonCategory;
use dangjian_rules::org::OrgKind;
use serde_json::json;
use time::{Date, OffsetDateTime};

use super::BillBatch;
use super::payment::member_in;
use crate::Dues;
use crate::audit::Actor;
use crate::db::Tx;
use crate::error::{StoreError, StoreResult};
use crate::org::path_ids;
use crate::scope::Scope;

#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct Hardship {
    pub id: i64,
    pub person_id: i64,
    pub person_name: String,
    pub branch_id: i64,
    pub from_ym: i64,
    pub to_ym: i64,
    #[sqlx(try_from = "String")]
    pub mode: HardshipMode,
    pub reduced_fen: Option<i64>,
    pub reason: String,
    pub retiree: bool,
    #[sqlx(try_from = "String")]
    pub status: HardshipStatus,
    pub branch_agreed: Option<bool>,
    pub branch_meeting_on: Option<Date>,
    pub branch_note: Option<String>,
    pub approver_org_id: Option<i64>,
    pub approval_note: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub applied_at: OffsetDateTime,
}

const COLS: &str = "h.id, h.person_id, p.name AS person_name, h.branch_id, h.from_ym, h.to_ym, h.mode, h.reduced_fen, \
    h.reason, h.retiree, h.status, h.branch_agreed, h.branch_meeting_on, h.branch_note, h.approver_org_id, h.approval_note, \
    h.applied_at";

impl Hardship {
    fn audit_json(&self) -> serde_json::Value {
        json!({"person_id": self.person_id, "from": format_ym(self.from_ym), "to": format_ym(self.to_ym),
            "mode": self.mode, "reduced_fen": self.reduced_fen, "status": self.status,
            "branch_agreed": self.branch_agreed, "branch_meeting_on": self.branch_meeting_on.map(|d| d.to_string()),
            "approver_org_id": self.approver_org_id})
    }
}

/// An application: months `from_ym..=to_ym`; `reduced_to_fen` None waives, Some reduces to it.
#[derive(Debug, Clone)]
pub struct NewHardship {
    pub person_id: i64,
    pub from_ym: i64,
    pub to_ym: i64,
    pub reduced_to_fen: Option<i64>,
    pub reason: String,
}

#[derive(sqlx::FromRow)]
struct OrgBrief {
    id: i64,
    path: String,
    #[sqlx(try_from = "String")]
    kind: OrgKind,
}

/// The application a step (discuss, decide) acts on and the path of its branch, if the scope
/// holds the branch (else 404).
async fn for_step(tx: &mut Tx, scope: &Scope, id: i64) -> StoreResult<(Hardship, String)> {
    let h = load(tx, id).await?;
    let path: Option<String> = with_tx!(tx, c => sqlx::query_scalar(
        "SELECT path FROM org WHERE id = $1").bind(h.branch_id).fetch_optional(c).await)?;
    let path = path
        .filter(|p| scope.contains_path(p))
        .ok_or(StoreError::NotFound)?;
    Ok((h, path))
}

/// The orgs on `path` (root first).
async fn orgs_on(tx: &mut Tx, path: &str) -> StoreResult<Vec<OrgBrief>> {
    let mut out = Vec::new();
    for id in path_ids(path) {
        let o: Option<OrgBrief> = with_tx!(tx, c => sqlx::query_as(
            "SELECT id, path, kind FROM org WHERE id = $1").bind(id).fetch_optional(c).await)?;
        out.extend(o);
    }
    Ok(out)
}

async fn load(tx: &mut Tx, id: i64) -> StoreResult<Hardship> {
    let sql =
        format!("SELECT {COLS} FROM dues_hardship h JOIN person p ON p.id = h.person_id WHERE h.id = $1");
    let h: Option<Hardship> =
        with_tx!(tx, c => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(c).await)?;
    h.ok_or(StoreError::NotFound)
}

/// A step (discuss, decide) is taken only from its state; another → 409 `dues_hardship_state`.
fn in_state(h: &Hardship, status: HardshipStatus) -> StoreResult<()> {
    if h.status != status {
        return Err(StoreError::Conflict(
            RuleViolation::new("dues_hardship_state").arg("status", h.status),
        ));
    }
    Ok(())
}

/// What every step does after its UPDATE: reads the application back, applies it to the bills
/// when the step approved it, and commits with the step's audit row (before and after).
async fn after_step(
    mut tx: Tx,
    actor: &Actor,
    now: OffsetDateTime,
    action: &str,
    before: &Hardship,
    approved: bool,
) -> StoreResult<Hardship> {
    let after = load(&mut tx, before.id).await?;
    if approved {
        apply_to_bills(&mut tx, &after).await?;
    }
    let path: Option<String> = with_tx!(&mut tx, c => sqlx::query_scalar(
        "SELECT org_path FROM dues_hardship WHERE id = $1").bind(after.id).fetch_optional(c).await)?;
    tx.into_audit(actor, now)
        .act(action, "dues_hardship")
        .id(after.id)
        .org(path)
        .before(before.audit_json())
        .after(after.audit_json())
        .commit()
        .await?;
    Ok(after)
}

/// Applies an approved application to the member's due bills of its period.
async fn apply_to_bills(tx: &mut Tx, h: &Hardship) -> StoreResult<u64> {
    let n = match h.reduced_fen {
        None => with_tx!(tx, c => sqlx::query(
            "UPDATE dues_bill SET relief_fen = amount_fen, hardship_id = $1, status = 'waived' \
             WHERE person_id = $2 AND status = 'due' AND year * 100 + month >= $3 AND year * 100 + month <= $4")
            .bind(h.id).bind(h.person_id).bind(h.from_ym).bind(h.to_ym).execute(c).await.map(|r| r.rows_affected()))?,
        Some(r) => {
            let n = with_tx!(tx, c => sqlx::query(
                "UPDATE dues_bill SET relief_fen = CASE WHEN amount_fen > $1 THEN amount_fen - $1 ELSE 0 END, \
                 hardship_id = $2 WHERE person_id = $3 AND status = 'due' \
                 AND year * 100 + month >= $4 AND year * 100 + month <= $5")
                .bind(r).bind(h.id).bind(h.person_id).bind(h.from_ym).bind(h.to_ym)
                .execute(c).await.map(|r| r.rows_affected()))?;
            // reduced to nothing is waived
            with_tx!(tx, c => sqlx::query(
                "UPDATE dues_bill SET status = 'waived' WHERE hardship_id = $1 AND status = 'due' AND relief_fen >= amount_fen")
                .bind(h.id).execute(c).await.map(|r| r.rows_affected()))?;
            n
        }
    };
    Ok(n)
}

/// Relief for bills a generation just created, from applications approved earlier.
pub(crate) async fn apply_to_new_bills(tx: &mut Tx, b: &BillBatch<'_>) -> StoreResult<()> {
    let (from, to) = (b.year * 100 + b.first, b.year * 100 + b.last);
    let any: i64 = with_tx!(tx, c => sqlx::query_scalar(
        "SELECT CAST(COUNT(*) AS BIGINT) FROM dues_hardship WHERE status = 'approved' AND org_path >= $1 AND org_path < $2 \
         AND from_ym <= $3 AND to_ym >= $4")
        .bind(b.path).bind(b.upper).bind(to).bind(from).fetch_one(c).await)?;
    if any == 0 {
        return Ok(());
    }
    with_tx!(tx, c => sqlx::query(
        "UPDATE dues_bill SET hardship_id = (SELECT MAX(h.id) FROM dues_hardship h WHERE h.person_id = dues_bill.person_id \
         AND h.status = 'approved' AND dues_bill.year * 100 + dues_bill.month >= h.from_ym \
         AND dues_bill.year * 100 + dues_bill.month <= h.to_ym) \
         WHERE id > $1 AND org_path >= $2 AND org_path < $3 AND year = $4 AND month >= $5 AND month <= $6 \
         AND person_id IN (SELECT h.person_id FROM dues_hardship h WHERE h.status = 'approved' \
         AND h.from_ym <= $7 AND h.to_ym >= $8)")
        .bind(b.max_before).bind(b.path).bind(b.upper).bind(b.year).bind(b.first).bind(b.last)
        .bind(to).bind(from)
        .execute(c).await.map(|r| r.rows_affected()))?;
    with_tx!(tx, c => sqlx::query(
        "UPDATE dues_bill SET relief_fen = (SELECT CASE WHEN h.mode = 'waive' THEN dues_bill.amount_fen \
         WHEN dues_bill.amount_fen > h.reduced_fen THEN dues_bill.amount_fen - h.reduced_fen ELSE 0 END \
         FROM dues_hardship h WHERE h.id = dues_bill.hardship_id) \
         WHERE id > $1 AND org_path >= $2 AND org_path < $3 AND year = $4 AND hardship_id IS NOT NULL")
        .bind(b.max_before).bind(b.path).bind(b.upper).bind(b.year)
        .execute(c).await.map(|r| r.rows_affected()))?;
    with_tx!(tx, c => sqlx::query(
        "UPDATE dues_bill SET status = 'waived' WHERE id > $1 AND org_path >= $2 AND org_path < $3 AND year = $4 \
         AND hardship_id IS NOT NULL AND status = 'due' AND relief_fen >= amount_fen")
        .bind(b.max_before).bind(b.path).bind(b.upper).bind(b.year)
        .execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

impl Dues<'_> {
    /// A hardship application, by the member (own record) or recorded for them by the collector.
    pub async fn apply_dues_hardship(
        &self,
        scope: &Scope,
        actor: &Actor,
        new: NewHardship,
    ) -> StoreResult<Hardship> {
        if new.from_ym > new.to_ym {
            return Err(RuleViolation::field("dues_period_reversed", "to").into());
        }
        let reason = new.reason.trim().to_owned();
        if reason.is_empty() {
            return Err(RuleViolation::field("reason_required", "reason").into());
        }
        if new.reduced_to_fen.is_some_and(|r| r < 0) {
            return Err(RuleViolation::field("base_negative", "reduced_to_fen").into());
        }
        let (mut tx, now) = self.begin_now().await?;
        let person = member_in(&mut tx, scope, new.person_id).await?;
        let orgs = orgs_on(&mut tx, &person.org_path).await?;
        let branch = orgs
            .iter()
            .rev()
            .find(|o| o.kind == OrgKind::Branch)
            .ok_or_else(|| RuleViolation::new("dues_no_branch"))?;
        let retiree = person.category == PersonCategory::Retired;
        let mode = if new.reduced_to_fen.is_some() {
            HardshipMode::Reduce
        } else {
            HardshipMode::Waive
        };
        let id: i64 = with_tx!(&mut tx, c => sqlx::query_scalar(
            "INSERT INTO dues_hardship (person_id, org_path, branch_id, from_ym, to_ym, mode, reduced_fen, reason, \
             retiree, status, applied_by, applied_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'applied', $10, $11) \
             RETURNING id")
            .bind(person.id).bind(&person.org_path).bind(branch.id).bind(new.from_ym).bind(new.to_ym).bind(mode.as_str())
            .bind(new.reduced_to_fen).bind(&reason).bind(retiree).bind(actor.user_id).bind(now)
            .fetch_one(c).await)?;
        let h = load(&mut tx, id).await?;
        tx.into_audit(actor, now)
            .on("apply", "dues_hardship", id, &person.org_path)
            .after(h.audit_json())
            .commit()
            .await?;
        Ok(h)
    }

    /// The branch's discussion (the collector's scope must hold the branch). Agreed for a
    /// retiree → approved (the branch alone decides); agreed otherwise → waits for the 党委;
    /// not agreed → rejected.
    pub async fn discuss_dues_hardship(
        &self,
        scope: &Scope,
        actor: &Actor,
        id: i64,
        agreed: bool,
        meeting_on: Date,
        note: Option<String>,
    ) -> StoreResult<Hardship> {
        let (mut tx, now) = self.begin_now().await?;
        let (before, _) = for_step(&mut tx, scope, id).await?;
        in_state(&before, HardshipStatus::Applied)?;
        let status = match (agreed, before.retiree) {
            (false, _) => "rejected",
            (true, true) => "approved",
            (true, false) => "discussed",
        };
        with_tx!(&mut tx, c => sqlx::query(
            "UPDATE dues_hardship SET status = $1, branch_agreed = $2, branch_meeting_on = $3, branch_note = $4, \
             discussed_by = $5, discussed_at = $6 WHERE id = $7")
            .bind(status).bind(agreed).bind(meeting_on).bind(&note).bind(actor.user_id).bind(now).bind(id)
            .execute(c).await.map(|r| r.rows_affected()))?;
        after_step(tx, actor, now, "discuss", &before, status == "approved").await
    }

    /// The higher 党委's decision: only under a grant (with the dues capability) on a 党委 or
    /// 党工委 above the member's branch; otherwise 422 `dues_hardship_needs_committee`.
    pub async fn decide_dues_hardship(
        &self,
        scope: &Scope,
        actor: &Actor,
        id: i64,
        approved: bool,
        note: Option<String>,
    ) -> StoreResult<Hardship> {
        let (mut tx, now) = self.begin_now().await?;
        let (before, branch_path) = for_step(&mut tx, scope, id).await?;
        let approver = orgs_on(&mut tx, &branch_path)
            .await?
            .into_iter()
            .rev()
            .filter(|o| o.path != branch_path)
            .find(|o| {
                matches!(o.kind, OrgKind::Committee | OrgKind::WorkingCommittee)
                    && scope.contains_path(&o.path)
            })
            .ok_or_else(|| RuleViolation::new("dues_hardship_needs_committee"))?;
        in_state(&before, HardshipStatus::Discussed)?;
        let status = if approved { "approved" } else { "rejected" };
        with_tx!(&mut tx, c => sqlx::query(
            "UPDATE dues_hardship SET status = $1, approver_org_id = $2, approval_note = $3, decided_by = $4, \
             decided_at = $5 WHERE id = $6")
            .bind(status).bind(approver.id).bind(&note).bind(actor.user_id).bind(now).bind(id)
            .execute(c).await.map(|r| r.rows_affected()))?;
        after_step(tx, actor, now, "decide", &before, approved).await
    }

    /// The applications in the subtree of `org_id`, newest first.
    pub async fn dues_hardships(&self, scope: &Scope, org_id: i64) -> StoreResult<Vec<Hardship>> {
        let org = self.orgs().org(scope, org_id).await?;
        let sql = format!(
            "SELECT {COLS} FROM dues_hardship h JOIN person p ON p.id = h.person_id \
             WHERE h.org_path >= $1 AND h.org_path < $2 ORDER BY h.id DESC LIMIT 500"
        );
        Ok(with_db!(&self.db, p => sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(&org.path).bind(crate::paths::upper_bound(&org.path)).fetch_all(p).await)?)
    }

    /// NotFound unless the application's branch is in `scope` (as `discuss`/`decide` judge it):
    /// for checking a request is about something the caller sees before judging its body.
    pub async fn dues_hardship_visible(&self, scope: &Scope, id: i64) -> StoreResult<()> {
        let path: Option<String> = with_db!(&self.db, p => sqlx::query_scalar(
            "SELECT o.path FROM dues_hardship h JOIN org o ON o.id = h.branch_id WHERE h.id = $1")
            .bind(id).fetch_optional(p).await)?;
        path.filter(|p| scope.contains_path(p))
            .map(|_| ())
            .ok_or(StoreError::NotFound)
    }
}
