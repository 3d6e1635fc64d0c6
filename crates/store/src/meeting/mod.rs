//! Meetings, leaves, devices and check-in (API.md "Meetings and check-in").
//!
//! Check-ins go through the node's writer (`writer.rs`: one transaction per batch of whatever
//! queued, decided against the in-memory roster of `roster.rs`); the rest of a meeting's life is
//! in `plan.rs` (planning, notices, leave requests), `attendance.rs` (the sheet, closing),
//! `minutes.rs`/`records.rs` (minutes, amendments, ledger), `seats.rs` and `cadence.rs`.
//!
//! Expected attendees are computed on read until the meeting closes (then frozen): the formal and
//! probationary members of the meeting org's subtree (its 党小组 included) — at a 支委会 only
//! those holding a current committee post in the org (`committee_only`) — plus invitees listed
//! as guests.

use dangjian_rules::RuleViolation;
use dangjian_rules::meeting::{
    self, CheckinMethod, Direction, Line, MeetingKind, MeetingStatus, Poster, Window,
};
use serde_json::json;
use sha2::{Digest, Sha256};
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime};

use crate::Meetings;
use crate::audit::Actor;
use crate::db::Tx;
use crate::error::{StoreError, StoreResult};
use crate::org::org_in_scope;
use crate::paths::upper_bound;
use crate::scope::{Role, Scope};

/// The columns of a `MeetingRow` (a macro, so `PLAN_COLS` can extend the literal).
macro_rules! meeting_cols {
    () => {
        "id, org_id, org_path, kind, title, starts_at, ends_at, venue, status, closed_at, created_by, created_at, \
         cancelled_at"
    };
}

mod attendance;
pub mod cadence;
pub mod minutes;
pub mod plan;
pub mod records;
mod roster;
pub mod seats;
pub mod writer;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MeetingRow {
    pub id: i64,
    pub org_id: i64,
    pub org_path: String,
    #[sqlx(try_from = "String")]
    pub kind: MeetingKind,
    pub title: String,
    pub starts_at: OffsetDateTime,
    pub ends_at: OffsetDateTime,
    pub venue: Option<String>,
    #[sqlx(try_from = "String")]
    pub status: MeetingStatus,
    pub closed_at: Option<OffsetDateTime>,
    pub created_by: Option<i64>,
    pub created_at: OffsetDateTime,
    /// A cancelled meeting is stored `closed` with this set (migration 0005).
    pub cancelled_at: Option<OffsetDateTime>,
}

const MEETING_COLS: &str = meeting_cols!();

impl MeetingRow {
    pub fn stored_status(&self) -> MeetingStatus {
        self.status
    }
    /// The status to show at `now`: planned until the first check-in or the start time;
    /// `cancelled` for a cancelled meeting (stored `closed`).
    pub fn shown_status(&self, now: OffsetDateTime) -> meeting::ShownStatus {
        meeting::shown(self.status, self.cancelled_at.is_some(), self.starts_at, now)
    }
    fn window(&self, grace: Duration) -> Window {
        Window {
            starts_at: self.starts_at,
            ends_at: self.ends_at,
            grace,
        }
    }
}

#[derive(Debug, Clone)]
pub struct NewMeeting {
    pub org_id: i64,
    pub kind: MeetingKind,
    pub title: String,
    pub starts_at: OffsetDateTime,
    pub ends_at: OffsetDateTime,
    pub venue: Option<String>,
}

/// One person's check-in events (by meeting) and leaves, over all meetings: what their own
/// meeting list and attendance history judge each meeting by.
pub(crate) struct PersonEvents {
    by_meeting: std::collections::HashMap<i64, Vec<meeting::Event>>,
    leaves: Vec<i64>,
}

impl PersonEvents {
    /// The person's attendance at `m` with the late grace of its subtree.
    fn at(&self, m: &MeetingRow, grace: Duration) -> meeting::PersonAttendance {
        let evs = self.by_meeting.get(&m.id).map_or(&[][..], Vec::as_slice);
        meeting::person_attendance(evs, self.leaves.contains(&m.id), &m.window(grace))
    }
}

/// Who checks in: a person id, or a card to look up among the expected and invited.
#[derive(Debug, Clone)]
pub enum Who {
    Person(i64),
    Card(String),
}

