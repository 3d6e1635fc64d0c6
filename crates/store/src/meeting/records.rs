//! What a meeting leaves behind: amendments after close (minutes, one person's attendance — each
//! with a reason, audited), the detailed attendance the ledger, sign-in sheet and Excel export
//! show (times, methods, leave reasons, amended marks), a member's attendance history, and an
//! organization's yearly ledger list.

use std::collections::HashMap;

use dangjian_rules::RuleViolation;
use dangjian_rules::meeting::{self, AttendanceState, CheckinMethod, Counts, Direction, MeetingStatus};
use serde_json::json;
use time::OffsetDateTime;

use super::lock_meeting;
use super::minutes::{minutes_audit, minutes_in_tx, write_minutes};
use super::plan::{PLAN_COLS, PlanRow};
use crate::Meetings;
use crate::audit::Actor;
use crate::error::{StoreError, StoreResult, decode};
use crate::org::path_ids;
use crate::paths::upper_bound;
use crate::scope::Scope;

/// One person's amended attendance: the state and flag an amendment after close set, and why.
#[derive(Debug, Clone)]
pub struct AmendedAttendance {
    pub state: AttendanceState,
    pub late: bool,
    pub reason: String,
    pub amended_at: OffsetDateTime,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AmendmentRow {
    pub id: i64,
    pub meeting_id: i64,
    pub target: String,
    pub person_id: Option<i64>,
    pub before_json: String,
    pub after_json: String,
    pub reason: String,
    pub amended_by: Option<i64>,
    pub created_at: OffsetDateTime,
}

/// One line of the detailed attendance.
#[derive(Debug, Clone)]
pub struct DetailLine {
    pub person_id: i64,
    pub name: String,
    pub org_name: String,
    pub guest: bool,
    pub state: AttendanceState,
    pub late: bool,
    pub amended: Option<AmendedAttendance>,
    /// First `in` and its method; last `out` (device times).
    pub first_in: Option<OffsetDateTime>,
    pub method: Option<CheckinMethod>,
    pub last_out: Option<OffsetDateTime>,
    pub leave_reason: Option<String>,
}

#[derive(Debug, Clone)]
pub struct AttendanceDetail {
    pub meeting: PlanRow,
    pub lines: Vec<DetailLine>,
    pub counts: Counts,
}

/// One meeting in a member's attendance history.
#[derive(Debug, Clone)]
pub struct HistoryLine {
    pub meeting_id: i64,
    pub kind: meeting::MeetingKind,
    pub title: String,
    pub starts_at: OffsetDateTime,
    pub state: AttendanceState,
    pub late: bool,
    pub amended: bool,
}

/// One meeting in an organization's yearly ledger list.
#[derive(Debug, Clone)]
pub struct LedgerItem {
    pub meeting: PlanRow,
    pub counts: Counts,
}

/// Amendments are for closed meetings; before close the records are edited directly.
fn not_closed() -> StoreError {
    StoreError::Conflict(RuleViolation::new("meeting_not_closed"))
}

/// A closed meeting that was held (a cancelled one is stored closed too, and has no record to
/// correct: 409 `meeting_cancelled`).
async fn held_and_closed(tx: &mut crate::db::Tx, m: &super::MeetingRow) -> StoreResult<()> {
    if m.stored_status() != MeetingStatus::Closed {
        return Err(not_closed());
    }
    let cancelled: Option<OffsetDateTime> = with_tx!(tx, c => sqlx::query_scalar(
        "SELECT cancelled_at FROM meeting WHERE id = $1").bind(m.id).fetch_one(c).await)?;
    if cancelled.is_some() {
        return Err(StoreError::Conflict(RuleViolation::new("meeting_cancelled")));
    }
    Ok(())
}

/// Meetings listed in a history or ledger list at most.
const LIST_LIMIT: i64 = 500;

impl Meetings<'_> {
    pub async fn amendments(&self, scope: &Scope, meeting_id: i64) -> StoreResult<Vec<AmendmentRow>> {
        let m = self.meeting(scope, meeting_id).await?;
        Ok(with_db!(&self.db, p => sqlx::query_as(
            "SELECT id, meeting_id, target, person_id, before_json, after_json, reason, amended_by, created_at \
             FROM meeting_amendment WHERE meeting_id = $1 ORDER BY id")
            .bind(m.id).fetch_all(p).await)?)
    }

