//! Arrears (domain-rules §2): consecutive unpaid months per member, as of the injected clock's
//! month. At the reminder setting (per subtree, default 3 \[L\]) the member is on the reminder
//! list; at the rules' 6 months without 正当理由 the branch may open a case, which the 支部大会
//! decides (recorded as such). Nothing here changes a member's status.

use std::collections::{BTreeMap, HashMap};

use dangjian_rules::RuleViolation;
use dangjian_rules::dues::ArrearsStatus;
use dangjian_rules::dues::ledger::{
    self, ArrearsStage, LedgerMonth, add_months, arrears_stage, format_ym, unpaid_run,
};
use dangjian_rules::dues_rules_on;
use serde_json::json;
use time::{Date, OffsetDateTime};

use super::payment::member_in;
use crate::Dues;
use crate::audit::Actor;
use crate::error::{StoreError, StoreResult, decode};
use crate::paths::upper_bound;
use crate::scope::Scope;

/// How far back runs are looked for: the longest run reported is this many months.
const LOOKBACK_MONTHS: i64 = 36;

/// One member on the arrears list.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ArrearsLine {
    pub person_id: i64,
    pub name: String,
    pub months_unpaid: i64,
    pub first_unpaid: String,
    pub owed_fen: i64,
    /// `reminder` or `case`.
    pub stage: &'static str,
    pub case_id: Option<i64>,
    pub case_status: Option<ArrearsStatus>,
}

/// The arrears list of a subtree.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ArrearsList {
    pub as_of: String,
    pub reminder_months: i64,
    pub case_months: i64,
    pub rule: &'static str,
    pub items: Vec<ArrearsLine>,
}

#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct ArrearsCase {
    pub id: i64,
    pub person_id: i64,
    pub months_unpaid: i64,
    pub first_unpaid_ym: i64,
    #[sqlx(try_from = "String")]
    pub status: dangjian_rules::dues::ArrearsStatus,
    pub meeting_on: Option<Date>,
    pub decision_note: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub opened_at: OffsetDateTime,
}

const CASE_COLS: &str =
    "id, person_id, months_unpaid, first_unpaid_ym, status, meeting_on, decision_note, opened_at";

/// What the 支部大会 (or the branch, for 正当理由) decided on a case.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CaseOutcome {
    /// 正当理由: not 自行脱党; the reason is recorded.
    Justified,
    /// The 支部大会 decided 除名, to be reported for approval; the status is unchanged here.
    RemovalProposed,
    /// The 支部大会 decided to keep the member.
    Kept,
}

impl CaseOutcome {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "justified" => Some(Self::Justified),
            "removal_proposed" => Some(Self::RemovalProposed),
            "kept" => Some(Self::Kept),
            _ => None,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Justified => "justified",
            Self::RemovalProposed => "removal_proposed",
            Self::Kept => "kept",
        }
    }
}

#[derive(sqlx::FromRow)]
struct UnpaidRow {
    person_id: i64,
    name: String,
    year: i64,
    month: i64,
    owed: i64,
}

fn month_key(d: Date) -> i64 {
    ledger::ym(i64::from(d.year()), i64::from(u8::from(d.month())))
}

