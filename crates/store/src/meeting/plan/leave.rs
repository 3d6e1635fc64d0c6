//! Members' leave requests (pending → approved or refused by the secretary; approval records the
//! leave in `meeting_leave`, which attendance reads), and a member's own meetings and notices.

use std::collections::HashMap;

use dangjian_rules::meeting::{self, plan};
use dangjian_rules::member::MemberStatus;
use serde_json::json;
use time::OffsetDateTime;

use super::{PLAN_COLS, PlanRow, lock_plan, on_committee_if_asked, plan_facts};
use crate::Meetings;
use crate::Store;
use crate::audit::Actor;
use crate::error::{StoreError, StoreResult, decode};
use crate::scope::Scope;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct LeaveRequestRow {
    pub id: i64,
    pub meeting_id: i64,
    pub person_id: i64,
    pub name: String,
    pub reason: String,
    #[sqlx(try_from = "String")]
    pub status: meeting::LeaveRequestStatus,
    pub decision_note: Option<String>,
    pub decided_at: Option<OffsetDateTime>,
    pub created_at: OffsetDateTime,
}

const LEAVE_COLS: &str = "r.id, r.meeting_id, r.person_id, p.name, r.reason, r.status, r.decision_note, r.decided_at, r.created_at";

/// One meeting as its attendee sees it.
#[derive(Debug, Clone)]
pub struct MyMeeting {
    pub meeting: PlanRow,
    pub invited: bool,
    /// `present`, `left_early`, `leave`, `absent` (as the meeting stands now).
    pub state: &'static str,
    pub late: bool,
    pub leave_request: Option<(i64, String)>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MyNotice {
    pub id: i64,
    pub meeting_id: i64,
    pub title: String,
    pub event: String,
    pub starts_at: OffsetDateTime,
    pub venue: Option<String>,
    pub reason: Option<String>,
    pub created_at: OffsetDateTime,
}

/// The person's (org_path, status), or None.
async fn person_of(store: &Store, person_id: i64) -> StoreResult<Option<(String, MemberStatus)>> {
    let row: Option<(String, String)> = with_db!(&store.db, p => sqlx::query_as("SELECT org_path, status FROM person WHERE id = $1")
        .bind(person_id).fetch_optional(p).await)?;
    row.map(|(path, status)| Ok((path, decode(&status)?))).transpose()
}

/// Formal or probationary in the meeting org's subtree (the committee is asked separately).
pub(super) fn expected_path(m_path: &str, path: &str, status: MemberStatus) -> bool {
    path.starts_with(m_path) && matches!(status, MemberStatus::Formal | MemberStatus::Probationary)
}

impl Meetings<'_> {
    /// A member asks for leave from a meeting they are expected at, with a reason. Meetings they
    /// are not expected at are not theirs (404); one open or approved request per meeting.
    pub async fn request_leave(
        &self,
        actor: &Actor,
        person_id: i64,
        meeting_id: i64,
        reason: &str,
    ) -> StoreResult<i64> {
        let now = self.now();
        let person = person_of(self, person_id).await?.ok_or(StoreError::NotFound)?;
        let mut tx = self.begin().await?;
        let m = lock_plan(&mut tx, &Scope::system(), meeting_id).await?;
        let expected = expected_path(&m.org_path, &person.0, person.1)
            && on_committee_if_asked(&mut tx, &m, person_id).await?;
        let earlier: i64 = with_tx!(&mut tx, c => sqlx::query_scalar(
            "SELECT (SELECT COUNT(*) FROM leave_request WHERE meeting_id = $1 AND person_id = $2 AND status <> 'refused') \
             + (SELECT COUNT(*) FROM meeting_leave WHERE meeting_id = $1 AND person_id = $2)")
            .bind(m.id).bind(person_id).fetch_one(c).await)?;
        plan::may_request_leave(&plan_facts(&mut tx, &m).await?, expected, earlier)?;
        let id: i64 = with_tx!(&mut tx, c => sqlx::query_scalar(
            "INSERT INTO leave_request (meeting_id, person_id, reason, status, created_at) VALUES ($1, $2, $3, 'pending', $4) RETURNING id")
            .bind(m.id).bind(person_id).bind(reason).bind(now).fetch_one(c).await)?;
        // the reason may be personal (illness): not copied into the audit trail
        tx.into_audit(actor, now)
            .on("leave_request", "meeting", m.id, &m.org_path)
            .after(json!({"leave_request_id": id, "person_id": person_id, "status": "pending"}))
            .commit()
            .await?;
        Ok(id)
    }

    /// The meeting's leave requests, pending first.
    pub async fn leave_requests(&self, scope: &Scope, meeting_id: i64) -> StoreResult<Vec<LeaveRequestRow>> {
        let m = self.meeting_plan(scope, meeting_id).await?;
        let sql = format!(
            "SELECT {LEAVE_COLS} FROM leave_request r JOIN person p ON p.id = r.person_id WHERE r.meeting_id = $1 \
             ORDER BY CASE r.status WHEN 'pending' THEN 0 ELSE 1 END, r.id"
        );
        Ok(with_db!(&self.db, p => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(m.id).fetch_all(p).await)?)
    }