    /// Corrects the minutes of a closed meeting, keeping the text before and the reason.
    pub async fn amend_minutes(
        &self,
        scope: &Scope,
        actor: &Actor,
        meeting_id: i64,
        minutes: &str,
        decisions: &[String],
        reason: &str,
    ) -> StoreResult<i64> {
        let (mut tx, now) = self.begin_now().await?;
        let m = lock_meeting(&mut tx, scope, meeting_id).await?;
        held_and_closed(&mut tx, &m).await?;
        let before = minutes_in_tx(&mut tx, m.id).await?;
        let before_json = json!({"minutes": before.minutes, "decisions": before.decisions}).to_string();
        let after_json = json!({"minutes": minutes, "decisions": decisions}).to_string();
        let id: i64 = with_tx!(&mut tx, c => sqlx::query_scalar(
            "INSERT INTO meeting_amendment (meeting_id, target, person_id, before_json, after_json, reason, amended_by, created_at) \
             VALUES ($1, 'minutes', NULL, $2, $3, $4, $5, $6) RETURNING id")
            .bind(m.id).bind(&before_json).bind(&after_json).bind(reason).bind(actor.user_id).bind(now)
            .fetch_one(c).await)?;
        write_minutes(&mut tx, m.id, minutes, decisions, actor.user_id, now).await?;
        let mut after = minutes_audit(minutes, decisions);
        after["amendment_id"] = json!(id);
        after["reason"] = json!(reason);
        tx.into_audit(actor, now)
            .on("amend_minutes", "meeting", m.id, &m.org_path)
            .before(minutes_audit(&before.minutes, &before.decisions))
            .after(after)
            .commit()
            .await?;
        Ok(id)
    }