#[derive(Debug, Clone)]
pub struct NewCheckin {
    pub event_id: String,
    pub who: Who,
    pub method: CheckinMethod,
    pub direction: Direction,
    /// The device's clock as sent; None → the server's receipt time.
    pub at: Option<OffsetDateTime>,
    pub reason: Option<String>,
    /// Who posts it. A member checking themself in (QR on their phone) is admitted when
    /// expected at or invited to the meeting, whatever subtree their own grant covers (a 党小组
    /// member at the branch's meeting, a guest from another branch), only inside the check-in
    /// window, and judged by the server's clock. Not part of the body's fingerprint.
    pub poster: Poster,
    /// Staff or a device confirmed a check-in before the window opens (`checkin_before_window`).
    pub confirmed: bool,
}

impl NewCheckin {
    pub fn self_only(&self) -> bool {
        self.poster == Poster::Member
    }
}

impl NewCheckin {
    /// The fingerprint of the body as sent (after parsing: `direction` defaulted, `at` in UTC),
    /// so a replay with the same body is recognised and a different one refused.
    fn body_hash(&self) -> String {
        let who = match &self.who {
            Who::Person(p) => format!("p:{p}"),
            Who::Card(c) => format!("c:{c}"),
        };
        let at = self
            .at
            .map(|t| {
                crate::clock::truncate_micros(t)
                    .format(&Rfc3339)
                    .unwrap_or_default()
            })
            .unwrap_or_default();
        let mut h = Sha256::new();
        for part in [
            self.event_id.as_str(),
            &who,
            self.method.as_str(),
            self.direction.as_str(),
            &at,
            self.reason.as_deref().unwrap_or(""),
        ] {
            h.update(part.as_bytes());
            h.update([0x1f]);
        }
        hex::encode(h.finalize())
    }
}

/// The answer to a check-in: 201 when stored now, 200 for a replay (the same stored body).
#[derive(Debug, Clone)]
pub struct CheckinAnswer {
    pub created: bool,
    pub body: serde_json::Value,
    /// The stored event's sequence number (`checkin_event.id`) when stored now; None for replays.
    pub seq: Option<i64>,
}

/// seq, event_id, person_id, name, answer_json, counted_at
type LiveRow = (i64, String, Option<i64>, Option<String>, String, OffsetDateTime);

/// One committed check-in as the live stream shows it.
#[derive(Debug, Clone)]
pub struct LiveCheckin {
    pub seq: i64,
    pub event_id: String,
    pub person_id: Option<i64>,
    pub name: String,
    pub state: String,
    pub late: bool,
    pub at: OffsetDateTime,
}

/// The PostgreSQL channel on which committed check-ins are announced to the other nodes, with
/// the payload `<meeting_id>:<seq>`.
pub const CHECKIN_CHANNEL: &str = "dangjian_checkin";

/// One line of the attendance sheet, with the person's name.
#[derive(Debug, Clone)]
pub struct AttendanceLine {
    pub line: Line,
    pub name: String,
}

#[derive(Debug, Clone)]
pub struct AttendanceView {
    pub lines: Vec<AttendanceLine>,
    pub counts: meeting::Counts,
}

fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap_or_default()
}

/// Locks the meeting row for the rest of the transaction (a no-op UPDATE: a row lock on
/// PostgreSQL; SQLite holds the write lock already), so check-ins, leaves and closing serialize
/// per meeting and a check-in never slips in after the close. Outside the scope → 404.
async fn lock_meeting(tx: &mut Tx, scope: &Scope, id: i64) -> StoreResult<MeetingRow> {
    Ok(plan::lock_plan(tx, scope, id).await?.meeting)
}

fn closed() -> StoreError {
    StoreError::Conflict(RuleViolation::new("meeting_closed"))
}

/// Who is expected beyond "formal or probationary in the meeting org's subtree": at a 支委会
/// (kind `committee`) only the committee — people holding a current post in the meeting's org.
/// An extra SQL condition on the person table as `alias`; empty for other kinds. The one place
/// that says so: every query of expected people appends it.
pub(crate) fn committee_only(kind: MeetingKind, org_id: i64, alias: &str) -> String {
    if kind == MeetingKind::Committee {
        format!(
            " AND EXISTS (SELECT 1 FROM committee_post cp WHERE cp.org_id = {org_id} \
             AND cp.person_id = {alias}.id AND cp.ended_on IS NULL)"
        )
    } else {
        String::new()
    }
}