impl Dues<'_> {
    /// The reminder setting in force for an org path (`dues.reminder_months` of the nearest org
    /// up the tree that sets it, else the deployment's).
    pub async fn dues_reminder_months(&self, path: &str) -> StoreResult<i64> {
        Ok(self.settings_at(path).await?.dues_reminder_months)
    }

    /// Sets the reminder setting for the subtree of `org_id` (1–5 months: at 6 the rules' case
    /// applies anyway).
    pub async fn set_dues_reminder_months(
        &self,
        scope: &Scope,
        actor: &Actor,
        org_id: i64,
        months: i64,
    ) -> StoreResult<i64> {
        if !(1..=5).contains(&months) {
            return Err(
                RuleViolation::field("dues_reminder_months_invalid", "reminder_months")
                    .arg("value", months)
                    .into(),
            );
        }
        let org = self.orgs().org(scope, org_id).await?;
        let key = crate::settings::SubtreeKey::DuesReminderMonths;
        self.write_settings(actor, &org, &[(key, Some(months.to_string()))])
            .await?;
        Ok(months)
    }

    /// Members of the subtree at or past the reminder: their run of unpaid months before the
    /// current month, the stage, and any case. Only current members are listed (not the dead,
    /// those who left, or were transferred out or suspended).
    pub async fn dues_arrears(&self, scope: &Scope, org_id: i64) -> StoreResult<ArrearsList> {
        let org = self.orgs().org(scope, org_id).await?;
        let today = self.today();
        let rs = dues_rules_on(today)?;
        let reminder = self.dues_reminder_months(&org.path).await?;
        let current = month_key(today);
        let from = add_months(current, -LOOKBACK_MONTHS);
        let window = add_months(current, -reminder);
        // only members whose last `reminder` months are all unpaid can be listed: the database
        // picks them (one grouped scan), then their unpaid months of the look-back are read
        let rows: Vec<UnpaidRow> = with_db!(&self.db, p => sqlx::query_as(
            "SELECT d.person_id, p.name, d.year, d.month, d.amount_fen - d.relief_fen AS owed \
             FROM dues_bill d JOIN person p ON p.id = d.person_id \
             WHERE d.org_path >= $1 AND d.org_path < $2 AND d.year >= $3 AND d.status = 'due' \
             AND p.status IN ('formal', 'probationary') AND d.amount_fen > d.relief_fen AND d.year * 100 + d.month >= $4 AND d.year * 100 + d.month < $5 \
             AND d.person_id IN (SELECT person_id FROM dues_bill WHERE org_path >= $1 AND org_path < $2 \
               AND year >= $6 AND status = 'due' AND amount_fen > relief_fen \
               AND year * 100 + month >= $7 AND year * 100 + month < $5 GROUP BY person_id HAVING COUNT(*) = $8)")
            .bind(&org.path).bind(upper_bound(&org.path)).bind(from / 100).bind(from).bind(current)
            .bind(window / 100).bind(window).bind(reminder).fetch_all(p).await)?;
        let cases: Vec<(i64, i64, String)> = with_db!(&self.db, p => sqlx::query_as(
            "SELECT person_id, id, status FROM dues_arrears_case WHERE org_path >= $1 AND org_path < $2 ORDER BY id")
            .bind(&org.path).bind(upper_bound(&org.path)).fetch_all(p).await)?;
        let latest_case: HashMap<i64, (i64, ArrearsStatus)> = cases
            .into_iter()
            .map(|(person, id, status)| Ok((person, (id, decode(&status)?))))
            .collect::<StoreResult<_>>()?;
        let mut by_person: BTreeMap<i64, (String, Vec<(LedgerMonth, i64)>)> = BTreeMap::new();
        for r in rows {
            let entry = by_person
                .entry(r.person_id)
                .or_insert_with(|| (r.name.clone(), Vec::new()));
            entry.1.push((
                LedgerMonth {
                    ym: ledger::ym(r.year, r.month),
                    unpaid: true,
                    settled: false,
                },
                r.owed,
            ));
        }
        let mut items = Vec::new();
        for (person_id, (name, months)) in by_person {
            let ledger_months: Vec<LedgerMonth> = months.iter().map(|(m, _)| *m).collect();
            let (n, first) = unpaid_run(&ledger_months, current);
            let stage = arrears_stage(rs, reminder, n);
            let (Some(first), false) = (first, stage == ArrearsStage::None) else {
                continue;
            };
            let owed_fen = months.iter().filter(|(m, _)| m.ym >= first).map(|(_, o)| o).sum();
            let case = latest_case.get(&person_id);
            items.push(ArrearsLine {
                person_id,
                name,
                months_unpaid: n,
                first_unpaid: format_ym(first),
                owed_fen,
                stage: stage.as_str(),
                case_id: case.map(|c| c.0),
                case_status: case.map(|c| c.1),
            });
        }
        items.sort_by(|a, b| {
            b.months_unpaid
                .cmp(&a.months_unpaid)
                .then(a.person_id.cmp(&b.person_id))
        });
        Ok(ArrearsList {
            as_of: format_ym(current),
            reminder_months: reminder,
            case_months: rs.lapse_months,
            rule: rs.lapse_rule,
            items,
        })
    }

    /// Opens a case for the 支部大会 when the member has the rules' months unpaid; fewer → 422
    /// `dues_case_too_early`; an open case already → 409.
    pub async fn open_arrears_case(
        &self,
        scope: &Scope,
        actor: &Actor,
        person_id: i64,
    ) -> StoreResult<ArrearsCase> {
        let today = self.today();
        let rs = dues_rules_on(today)?;
        let current = month_key(today);
        let (mut tx, now) = self.begin_now().await?;
        let person = member_in(&mut tx, scope, person_id).await?;
        // a 除名 case is about a member: not the dead, nor those who left or were transferred out
        let status: String = with_tx!(&mut tx, c => sqlx::query_scalar(
            "SELECT status FROM person WHERE id = $1").bind(person.id).fetch_one(c).await)?;
        let status =
            dangjian_rules::MemberStatus::parse(&status).unwrap_or(dangjian_rules::MemberStatus::Left);
        if !status.is_member() {
            return Err(RuleViolation::field("dues_case_not_a_member", "person_id")
                .arg("status", status.label_zh())
                .into());
        }
        let rows: Vec<(i64, i64)> = with_tx!(&mut tx, c => sqlx::query_as(
            "SELECT year, month FROM dues_bill WHERE person_id = $1 AND status = 'due' AND amount_fen > relief_fen \
             AND year * 100 + month < $2")
            .bind(person.id).bind(current).fetch_all(c).await)?;
        let months: Vec<LedgerMonth> = rows
            .iter()
            .map(|&(y, m)| LedgerMonth {
                ym: ledger::ym(y, m),
                unpaid: true,
                settled: false,
            })
            .collect();
        let (n, first) = unpaid_run(&months, current);
        let Some(first) = first.filter(|_| n >= rs.lapse_months) else {
            return Err(RuleViolation::new("dues_case_too_early")
                .arg("months", n)
                .arg("required", rs.lapse_months)
                .arg("rule", rs.lapse_rule)
                .into());
        };
        let open: Option<i64> = with_tx!(&mut tx, c => sqlx::query_scalar(
            "SELECT id FROM dues_arrears_case WHERE person_id = $1 AND status = 'open'")
            .bind(person.id).fetch_optional(c).await)?;
        if open.is_some() {
            return Err(StoreError::Conflict(RuleViolation::new("dues_case_exists")));
        }
        let id: i64 = with_tx!(&mut tx, c => sqlx::query_scalar(
            "INSERT INTO dues_arrears_case (person_id, org_path, months_unpaid, first_unpaid_ym, status, opened_by, \
             opened_at) VALUES ($1, $2, $3, $4, 'open', $5, $6) RETURNING id")
            .bind(person.id).bind(&person.org_path).bind(n).bind(first).bind(actor.user_id).bind(now)
            .fetch_one(c).await)?;
        let case = case_in(&mut tx, id).await?;
        tx.into_audit(actor, now)
            .on("open", "dues_arrears_case", id, &person.org_path)
            .after(json!({"person_id": person.id, "months_unpaid": n, "first_unpaid": format_ym(first)}))
            .commit()
            .await?;
        Ok(case)
    }

    /// Records the decision on an open case. `removal_proposed` and `kept` are 支部大会
    /// decisions and need its date; `justified` needs the reason. The member's status is not
    /// changed: a 除名 takes effect only through its approval, recorded as a status event.
    pub async fn decide_arrears_case(
        &self,
        scope: &Scope,
        actor: &Actor,
        id: i64,
        outcome: CaseOutcome,
        meeting_on: Option<Date>,
        note: Option<String>,
    ) -> StoreResult<ArrearsCase> {
        let note = note.map(|n| n.trim().to_owned()).filter(|n| !n.is_empty());
        match outcome {
            CaseOutcome::Justified if note.is_none() => {
                return Err(RuleViolation::field("reason_required", "note").into());
            }
            CaseOutcome::RemovalProposed | CaseOutcome::Kept if meeting_on.is_none() => {
                return Err(RuleViolation::field("dues_case_needs_congress", "meeting_on").into());
            }
            _ => {}
        }
        let (mut tx, now) = self.begin_now().await?;
        let path: Option<String> = with_tx!(&mut tx, c => sqlx::query_scalar(
            "SELECT org_path FROM dues_arrears_case WHERE id = $1").bind(id).fetch_optional(c).await)?;
        let path = path
            .filter(|p| scope.contains_path(p))
            .ok_or(StoreError::NotFound)?;
        let before = case_in(&mut tx, id).await?;
        if before.status != dangjian_rules::dues::ArrearsStatus::Open {
            return Err(StoreError::Conflict(
                RuleViolation::new("dues_case_decided").arg("status", before.status),
            ));
        }
        with_tx!(&mut tx, c => sqlx::query(
            "UPDATE dues_arrears_case SET status = $1, meeting_on = $2, decision_note = $3, decided_by = $4, \
             decided_at = $5 WHERE id = $6")
            .bind(outcome.as_str()).bind(meeting_on).bind(&note).bind(actor.user_id).bind(now).bind(id)
            .execute(c).await.map(|r| r.rows_affected()))?;
        let after = case_in(&mut tx, id).await?;
        tx.into_audit(actor, now)
            .act("decide", "dues_arrears_case")
            .id(id)
            .org(path)
            .before(json!({"status": before.status}))
            .after(
                json!({"status": after.status, "meeting_on": meeting_on.map(|d| d.to_string()),
                    "note": after.decision_note}),
            )
            .commit()
            .await?;
        Ok(after)
    }

    /// NotFound unless the case is in `scope` (as `decide_arrears_case` judges it): for checking
    /// a request is about something the caller sees before judging its body.
    pub async fn arrears_case_visible(&self, scope: &Scope, id: i64) -> StoreResult<()> {
        let path: Option<String> = with_db!(&self.db, p => sqlx::query_scalar(
            "SELECT org_path FROM dues_arrears_case WHERE id = $1").bind(id).fetch_optional(p).await)?;
        path.filter(|p| scope.contains_path(p))
            .map(|_| ())
            .ok_or(StoreError::NotFound)
    }
}

async fn case_in(tx: &mut crate::db::Tx, id: i64) -> StoreResult<ArrearsCase> {
    let sql = format!("SELECT {CASE_COLS} FROM dues_arrears_case WHERE id = $1");
    let c: Option<ArrearsCase> =
        with_tx!(tx, c => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(c).await)?;
    c.ok_or(StoreError::NotFound)
}
