//! 党费 (domain-rules §2): the yearly base and monthly amount per member, fixed at the start of
//! the year by the rules in force on 1 January (or overridden by hand with a reason), and the
//! monthly bills generated for a subtree. Money is integer 分 throughout.

use dangjian_rules::RuleViolation;
use dangjian_rules::dues::{self, BillStatus, PaymentKind};
use dangjian_rules::member::PersonCategory;
use dangjian_rules::{RestrictedAct, dues_rules_on, temporary_branch_may};
use serde_json::json;
use time::{Date, Month, OffsetDateTime};

pub mod arrears;
pub mod hardship;
pub mod import;
pub mod payment;
pub mod report;

use crate::Dues;
use crate::audit::Actor;
use crate::db::Tx;
use crate::error::{StoreError, StoreResult};
use crate::paths::upper_bound;
use crate::scope::Scope;

/// A member's base and monthly amount for one year.
#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct DuesBase {
    pub id: i64,
    pub person_id: i64,
    pub year: i64,
    #[sqlx(try_from = "String")]
    pub category: PersonCategory,
    pub base_fen: Option<i64>,
    pub monthly_fen: i64,
    pub rule_set: String,
    pub override_reason: Option<String>,
    pub recorded_by: Option<i64>,
    #[serde(with = "time::serde::rfc3339")]
    pub recorded_at: OffsetDateTime,
}

impl DuesBase {
    fn audit_json(&self) -> serde_json::Value {
        json!({
            "year": self.year, "category": self.category, "base_fen": self.base_fen,
            "monthly_fen": self.monthly_fen, "rule_set": self.rule_set, "override_reason": self.override_reason,
        })
    }
}

/// What `set_dues_base` records: `override_monthly` is the amount set by hand and its reason.
#[derive(Debug, Clone)]
pub struct NewDuesBase {
    pub person_id: i64,
    pub year: i64,
    pub category: PersonCategory,
    pub base_fen: Option<i64>,
    pub override_monthly: Option<(i64, String)>,
    /// Why a base is changed after bills of the year were issued (a correction).
    pub change_reason: Option<String>,
    /// The user confirmed the "normally" warnings (more than 1000 元 a month).
    pub confirmed: bool,
}

/// A base set, and what became of the year's bills already issued.
#[derive(Debug, Clone)]
pub struct BaseSet {
    pub base: DuesBase,
    /// Unpaid bills of the year that now carry the new amount.
    pub bills_updated: u64,
    /// Paid or waived bills of the year, left at their amount (a difference is settled by hand).
    pub bills_kept: u64,
}

/// One month of a member's year: the bill, if one was generated.
#[derive(Debug, Clone, serde::Serialize)]
pub struct DuesMonth {
    pub month: i64,
    pub amount_fen: Option<i64>,
    /// What an approved hardship application took off the bill.
    pub relief_fen: Option<i64>,
    pub status: Option<dangjian_rules::dues::BillStatus>,
}

/// What a member owes and has paid in a year.
#[derive(Debug, Clone, serde::Serialize)]
pub struct MemberDues {
    pub year: i64,
    pub base: Option<DuesBase>,
    pub months: Vec<DuesMonth>,
    /// Due and unpaid (after relief).
    pub owed_fen: i64,
    /// Paid on the year's bills.
    pub paid_fen: i64,
    /// Waived or taken off on hardship.
    pub waived_fen: i64,
    /// Voluntary payments made in the year.
    pub voluntary_fen: i64,
    /// 党费交至 (`YYYY-MM`), over all the member's bills.
    pub paid_through: Option<String>,
    /// The year's payments, newest first.
    pub payments: Vec<payment::Payment>,
}

#[derive(sqlx::FromRow)]
struct BillRow {
    month: i64,
    amount_fen: i64,
    relief_fen: i64,
    #[sqlx(try_from = "String")]
    status: dangjian_rules::dues::BillStatus,
}

#[derive(sqlx::FromRow)]
struct PersonBrief {
    org_path: String,
    #[sqlx(try_from = "String")]
    status: dangjian_rules::MemberStatus,
}

