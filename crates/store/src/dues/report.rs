//! Reports per subtree and month or year: billed = collected + outstanding + waived, by
//! category (the bill's base category); voluntary and 大额党费 payments; 上缴 records to the
//! level above; the bills of a month for the collector; a member's 党费交至 month.

use dangjian_rules::RuleViolation;
use dangjian_rules::dues::ledger::{self, LedgerMonth, paid_through};
use dangjian_rules::member::PersonCategory;
use serde_json::json;
use time::{Date, OffsetDateTime};

use crate::Dues;
use crate::audit::Actor;
use crate::error::StoreResult;
use crate::paths::upper_bound;
use crate::scope::Scope;

/// One category's (or the whole report's) figures. `billed = collected + outstanding + waived`.
#[derive(Debug, Clone, Default, sqlx::FromRow, serde::Serialize)]
pub struct DuesFigures {
    #[sqlx(try_from = "crate::error::NullableText")]
    pub category: Option<PersonCategory>,
    pub bills: i64,
    pub billed_fen: i64,
    pub collected_fen: i64,
    pub outstanding_fen: i64,
    pub waived_fen: i64,
}

/// A stored 上缴: what was recorded (its fields read through `Deref`), to whom, and when.
#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct Remittance {
    pub id: i64,
    #[sqlx(flatten)]
    #[serde(flatten)]
    pub recorded: NewRemittance,
    pub to_org_id: Option<i64>,
    #[serde(with = "time::serde::rfc3339")]
    pub recorded_at: OffsetDateTime,
}

impl std::ops::Deref for Remittance {
    type Target = NewRemittance;
    fn deref(&self) -> &NewRemittance {
        &self.recorded
    }
}

const REMIT_COLS: &str =
    "id, org_id, to_org_id, year, month, amount_fen, large_fen, remitted_on, note, recorded_at";

#[derive(Debug, Clone, serde::Serialize)]
pub struct DuesReport {
    pub org_id: i64,
    pub org_name: String,
    pub year: i64,
    pub month: Option<i64>,
    #[serde(flatten)]
    pub total: DuesFigures,
    pub by_category: Vec<DuesFigures>,
    /// Voluntary payments made in the period, and of them the 大额党费 (all to 中央).
    pub voluntary_fen: i64,
    pub large_fen: i64,
    pub large_count: i64,
    /// 上缴 recorded by orgs of the subtree for the period.
    pub remitted_fen: i64,
    pub remittances: Vec<Remittance>,
}

/// One bill on the collector's list.
#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct BillLine {
    pub id: i64,
    pub person_id: i64,
    pub name: String,
    pub year: i64,
    pub month: i64,
    pub amount_fen: i64,
    pub relief_fen: i64,
    #[sqlx(try_from = "String")]
    pub status: dangjian_rules::dues::BillStatus,
    pub payment_id: Option<i64>,
    #[sqlx(try_from = "crate::error::NullableText")]
    pub method: Option<dangjian_rules::dues::PayMethod>,
    pub payer_person_id: Option<i64>,
    pub payer_name: Option<String>,
}

/// 上缴: what an org passes to the level above.
#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct NewRemittance {
    pub org_id: i64,
    pub year: i64,
    pub month: Option<i64>,
    pub amount_fen: i64,
    pub large_fen: i64,
    pub remitted_on: Date,
    pub note: Option<String>,
}

fn period_days(year: i64, month: Option<i64>) -> StoreResult<(Date, Date)> {
    let bad = || RuleViolation::field("year_invalid", "year");
    let y = i32::try_from(year).map_err(|_| bad())?;
    let (from_m, to_y, to_m) = match month {
        Some(12) => (12, y + 1, 1),
        Some(m) => (m, y, m + 1),
        None => (1, y + 1, 1),
    };
    let mk = |y: i32, m: i64| {
        u8::try_from(m)
            .ok()
            .and_then(|m| time::Month::try_from(m).ok())
            .and_then(|m| Date::from_calendar_date(y, m, 1).ok())
            .ok_or_else(|| RuleViolation::field("month_invalid", "month"))
    };
    Ok((mk(y, from_m)?, mk(to_y, to_m)?))
}