/// Expected only (not invited): formal or probationary in the subtree (the committee at a 支委会).
async fn is_expected(tx: &mut Tx, m: &MeetingRow, person_id: i64) -> StoreResult<bool> {
    let sql = format!(
        "SELECT COUNT(*) FROM person WHERE id = $1 AND org_path >= $2 AND org_path < $3 \
         AND status IN ('formal','probationary'){}",
        committee_only(m.kind, m.org_id, "person")
    );
    let n: i64 = with_tx!(tx, c => sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
        .bind(person_id).bind(&m.org_path).bind(upper_bound(&m.org_path)).fetch_one(c).await)?;
    Ok(n > 0)
}

impl Meetings<'_> {
    pub async fn create_meeting(
        &self,
        scope: &Scope,
        actor: &Actor,
        new: NewMeeting,
    ) -> StoreResult<MeetingRow> {
        meeting::plan::check_times(new.starts_at, new.ends_at)?;
        let (mut tx, now) = self.begin_now().await?;
        let org = org_in_scope(&mut tx, scope, new.org_id).await?;
        meeting::plan::check_org_existed(self.local.date_of(new.starts_at), org.established_on)?;
        let sql = format!(
            "INSERT INTO meeting (org_id, org_path, kind, title, starts_at, ends_at, venue, status, created_by, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, 'planned', $8, $9) RETURNING {MEETING_COLS}"
        );
        let row: MeetingRow = with_tx!(&mut tx, c => sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(org.id).bind(&org.path).bind(new.kind.as_str()).bind(&new.title)
            .bind(crate::clock::truncate_micros(new.starts_at)).bind(crate::clock::truncate_micros(new.ends_at))
            .bind(&new.venue).bind(actor.user_id).bind(now).fetch_one(c).await)?;
        tx.into_audit(actor, now)
            .on("create", "meeting", row.id, &row.org_path)
            .after(json!({
                "org_id": row.org_id, "kind": row.kind, "title": row.title,
                "starts_at": rfc3339(row.starts_at), "ends_at": rfc3339(row.ends_at), "venue": row.venue,
            }))
            .commit()
            .await?;
        Ok(row)
    }

    pub async fn meeting(&self, scope: &Scope, id: i64) -> StoreResult<MeetingRow> {
        Ok(self.meeting_plan(scope, id).await?.meeting)
    }

    /// Records an approved leave (the secretary or staff record it directly). The person must be
    /// expected; one leave per person and meeting.
    pub async fn record_leave(
        &self,
        scope: &Scope,
        actor: &Actor,
        meeting_id: i64,
        person_id: i64,
        reason: Option<String>,
    ) -> StoreResult<i64> {
        let (mut tx, now) = self.begin_now().await?;
        let m = lock_meeting(&mut tx, scope, meeting_id).await?;
        let expected = is_expected(&mut tx, &m, person_id).await?;
        let recorded: i64 = with_tx!(&mut tx, c => sqlx::query_scalar(
            "SELECT COUNT(*) FROM meeting_leave WHERE meeting_id = $1 AND person_id = $2")
            .bind(m.id).bind(person_id).fetch_one(c).await)?;
        meeting::plan::may_record_leave(m.stored_status(), expected, recorded > 0)?;
        let id: i64 = with_tx!(&mut tx, c => sqlx::query_scalar(
            "INSERT INTO meeting_leave (meeting_id, person_id, reason, status, recorded_by, created_at) \
             VALUES ($1, $2, $3, 'approved', $4, $5) RETURNING id")
            .bind(m.id).bind(person_id).bind(&reason).bind(actor.user_id).bind(now).fetch_one(c).await)?;
        // the reason may be personal (illness): not copied into the audit trail
        tx.into_audit(actor, now)
            .on("leave", "meeting", m.id, &m.org_path)
            .after(json!({"leave_id": id, "person_id": person_id, "status": "approved"}))
            .commit()
            .await?;
        Ok(id)
    }

    /// The sequence number of the meeting's newest committed check-in (0: none yet). A page
    /// reads it before the attendance it shows, then streams from it, so nothing committed in
    /// between is missed (and what is shown twice is idempotent).
    pub async fn last_checkin_seq(&self, meeting_id: i64) -> StoreResult<i64> {
        let seq: Option<i64> = with_db!(&self.db, p => sqlx::query_scalar(
            "SELECT MAX(id) FROM checkin_event WHERE meeting_id = $1").bind(meeting_id).fetch_one(p).await)?;
        Ok(seq.unwrap_or(0))
    }

    /// The committed check-ins of a meeting with `after < seq <= upto` (no upper bound when
    /// None), in order, with the names, and the meeting's counts now. Outside the scope → 404.
    pub async fn live_checkins(
        &self,
        scope: &Scope,
        meeting_id: i64,
        after: i64,
        upto: Option<i64>,
    ) -> StoreResult<(Vec<LiveCheckin>, meeting::Counts)> {
        let m = self.meeting(scope, meeting_id).await?;
        let rows: Vec<LiveRow> = with_db!(&self.db, p => sqlx::query_as(
            "SELECT e.id, e.event_id, e.person_id, p.name, e.answer_json, e.counted_at FROM checkin_event e \
             LEFT JOIN person p ON p.id = e.person_id \
             WHERE e.meeting_id = $1 AND e.id > $2 AND e.id <= $3 ORDER BY e.id")
            .bind(m.id).bind(after).bind(upto.unwrap_or(i64::MAX)).fetch_all(p).await)?;
        let events = rows
            .into_iter()
            .map(|(seq, event_id, person_id, name, answer, at)| {
                let a: serde_json::Value = serde_json::from_str(&answer).unwrap_or_default();
                LiveCheckin {
                    seq,
                    event_id,
                    person_id,
                    name: name.unwrap_or_default(),
                    state: a["state"].as_str().unwrap_or_default().to_owned(),
                    late: a["late"].as_bool().unwrap_or(false),
                    at,
                }
            })
            .collect();
        let counts = self.attendance(scope, m.id).await?.counts;
        Ok((events, counts))
    }

    /// On PostgreSQL, a LISTEN connection on `dangjian_checkin` (for the node's task that brings
    /// other nodes' check-ins to its streams); None on SQLite (one node).
    pub async fn checkin_listener(&self) -> Option<StoreResult<CheckinListener>> {
        let crate::db::Db::Postgres(pool) = &self.db else {
            return None;
        };
        Some(
            async {
                let mut l = sqlx::postgres::PgListener::connect_with(pool).await?;
                l.listen(CHECKIN_CHANNEL).await?;
                Ok(CheckinListener(l))
            }
            .await,
        )
    }

    /// The unresolved cards of a meeting (for staff): (event_id, card_uid, device time).
    pub async fn unresolved_cards(
        &self,
        scope: &Scope,
        meeting_id: i64,
    ) -> StoreResult<Vec<(String, String, OffsetDateTime)>> {
        let m = self.meeting(scope, meeting_id).await?;
        Ok(with_db!(&self.db, p => sqlx::query_as(
            "SELECT event_id, card_uid, device_at FROM unresolved_card WHERE meeting_id = $1 ORDER BY id")
            .bind(m.id).fetch_all(p).await)?)
    }

    /// Registers a device: a login `device-<id>` (no usable password) with the `device` role on
    /// the org, and a bearer token bound to it (its hash stored), all in one transaction.
    pub async fn create_device(
        &self,
        scope: &Scope,
        actor: &Actor,
        name: &str,
        kind: &str,
        org_id: i64,
        token: &str,
    ) -> StoreResult<i64> {
        let (mut tx, now) = self.begin_now().await?;
        let org = org_in_scope(&mut tx, scope, org_id).await?;
        let id: i64 = with_tx!(&mut tx, c => sqlx::query_scalar(
            "INSERT INTO device (name, kind, org_id, created_at) VALUES ($1, $2, $3, $4) RETURNING id")
            .bind(name).bind(kind).bind(org.id).bind(now).fetch_one(c).await)?;
        let username = format!("device-{id}");
        // "!" is no password hash: nobody can log in as a device, it uses its token
        let user_id: i64 = with_tx!(&mut tx, c => sqlx::query_scalar(
            "INSERT INTO app_user (username, password_hash, person_id, must_change_password, disabled, created_at) \
             VALUES ($1, '!', NULL, FALSE, FALSE, $2) RETURNING id")
            .bind(&username).bind(now).fetch_one(c).await)?;
        with_tx!(&mut tx, c => sqlx::query("INSERT INTO role_grant (user_id, role, org_id, created_at) VALUES ($1, $2, $3, $4)")
            .bind(user_id).bind(Role::Device.as_str()).bind(org.id).bind(now).execute(c).await.map(|r| r.rows_affected()))?;
        with_tx!(&mut tx, c => sqlx::query(
            "INSERT INTO api_token (token_hash, user_id, name, revoked, created_at) VALUES ($1, $2, $3, FALSE, $4)")
            .bind(crate::account::token_hash(token)).bind(user_id).bind(&username).bind(now)
            .execute(c).await.map(|r| r.rows_affected()))?;
        with_tx!(&mut tx, c => sqlx::query("UPDATE device SET user_id = $1 WHERE id = $2")
            .bind(user_id).bind(id).execute(c).await.map(|r| r.rows_affected()))?;
        tx.into_audit(actor, now)
            .on("create", "device", id, &org.path)
            .after(json!({"name": name, "kind": kind, "org_id": org.id, "user_id": user_id}))
            .commit()
            .await?;
        Ok(id)
    }
}