    /// Approves (the leave is recorded for attendance) or refuses a pending request.
    pub async fn decide_leave(
        &self,
        scope: &Scope,
        actor: &Actor,
        request_id: i64,
        approve: bool,
        note: Option<String>,
    ) -> StoreResult<LeaveRequestRow> {
        let now = self.now();
        let meeting_id: Option<i64> = with_db!(&self.db, p => sqlx::query_scalar(
            "SELECT meeting_id FROM leave_request WHERE id = $1").bind(request_id).fetch_optional(p).await)?;
        let meeting_id = meeting_id.ok_or(StoreError::NotFound)?;
        let mut tx = self.begin().await?;
        let m = lock_plan(&mut tx, scope, meeting_id).await?;
        let (person_id, status, reason): (i64, String, String) = with_tx!(&mut tx, c => sqlx::query_as(
            "SELECT person_id, status, reason FROM leave_request WHERE id = $1").bind(request_id).fetch_one(c).await)?;
        plan::may_decide_leave(&plan_facts(&mut tx, &m).await?, decode(&status)?)?;
        let new_status = if approve { "approved" } else { "refused" };
        with_tx!(&mut tx, c => sqlx::query(
            "UPDATE leave_request SET status = $1, decided_by = $2, decided_at = $3, decision_note = $4 WHERE id = $5")
            .bind(new_status).bind(actor.user_id).bind(now).bind(&note).bind(request_id)
            .execute(c).await.map(|r| r.rows_affected()))?;
        if approve {
            // a leave the secretary recorded directly already counts
            with_tx!(&mut tx, c => sqlx::query(
                "INSERT INTO meeting_leave (meeting_id, person_id, reason, status, recorded_by, created_at) \
                 SELECT $1, $2, $3, 'approved', $4, $5 WHERE NOT EXISTS \
                 (SELECT 1 FROM meeting_leave WHERE meeting_id = $1 AND person_id = $2)")
                .bind(m.id).bind(person_id).bind(&reason).bind(actor.user_id).bind(now)
                .execute(c).await.map(|r| r.rows_affected()))?;
        }
        let sql = format!(
            "SELECT {LEAVE_COLS} FROM leave_request r JOIN person p ON p.id = r.person_id WHERE r.id = $1"
        );
        let row: LeaveRequestRow = with_tx!(&mut tx, c => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(request_id).fetch_one(c).await)?;
        tx.into_audit(actor, now)
            .on(
                if approve { "leave_approve" } else { "leave_refuse" },
                "meeting",
                m.id,
                &m.org_path,
            )
            .before(json!({"leave_request_id": request_id, "status": "pending"}))
            .after(json!({"leave_request_id": request_id, "person_id": person_id, "status": new_status}))
            .commit()
            .await?;
        Ok(row)
    }

    /// The meetings a person is expected at or invited to (newest first, at most 200), each with
    /// the person's own state and leave request. Their own data: no grant is needed.
    pub async fn my_meetings(&self, person_id: i64) -> StoreResult<Vec<MyMeeting>> {
        let Some(person) = person_of(self, person_id).await? else {
            return Ok(Vec::new());
        };
        let member = matches!(person.1.as_str(), "formal" | "probationary");
        let sql = format!(
            "SELECT {PLAN_COLS} FROM meeting m WHERE ($1 AND substr($2, 1, length(m.org_path)) = m.org_path \
             AND (m.kind <> 'committee' OR EXISTS (SELECT 1 FROM committee_post cp WHERE cp.org_id = m.org_id \
             AND cp.person_id = $3 AND cp.ended_on IS NULL))) \
             OR EXISTS (SELECT 1 FROM meeting_invitee i WHERE i.meeting_id = m.id AND i.person_id = $3) \
             ORDER BY m.starts_at DESC, m.id DESC LIMIT 200"
        );
        let rows: Vec<PlanRow> = with_db!(&self.db, p => sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(member).bind(&person.0).bind(person_id).fetch_all(p).await)?;
        let grace = self.grace_of(rows.iter().map(|m| m.org_path.as_str())).await?;
        let events = self.person_events_by_meeting(person_id).await?;
        let requests: Vec<(i64, i64, String)> = with_db!(&self.db, p => sqlx::query_as(
            "SELECT id, meeting_id, status FROM leave_request WHERE person_id = $1 ORDER BY id")
            .bind(person_id).fetch_all(p).await)?;
        let last_request: HashMap<i64, (i64, String)> =
            requests.into_iter().map(|(id, mid, s)| (mid, (id, s))).collect();
        Ok(rows
            .into_iter()
            .map(|m| {
                let a = events.at(&m, grace[m.org_path.as_str()]);
                MyMeeting {
                    invited: !(member && person.0.starts_with(&m.org_path)),
                    state: a.state.as_str(),
                    late: a.late,
                    leave_request: last_request.get(&m.id).cloned(),
                    meeting: m,
                }
            })
            .collect())
    }

    /// One meeting as its attendee sees it; 404 when it is not theirs.
    pub async fn my_meeting(&self, person_id: i64, meeting_id: i64) -> StoreResult<MyMeeting> {
        self.my_meetings(person_id)
            .await?
            .into_iter()
            .find(|m| m.meeting.id == meeting_id)
            .ok_or(StoreError::NotFound)
    }

    /// The person's latest notices (at most 50).
    pub async fn my_notices(&self, person_id: i64) -> StoreResult<Vec<MyNotice>> {
        Ok(with_db!(&self.db, p => sqlx::query_as(
            "SELECT n.id, n.meeting_id, m.title, n.event, n.starts_at, n.venue, n.reason, n.created_at \
             FROM meeting_notice n JOIN meeting m ON m.id = n.meeting_id WHERE n.person_id = $1 \
             ORDER BY n.id DESC LIMIT 50")
            .bind(person_id).fetch_all(p).await)?)
    }
}