const BASE_COLS: &str = "id, person_id, year, category, base_fen, monthly_fen, rule_set, override_reason, \
    recorded_by, recorded_at";

/// Unpaid bills for the months after `from`'s month: they stop being due when the person stops
/// being a member of this tree (death, leaving, transfer out; domain-rules §2 "the sending
/// branch's bills end with the 党费交到 month"). Deleted in the caller's transaction, whose
/// audit row records how many; paid and waived months stay. Returns the count.
pub(crate) async fn end_bills_after(tx: &mut Tx, person_id: i64, from: Date) -> StoreResult<u64> {
    let month = i64::from(from.year()) * 100 + i64::from(u8::from(from.month()));
    Ok(with_tx!(tx, c => sqlx::query(
        "DELETE FROM dues_bill WHERE person_id = $1 AND status = 'due' AND year * 100 + month > $2")
        .bind(person_id).bind(month).execute(c).await.map(|r| r.rows_affected()))?)
}

fn year_start(year: i64) -> StoreResult<Date> {
    let y = i32::try_from(year).map_err(|_| RuleViolation::field("year_invalid", "year"))?;
    Date::from_calendar_date(y, Month::January, 1)
        .map_err(|_| RuleViolation::field("year_invalid", "year").into())
}

/// The first day of the month after `year`-`month`.
fn next_month_start(year: i64, month: i64) -> StoreResult<Date> {
    let (y, m) = if month == 12 {
        (year + 1, 1)
    } else {
        (year, month + 1)
    };
    month_start(y, m)
}

/// The first day of `y`-`m`.
pub(crate) fn month_start(y: i64, m: i64) -> StoreResult<Date> {
    let bad = || StoreError::from(RuleViolation::field("month_invalid", "month"));
    let y = i32::try_from(y).map_err(|_| bad())?;
    let m = u8::try_from(m)
        .ok()
        .and_then(|m| Month::try_from(m).ok())
        .ok_or_else(bad)?;
    Date::from_calendar_date(y, m, 1).map_err(|_| bad())
}

/// What a generation created: the count and a digest of the batch.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Generated {
    pub created: u64,
    pub digest: String,
}

/// The bills one generation created: ids above `max_before` in the subtree, year and months.
pub(crate) struct BillBatch<'a> {
    pub path: &'a str,
    pub upper: &'a str,
    pub year: i64,
    pub first: i64,
    pub last: i64,
    pub max_before: i64,
}

#[derive(sqlx::FromRow)]
struct BatchSums {
    n: i64,
    total: i64,
    persons: i64,
    months: i64,
    lo: i64,
    hi: i64,
}

impl BillBatch<'_> {
    /// SHA-256 over the batch's aggregates (count, total 分, sums of person ids and months, id
    /// range): one aggregate query, so it stays cheap at a million bills, and any later change
    /// to an amount or a person in the batch no longer matches the audited digest.
    async fn digest(&self, tx: &mut crate::db::Tx) -> StoreResult<String> {
        use sha2::{Digest, Sha256};
        let s: BatchSums = with_tx!(tx, c => sqlx::query_as(
            "SELECT CAST(COUNT(*) AS BIGINT) AS n, CAST(COALESCE(SUM(amount_fen), 0) AS BIGINT) AS total, \
             CAST(COALESCE(SUM(person_id), 0) AS BIGINT) AS persons, CAST(COALESCE(SUM(month), 0) AS BIGINT) AS months, \
             CAST(COALESCE(MIN(id), 0) AS BIGINT) AS lo, CAST(COALESCE(MAX(id), 0) AS BIGINT) AS hi \
             FROM dues_bill WHERE id > $1 AND org_path >= $2 AND org_path < $3 AND year = $4 AND month >= $5 AND month <= $6")
            .bind(self.max_before).bind(self.path).bind(self.upper).bind(self.year).bind(self.first).bind(self.last)
            .fetch_one(c).await)?;
        let text = format!(
            "dues_bill:v1:{}:{}:{}:{}:{}:{}",
            s.n, s.total, s.persons, s.months, s.lo, s.hi
        );
        Ok(hex::encode(Sha256::digest(text.as_bytes())))
    }
}