/// A LISTEN connection on `dangjian_checkin`.
pub struct CheckinListener(sqlx::postgres::PgListener);

impl CheckinListener {
    /// The next announcement of another node: `(meeting_id, first seq, last seq)`; this node's
    /// own (published already) and payloads not of the form `m:first:last:node` are skipped.
    pub async fn recv(&mut self, own_node: u64) -> StoreResult<(i64, i64, i64)> {
        loop {
            let n = self.0.recv().await?;
            let parts: Vec<&str> = n.payload().split(':').collect();
            if let [m, first, last, node] = parts[..]
                && let (Ok(m), Ok(first), Ok(last), Ok(node)) =
                    (m.parse(), first.parse(), last.parse(), node.parse::<u64>())
                && node != own_node
            {
                return Ok((m, first, last));
            }
        }
    }
}

impl Meetings<'_> {
    pub(crate) async fn person_events_by_meeting(&self, person_id: i64) -> StoreResult<PersonEvents> {
        let events: Vec<(i64, String, OffsetDateTime)> = with_db!(&self.db, p => sqlx::query_as(
            "SELECT meeting_id, direction, counted_at FROM checkin_event WHERE person_id = $1 ORDER BY id")
            .bind(person_id).fetch_all(p).await)?;
        let leaves: Vec<i64> = with_db!(&self.db, p => sqlx::query_scalar(
            "SELECT meeting_id FROM meeting_leave WHERE person_id = $1").bind(person_id).fetch_all(p).await)?;
        let mut by_meeting: std::collections::HashMap<i64, Vec<meeting::Event>> = Default::default();
        for (m, d, at) in events {
            by_meeting.entry(m).or_default().push(meeting::Event {
                direction: crate::error::decode(&d)?,
                at,
            });
        }
        Ok(PersonEvents { by_meeting, leaves })
    }

    /// Whether the meeting is the person's business: in the scope, or they are expected at or
    /// invited to it.
    pub async fn meeting_concerns(
        &self,
        scope: &Scope,
        meeting_id: i64,
        person_id: i64,
    ) -> StoreResult<bool> {
        let sql = format!("SELECT {MEETING_COLS} FROM meeting WHERE id = $1");
        let m: Option<MeetingRow> = with_db!(&self.db, p => sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(meeting_id).fetch_optional(p).await)?;
        let Some(m) = m else {
            return Ok(false);
        };
        if scope.contains_path(&m.org_path) {
            return Ok(true);
        }
        let sql = format!(
            "SELECT COUNT(*) FROM person p WHERE p.id = $1 AND ((p.org_path >= $2 AND p.org_path < $3 \
             AND p.status IN ('formal','probationary'){}) \
             OR EXISTS (SELECT 1 FROM meeting_invitee i WHERE i.meeting_id = $4 AND i.person_id = p.id))",
            committee_only(m.kind, m.org_id, "p")
        );
        let n: i64 = with_db!(&self.db, p => sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
            .bind(person_id).bind(&m.org_path).bind(upper_bound(&m.org_path)).bind(m.id).fetch_one(p).await)?;
        Ok(n > 0)
    }

    /// Whether a check-in with this `event_id` is already stored for the meeting (in the scope).
    pub async fn checkin_seen(&self, scope: &Scope, meeting_id: i64, event_id: &str) -> StoreResult<bool> {
        let path: Option<String> = with_db!(&self.db, p => sqlx::query_scalar(
            "SELECT org_path FROM meeting WHERE id = $1").bind(meeting_id).fetch_optional(p).await)?;
        if !path.is_some_and(|p| scope.contains_path(&p)) {
            return Err(StoreError::NotFound);
        }
        let n: i64 = with_db!(&self.db, p => sqlx::query_scalar(
            "SELECT COUNT(*) FROM checkin_event WHERE meeting_id = $1 AND event_id = $2")
            .bind(meeting_id).bind(event_id).fetch_one(p).await)?;
        Ok(n > 0)
    }
}