    /// Corrects one person's attendance at a closed meeting (e.g. absent → leave), keeping the
    /// state before and the reason. The person must be on the meeting's sheet.
    #[expect(
        clippy::too_many_arguments,
        reason = "the amendment's fields, each checked by the caller"
    )]
    pub async fn amend_attendance(
        &self,
        scope: &Scope,
        actor: &Actor,
        meeting_id: i64,
        person_id: i64,
        state: AttendanceState,
        late: bool,
        reason: &str,
    ) -> StoreResult<i64> {
        // the sheet as it stands (outside the transaction: a closed meeting's sheet changes only
        // by amendments, which the meeting lock below serializes)
        let sheet = self.attendance(scope, meeting_id).await?;
        let (mut tx, now) = self.begin_now().await?;
        let m = lock_meeting(&mut tx, scope, meeting_id).await?;
        held_and_closed(&mut tx, &m).await?;
        let Some(line) = sheet.lines.iter().find(|l| l.line.person_id == person_id) else {
            return Err(RuleViolation::field("not_expected", "person_id").into());
        };
        let late = late && state == AttendanceState::Present;
        let before = json!({"state": line.line.state.as_str(), "late": line.line.late});
        let after = json!({"state": state.as_str(), "late": late});
        if before == after {
            return Err(RuleViolation::field("amendment_changes_nothing", "state").into());
        }
        let id: i64 = with_tx!(&mut tx, c => sqlx::query_scalar(
            "INSERT INTO meeting_amendment (meeting_id, target, person_id, before_json, after_json, reason, amended_by, created_at) \
             VALUES ($1, 'attendance', $2, $3, $4, $5, $6, $7) RETURNING id")
            .bind(m.id).bind(person_id).bind(before.to_string()).bind(after.to_string()).bind(reason)
            .bind(actor.user_id).bind(now).fetch_one(c).await)?;
        // the kept quorum judgement no longer holds (store::meeting::cadence judges it again)
        with_tx!(&mut tx, c => sqlx::query("UPDATE meeting SET quorum_met = NULL WHERE id = $1")
            .bind(m.id).execute(c).await.map(|r| r.rows_affected()))?;
        let mut audit_after = after.clone();
        audit_after["person_id"] = json!(person_id);
        // the reason may be personal (illness): it stays on the amendment, not in the audit trail
        audit_after["amendment_id"] = json!(id);
        tx.into_audit(actor, now)
            .on("amend_attendance", "meeting", m.id, &m.org_path)
            .before(before)
            .after(audit_after)
            .commit()
            .await?;
        Ok(id)
    }

    /// The attendance with each person's org, check-in times and method, leave reason and
    /// amendment: what the ledger, the sign-in sheet and the Excel export show.
    pub async fn attendance_detail(&self, scope: &Scope, meeting_id: i64) -> StoreResult<AttendanceDetail> {
        let meeting = self.meeting_plan(scope, meeting_id).await?;
        let sheet = self.attendance(scope, meeting_id).await?;
        let amended = self.attendance_amendments(meeting_id).await?;
        let events: Vec<(i64, String, String, OffsetDateTime)> = with_db!(&self.db, p => sqlx::query_as(
            "SELECT person_id, direction, method, counted_at FROM checkin_event \
             WHERE meeting_id = $1 AND person_id IS NOT NULL ORDER BY id")
            .bind(meeting_id).fetch_all(p).await)?;
        let leaves: Vec<(i64, Option<String>)> = with_db!(&self.db, p => sqlx::query_as(
            "SELECT person_id, reason FROM meeting_leave WHERE meeting_id = $1")
            .bind(meeting_id).fetch_all(p).await)?;
        let orgs: Vec<(i64, String)> = with_db!(&self.db, p => sqlx::query_as(
            "SELECT p.id, o.name FROM person p JOIN org o ON o.id = p.org_id WHERE p.id IN \
             (SELECT person_id FROM meeting_expected WHERE meeting_id = $1 \
              UNION SELECT person_id FROM meeting_invitee WHERE meeting_id = $1) \
             OR (p.org_path >= $2 AND p.org_path < $3 AND p.status IN ('formal','probationary'))")
            .bind(meeting_id).bind(&meeting.org_path).bind(upper_bound(&meeting.org_path)).fetch_all(p).await)?;
        let orgs: HashMap<i64, String> = orgs.into_iter().collect();
        let leaves: HashMap<i64, Option<String>> = leaves.into_iter().collect();
        let mut first_in: HashMap<i64, (OffsetDateTime, CheckinMethod)> = HashMap::new();
        let mut last_out: HashMap<i64, OffsetDateTime> = HashMap::new();
        for (p, dir, method, at) in events {
            let method: CheckinMethod = decode(&method)?;
            if decode::<Direction>(&dir)? == Direction::In {
                let e = first_in.entry(p).or_insert((at, method));
                if at < e.0 {
                    *e = (at, method);
                }
            } else {
                let e = last_out.entry(p).or_insert(at);
                *e = (*e).max(at);
            }
        }
        let lines = sheet
            .lines
            .into_iter()
            .map(|l| {
                let p = l.line.person_id;
                let fi = first_in.get(&p);
                DetailLine {
                    person_id: p,
                    org_name: orgs.get(&p).cloned().unwrap_or_default(),
                    name: l.name,
                    guest: l.line.guest,
                    state: l.line.state,
                    late: l.line.late,
                    amended: amended.get(&p).cloned(),
                    first_in: fi.map(|f| f.0),
                    method: fi.map(|f| f.1),
                    last_out: last_out.get(&p).copied(),
                    leave_reason: leaves.get(&p).cloned().flatten(),
                }
            })
            .collect();
        Ok(AttendanceDetail {
            meeting,
            lines,
            counts: sheet.counts,
        })
    }

    /// The member's name and the meetings they were expected at or invited to that have started (not cancelled),
    /// newest first, with their attendance: the frozen list for closed meetings, else the org
    /// tree as it is.
    pub async fn member_attendance(
        &self,
        scope: &Scope,
        person_id: i64,
    ) -> StoreResult<(String, Vec<HistoryLine>)> {
        let person: Option<(String, String)> = with_db!(&self.db, p => sqlx::query_as(
            "SELECT org_path, name FROM person WHERE id = $1").bind(person_id).fetch_optional(p).await)?;
        let (path, name) = person.ok_or(StoreError::NotFound)?;
        if !scope.sees_person(person_id, &path) {
            return Err(StoreError::NotFound);
        }
        // no org on the path: `IN (0)`, which matches none
        let orgs = crate::db::id_list(path_ids(&path));
        let orgs = if orgs.is_empty() { "0".to_owned() } else { orgs };
        let sql = format!(
            "SELECT {PLAN_COLS} FROM meeting m WHERE m.cancelled_at IS NULL AND m.starts_at <= $2 AND ( \
             EXISTS (SELECT 1 FROM meeting_expected e WHERE e.meeting_id = m.id AND e.person_id = $1) \
             OR EXISTS (SELECT 1 FROM meeting_invitee i WHERE i.meeting_id = m.id AND i.person_id = $1) \
             OR (m.org_id IN ({orgs}) AND NOT EXISTS (SELECT 1 FROM meeting_expected x WHERE x.meeting_id = m.id))) \
             ORDER BY m.starts_at DESC, m.id DESC LIMIT {LIST_LIMIT}"
        );
        let meetings: Vec<PlanRow> = with_db!(&self.db, p => sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(person_id).bind(self.now()).fetch_all(p).await)?;
        let grace = self
            .grace_of(meetings.iter().map(|m| m.org_path.as_str()))
            .await?;
        let events = self.person_events_by_meeting(person_id).await?;
        let amendments: Vec<(i64, String)> = with_db!(&self.db, p => sqlx::query_as(
            "SELECT meeting_id, after_json FROM meeting_amendment WHERE person_id = $1 AND target = 'attendance' ORDER BY id")
            .bind(person_id).fetch_all(p).await)?;
        let amended: HashMap<i64, serde_json::Value> = amendments
            .into_iter()
            .map(|(m, a)| (m, serde_json::from_str(&a).unwrap_or_default()))
            .collect();
        let lines = meetings
            .into_iter()
            .map(|PlanRow { meeting: m, .. }| {
                let mut a = events.at(&m, grace[m.org_path.as_str()]);
                let fix = amended
                    .get(&m.id)
                    .and_then(|v| Some((AttendanceState::parse(v["state"].as_str()?)?, v["late"].as_bool())));
                if let Some((state, late)) = fix {
                    a.state = state;
                    a.late = late.unwrap_or(false) && state == AttendanceState::Present;
                }
                HistoryLine {
                    meeting_id: m.id,
                    kind: m.kind,
                    title: m.title,
                    starts_at: m.starts_at,
                    state: a.state,
                    late: a.late,
                    amended: fix.is_some(),
                }
            })
            .collect();
        Ok((name, lines))
    }

    /// The meetings of an organization and the orgs below it in a local calendar year (not
    /// cancelled), in time order, with their attendance counts: the 会议记录 register.
    pub async fn ledger_list(&self, scope: &Scope, org_id: i64, year: i32) -> StoreResult<Vec<LedgerItem>> {
        let org = self.orgs().org(scope, org_id).await?;
        let day = |y: i32| {
            time::Date::from_calendar_date(y, time::Month::January, 1)
                .map(|d| self.local.midnight(d))
                .map_err(|e| StoreError::Internal(e.into()))
        };
        let (from, to) = (day(year)?, day(year + 1)?);
        let sql = format!(
            "SELECT {PLAN_COLS} FROM meeting WHERE org_path >= $1 AND org_path < $2 AND starts_at >= $3 \
             AND starts_at < $4 AND cancelled_at IS NULL ORDER BY starts_at, id LIMIT {LIST_LIMIT}"
        );
        let rows: Vec<PlanRow> = with_db!(&self.db, p => sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(&org.path).bind(upper_bound(&org.path)).bind(from).bind(to).fetch_all(p).await)?;
        let mut out = Vec::with_capacity(rows.len());
        for m in rows {
            let counts = self.attendance(scope, m.id).await?.counts;
            out.push(LedgerItem { meeting: m, counts });
        }
        Ok(out)
    }
}