impl Dues<'_> {
    /// Sets (or replaces) a member's base for `year`: the monthly amount is the quote under the
    /// rules in force on 1 January, or `override_monthly` (which needs a non-empty reason).
    pub async fn set_dues_base(
        &self,
        scope: &Scope,
        actor: &Actor,
        new: NewDuesBase,
    ) -> StoreResult<BaseSet> {
        let NewDuesBase {
            person_id,
            year,
            category,
            base_fen,
            override_monthly,
            change_reason,
            confirmed,
        } = new;
        let rs = dues_rules_on(year_start(year)?)?;
        // the rounding of the member's own subtree (an unknown person is refused below)
        let path: Option<String> = with_db!(&self.db, p => sqlx::query_scalar(
            "SELECT org_path FROM person WHERE id = $1").bind(person_id).fetch_optional(p).await)?;
        let rounding = match path {
            Some(path) => self.settings_at(&path).await?.dues_rounding,
            None => self.settings().dues_rounding,
        };
        let quote = dues::quote(rs, category, base_fen, rounding)?;
        let (monthly_fen, reason) = match override_monthly {
            Some((m, reason)) => {
                let reason = reason.trim().to_owned();
                if reason.is_empty() {
                    return Err(RuleViolation::field("reason_required", "reason").into());
                }
                if m < 0 {
                    return Err(RuleViolation::field("base_negative", "monthly_fen")
                        .arg("value", m)
                        .into());
                }
                dues::check_override(rs, category, m)?;
                (m, Some(reason))
            }
            None => (quote.monthly_fen, None),
        };
        // more than the usual 1000 元 a month: voluntary, warned, never capped (D1 第十一条)
        let warnings: Vec<_> = dues::above_normal_cap(rs, monthly_fen)
            .into_iter()
            .chain(dues::zero_base(category, base_fen))
            .collect();
        if !warnings.is_empty() && !confirmed {
            return Err(StoreError::ConfirmationRequired(warnings));
        }
        let confirmed_codes: Vec<&str> = warnings.iter().map(|w| w.code).collect();
        let stored_base = match category {
            PersonCategory::InService | PersonCategory::Retired => base_fen,
            _ => None,
        };
        let (mut tx, now) = self.begin_now().await?;
        let person: Option<PersonBrief> = with_tx!(&mut tx, c => sqlx::query_as(
            "SELECT org_path, status FROM person WHERE id = $1").bind(person_id).fetch_optional(c).await)?;
        let person = match person {
            Some(p) if scope.contains_path(&p.org_path) => p,
            _ => return Err(StoreError::NotFound),
        };
        if !person.status.is_member() {
            return Err(RuleViolation::new("dues_not_a_member")
                .arg("status", person.status)
                .into());
        }
        let select = format!("SELECT {BASE_COLS} FROM dues_base WHERE person_id = $1 AND year = $2");
        let before: Option<DuesBase> = with_tx!(&mut tx, c => sqlx::query_as(sqlx::AssertSqlSafe(select.clone()))
            .bind(person_id).bind(year).fetch_optional(c).await)?;
        let (due, kept): (i64, i64) = with_tx!(&mut tx, c => sqlx::query_as(
            "SELECT CAST(COALESCE(SUM(CASE WHEN status = 'due' THEN 1 ELSE 0 END), 0) AS BIGINT), \
             CAST(COALESCE(SUM(CASE WHEN status = 'due' THEN 0 ELSE 1 END), 0) AS BIGINT) \
             FROM dues_bill WHERE person_id = $1 AND year = $2")
            .bind(person_id).bind(year).fetch_one(c).await)?;
        let year_base = |b: &DuesBase| dues::YearBase {
            category: b.category,
            base_fen: b.base_fen,
            monthly_fen: b.monthly_fen,
        };
        let asked = dues::YearBase {
            category,
            base_fen: stored_base,
            monthly_fen,
        };
        let change_reason = change_reason.or_else(|| reason.clone());
        dues::check_base_change(
            before.as_ref().map(year_base).as_ref(),
            &asked,
            u64::try_from(due + kept).unwrap_or(0),
            change_reason.as_deref(),
        )?;
        let changed = before.as_ref().is_some_and(|b| year_base(b) != asked);
        if before.is_some() {
            with_tx!(&mut tx, c => sqlx::query(
                "UPDATE dues_base SET org_path = $1, category = $2, base_fen = $3, monthly_fen = $4, rule_set = $5, \
                 override_reason = $6, recorded_by = $7, recorded_at = $8 WHERE person_id = $9 AND year = $10")
                .bind(&person.org_path).bind(category.as_str()).bind(stored_base).bind(monthly_fen).bind(rs.version)
                .bind(&reason).bind(actor.user_id).bind(now).bind(person_id).bind(year)
                .execute(c).await.map(|r| r.rows_affected()))?;
        } else {
            with_tx!(&mut tx, c => sqlx::query(
                "INSERT INTO dues_base (person_id, org_path, year, category, base_fen, monthly_fen, rule_set, \
                 override_reason, recorded_by, recorded_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)")
                .bind(person_id).bind(&person.org_path).bind(year).bind(category.as_str()).bind(stored_base)
                .bind(monthly_fen).bind(rs.version).bind(&reason).bind(actor.user_id).bind(now)
                .execute(c).await.map(|r| r.rows_affected()))?;
        }
        let after: Option<DuesBase> = with_tx!(&mut tx, c => sqlx::query_as(sqlx::AssertSqlSafe(select))
            .bind(person_id).bind(year).fetch_optional(c).await)?;
        let after = after.ok_or(StoreError::NotFound)?;
        // unpaid bills of the year follow the corrected base; paid and waived ones stay
        let bills_updated = if changed && due > 0 {
            with_tx!(&mut tx, c => sqlx::query(
                "UPDATE dues_bill SET amount_fen = $1, relief_fen = CASE WHEN relief_fen > $1 THEN $1 ELSE relief_fen END \
                 WHERE person_id = $2 AND year = $3 AND status = 'due'")
                .bind(monthly_fen).bind(person_id).bind(year).execute(c).await.map(|r| r.rows_affected()))?
        } else {
            0
        };
        let bills_kept = if changed {
            u64::try_from(kept).unwrap_or(0)
        } else {
            0
        };
        tx.into_audit(actor, now)
            .on(
                if before.is_some() { "update" } else { "create" },
                "dues_base",
                after.id,
                &person.org_path,
            )
            .before(before.as_ref().map(DuesBase::audit_json))
            .after({
                let mut a = after.audit_json();
                if !confirmed_codes.is_empty() {
                    a["confirmed_warnings"] = json!(confirmed_codes);
                }
                if changed && due + kept > 0 {
                    a["change_reason"] = json!(change_reason);
                    a["bills_updated"] = json!(bills_updated);
                    a["bills_kept"] = json!(bills_kept);
                }
                a
            })
            .commit()
            .await?;
        Ok(BaseSet {
            base: after,
            bills_updated,
            bills_kept,
        })
    }

    /// Generates the bills of `year`-`month` (or of all 12 months when `month` is `None`) for
    /// every formal or probationary member of the subtree of `org_id` with a base for the year
    /// and no bill for the month (probationary members from the month of their 支部大会 date
    /// on), one statement a month, in one transaction, with one audit row for the batch holding
    /// the count and a digest of what was created. Approved hardship applications covering a
    /// month apply to its new bills at once. A second run creates 0. Members of a 临时党支部
    /// (and of groups under one) are skipped: a temporary branch collects no dues (B1 第十一条),
    /// their home branch does.
    pub async fn generate_dues_bills(
        &self,
        scope: &Scope,
        actor: &Actor,
        org_id: i64,
        year: i64,
        month: Option<i64>,
    ) -> StoreResult<Generated> {
        let months = match month {
            Some(m) if (1..=12).contains(&m) => m..=m,
            Some(_) => return Err(RuleViolation::field("month_invalid", "month").into()),
            None => 1..=12,
        };
        let org = self.orgs().org(scope, org_id).await?;
        temporary_branch_may(org.branch_type(), RestrictedAct::CollectDues)?;
        let upper = upper_bound(&org.path);
        let (mut tx, now) = self.begin_now().await?;
        let max_before: i64 = with_tx!(&mut tx, c => sqlx::query_scalar(
            "SELECT CAST(COALESCE(MAX(id), 0) AS BIGINT) FROM dues_bill").fetch_one(c).await)?;
        let mut created = 0;
        for m in months.clone() {
            let until = next_month_start(year, m)?;
            created += with_tx!(&mut tx, c => sqlx::query(
                "INSERT INTO dues_bill (person_id, org_path, year, month, amount_fen, status, created_at) \
                 SELECT b.person_id, p.org_path, b.year, $1, b.monthly_fen, 'due', $2 \
                 FROM dues_base b JOIN person p ON p.id = b.person_id \
                 WHERE b.year = $3 AND p.org_path >= $4 AND p.org_path < $5 \
                 AND (p.status = 'formal' OR (p.status = 'probationary' AND p.joined_on IS NOT NULL AND p.joined_on < $6)) \
                 AND NOT EXISTS (SELECT 1 FROM org t WHERE t.branch_type = 'temporary' AND p.org_path LIKE t.path || '%') \
                 AND (p.dues_from IS NULL OR p.dues_from < $6) \
                 ON CONFLICT (person_id, year, month) DO NOTHING")
                .bind(m).bind(now).bind(year).bind(&org.path).bind(&upper).bind(until)
                .execute(c).await.map(|r| r.rows_affected()))?;
        }
        let (first, last) = (*months.start(), *months.end());
        let batch = BillBatch {
            path: &org.path,
            upper: &upper,
            year,
            first,
            last,
            max_before,
        };
        hardship::apply_to_new_bills(&mut tx, &batch).await?;
        let digest = batch.digest(&mut tx).await?;
        tx.into_audit(actor, now)
            .act("generate", "dues_bill")
            .org(org.path.clone())
            .after(
                json!({"org_id": org.id, "year": year, "month": month, "count": created, "digest": digest}),
            )
            .commit()
            .await?;
        Ok(Generated { created, digest })
    }

    /// A member's base and the 12 months of `year` with what is owed and paid.
    pub async fn member_dues(&self, scope: &Scope, person_id: i64, year: i64) -> StoreResult<MemberDues> {
        let person = self.members().person_row(scope, person_id).await?;
        let select = format!("SELECT {BASE_COLS} FROM dues_base WHERE person_id = $1 AND year = $2");
        let base: Option<DuesBase> = with_db!(&self.db, p => sqlx::query_as(sqlx::AssertSqlSafe(select))
            .bind(person.id).bind(year).fetch_optional(p).await)?;
        let bills: Vec<BillRow> = with_db!(&self.db, p => sqlx::query_as(
            "SELECT month, amount_fen, relief_fen, status FROM dues_bill WHERE person_id = $1 AND year = $2 ORDER BY month")
            .bind(person.id).bind(year).fetch_all(p).await)?;
        let mut owed_fen = 0;
        let mut paid_fen = 0;
        let mut waived_fen = 0;
        let months = (1..=12)
            .map(|m| match bills.iter().find(|b| b.month == m) {
                Some(b) => {
                    let net = b.amount_fen - b.relief_fen;
                    waived_fen += b.relief_fen;
                    match b.status {
                        BillStatus::Due => owed_fen += net,
                        BillStatus::Paid => paid_fen += net,
                        BillStatus::Waived => {}
                    }
                    DuesMonth {
                        month: m,
                        amount_fen: Some(b.amount_fen),
                        relief_fen: Some(b.relief_fen),
                        status: Some(b.status),
                    }
                }
                None => DuesMonth {
                    month: m,
                    amount_fen: None,
                    relief_fen: None,
                    status: None,
                },
            })
            .collect();
        let payments = self.payments_of(person.id, year).await?;
        let voluntary_fen = payments
            .iter()
            .filter(|p| p.kind == PaymentKind::Voluntary)
            .map(|p| p.amount_fen)
            .sum();
        let paid_through = self
            .paid_through_of(person.id)
            .await?
            .map(dangjian_rules::dues::ledger::format_ym);
        Ok(MemberDues {
            year,
            base,
            months,
            owed_fen,
            paid_fen,
            waived_fen,
            voluntary_fen,
            paid_through,
            payments,
        })
    }
}