impl Dues<'_> {
    /// The report of the subtree of `org_id` for `year` (and `month`, if given).
    pub async fn dues_report(
        &self,
        scope: &Scope,
        org_id: i64,
        year: i64,
        month: Option<i64>,
    ) -> StoreResult<DuesReport> {
        let org = self.orgs().org(scope, org_id).await?;
        let upper = upper_bound(&org.path);
        let (m1, m2) = month.map_or((1, 12), |m| (m, m));
        let by_category: Vec<DuesFigures> = with_db!(&self.db, p => sqlx::query_as(
            "SELECT COALESCE(b.category, 'in_service') AS category, CAST(COUNT(*) AS BIGINT) AS bills, \
             CAST(COALESCE(SUM(d.amount_fen), 0) AS BIGINT) AS billed_fen, \
             CAST(COALESCE(SUM(CASE WHEN d.status = 'paid' THEN d.amount_fen - d.relief_fen ELSE 0 END), 0) AS BIGINT) AS collected_fen, \
             CAST(COALESCE(SUM(CASE WHEN d.status = 'due' THEN d.amount_fen - d.relief_fen ELSE 0 END), 0) AS BIGINT) AS outstanding_fen, \
             CAST(COALESCE(SUM(d.relief_fen), 0) AS BIGINT) AS waived_fen \
             FROM dues_bill d LEFT JOIN dues_base b ON b.person_id = d.person_id AND b.year = d.year \
             WHERE d.org_path >= $1 AND d.org_path < $2 AND d.year = $3 AND d.month >= $4 AND d.month <= $5 \
             GROUP BY COALESCE(b.category, 'in_service') ORDER BY 1")
            .bind(&org.path).bind(&upper).bind(year).bind(m1).bind(m2).fetch_all(p).await)?;
        let mut total = DuesFigures::default();
        for c in &by_category {
            total.bills += c.bills;
            total.billed_fen += c.billed_fen;
            total.collected_fen += c.collected_fen;
            total.outstanding_fen += c.outstanding_fen;
            total.waived_fen += c.waived_fen;
        }
        let (from, until) = period_days(year, month)?;
        let (voluntary_fen, large_fen, large_count): (i64, i64, i64) = with_db!(&self.db, p => sqlx::query_as(
            "SELECT CAST(COALESCE(SUM(amount_fen), 0) AS BIGINT), \
             CAST(COALESCE(SUM(CASE WHEN large THEN amount_fen ELSE 0 END), 0) AS BIGINT), \
             CAST(COALESCE(SUM(CASE WHEN large THEN 1 ELSE 0 END), 0) AS BIGINT) \
             FROM dues_payment WHERE org_path >= $1 AND org_path < $2 AND kind = 'voluntary' \
             AND paid_on >= $3 AND paid_on < $4")
            .bind(&org.path).bind(&upper).bind(from).bind(until).fetch_one(p).await)?;
        let sql = format!(
            "SELECT {REMIT_COLS} FROM dues_remittance WHERE org_path >= $1 AND org_path < $2 AND year = $3 \
             AND (month IS NULL OR (month >= $4 AND month <= $5)) ORDER BY id"
        );
        let remittances: Vec<Remittance> = with_db!(&self.db, p => sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(&org.path).bind(&upper).bind(year).bind(m1).bind(m2).fetch_all(p).await)?;
        Ok(DuesReport {
            org_id: org.id,
            org_name: org.name.clone(),
            year,
            month,
            total,
            by_category,
            voluntary_fen,
            large_fen,
            large_count,
            remitted_fen: remittances.iter().map(|r| r.amount_fen).sum(),
            remittances,
        })
    }

    /// The bills of the subtree for `year`-`month` with the payment that settled each.
    pub async fn dues_bills(
        &self,
        scope: &Scope,
        org_id: i64,
        year: i64,
        month: i64,
    ) -> StoreResult<Vec<BillLine>> {
        let org = self.orgs().org(scope, org_id).await?;
        Ok(with_db!(&self.db, p => sqlx::query_as(
            "SELECT d.id, d.person_id, p.name, d.year, d.month, d.amount_fen, d.relief_fen, d.status, d.payment_id, \
             y.method, y.payer_person_id, y.payer_name \
             FROM dues_bill d JOIN person p ON p.id = d.person_id LEFT JOIN dues_payment y ON y.id = d.payment_id \
             WHERE d.org_path >= $1 AND d.org_path < $2 AND d.year = $3 AND d.month = $4 ORDER BY p.name, d.id LIMIT 5000")
            .bind(&org.path).bind(upper_bound(&org.path)).bind(year).bind(month).fetch_all(p).await)?)
    }

    /// Records 上缴 from `org_id` to its parent.
    pub async fn record_dues_remittance(
        &self,
        scope: &Scope,
        actor: &Actor,
        new: NewRemittance,
    ) -> StoreResult<Remittance> {
        if new.amount_fen <= 0 {
            return Err(RuleViolation::field("dues_amount_positive", "amount_fen").into());
        }
        if new.large_fen < 0 || new.large_fen > new.amount_fen {
            return Err(RuleViolation::field("dues_large_exceeds_amount", "large_fen").into());
        }
        let org = self.orgs().org(scope, new.org_id).await?;
        let (mut tx, now) = self.begin_now().await?;
        let id: i64 = with_tx!(&mut tx, c => sqlx::query_scalar(
            "INSERT INTO dues_remittance (org_id, org_path, to_org_id, year, month, amount_fen, large_fen, remitted_on, \
             note, recorded_by, recorded_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id")
            .bind(org.id).bind(&org.path).bind(org.parent_id).bind(new.year).bind(new.month).bind(new.amount_fen)
            .bind(new.large_fen).bind(new.remitted_on).bind(&new.note).bind(actor.user_id).bind(now)
            .fetch_one(c).await)?;
        let sql = format!("SELECT {REMIT_COLS} FROM dues_remittance WHERE id = $1");
        let r: Remittance =
            with_tx!(&mut tx, c => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id).fetch_one(c).await)?;
        tx.into_audit(actor, now).act("create", "dues_remittance").id(id).org(org.path.clone()).after(json!({"to_org_id": r.to_org_id, "year": r.year, "month": r.month,
                    "amount_fen": r.amount_fen, "large_fen": r.large_fen, "remitted_on": r.remitted_on.to_string()}))
.commit()
.await?;
        Ok(r)
    }

    /// 党费交至 of a member the scope sees (`YYYY-MM`), for the transfer letter.
    pub async fn dues_paid_through(&self, scope: &Scope, person_id: i64) -> StoreResult<Option<String>> {
        let person = self.members().person_row(scope, person_id).await?;
        Ok(self.paid_through_of(person.id).await?.map(ledger::format_ym))
    }

    pub(crate) async fn paid_through_of(&self, person_id: i64) -> StoreResult<Option<i64>> {
        let rows: Vec<(i64, i64, String)> = with_db!(&self.db, p => sqlx::query_as(
            "SELECT year, month, status FROM dues_bill WHERE person_id = $1").bind(person_id).fetch_all(p).await)?;
        let months: Vec<LedgerMonth> = rows
            .iter()
            .map(|(y, m, s)| LedgerMonth {
                ym: ledger::ym(*y, *m),
                unpaid: s == "due",
                settled: s != "due",
            })
            .collect();
        Ok(paid_through(&months))
    }
}
