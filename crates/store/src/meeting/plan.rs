//! Planning meetings (issue 5): the list, host/recorder/agenda, the wall's text, invitees,
//! cancel and reschedule, recurring series, and notices to attendees. Members' leave requests
//! and their own meeting pages are in `plan/leave.rs`, invitees in `plan/invitees.rs`.
//!
//! A cancelled meeting is stored `closed` (with `cancelled_at`, `cancel_reason`): nobody can
//! check in any more and its attendance is read-only, through the check-in path's own rule. It
//! was not held: counts of meetings held must leave out rows with `cancelled_at`.
//!
//! Notices: one `meeting_notice` row per attendee (expected or invited) per event — `planned`
//! when the secretary sends the notice (or a series is planned), `rescheduled`, `cancelled`.

use dangjian_rules::RuleViolation;
use dangjian_rules::meeting::plan::{self, PlanFacts};
use dangjian_rules::meeting::{MeetingKind, MeetingStatus};
use serde_json::json;
use time::OffsetDateTime;

use super::MeetingRow;
use crate::Meetings;
use crate::audit::Actor;
use crate::db::Tx;
use crate::error::{StoreError, StoreResult};
use crate::org::org_in_scope;
use crate::paths::upper_bound;
use crate::scope::Scope;

mod invitees;
mod leave;

pub use invitees::InviteeRow;
pub use leave::{LeaveRequestRow, MyMeeting, MyNotice};

/// A meeting with its planning fields: the meeting row (its fields read through `Deref`) and
/// what planning adds.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PlanRow {
    #[sqlx(flatten)]
    pub meeting: MeetingRow,
    pub host: Option<String>,
    pub recorder: Option<String>,
    pub agenda: Option<String>,
    pub cancel_reason: Option<String>,
    pub series_id: Option<i64>,
    pub wall_title: Option<String>,
    pub wall_text: Option<String>,
}

impl std::ops::Deref for PlanRow {
    type Target = MeetingRow;
    fn deref(&self) -> &MeetingRow {
        &self.meeting
    }
}

pub(crate) const PLAN_COLS: &str = concat!(
    meeting_cols!(),
    ", host, recorder, agenda, cancel_reason, series_id, wall_title, wall_text"
);

impl PlanRow {
    /// `planned`, `open`, `closed` as the meeting shows at `now`, or `cancelled`.
    pub fn shown_status(&self, now: OffsetDateTime) -> &'static str {
        self.meeting.shown_status(now).as_str()
    }
    pub fn is_closed(&self) -> bool {
        self.status == MeetingStatus::Closed
    }
}

/// Which meetings to list.
#[derive(Debug, Clone, Default)]
pub struct MeetingFilter {
    pub org_id: Option<i64>,
    pub subtree: bool,
    /// Starting at or after / before.
    pub from: Option<OffsetDateTime>,
    pub to: Option<OffsetDateTime>,
    /// `planned`, `open`, `closed`, `cancelled`.
    pub status: Option<String>,
    pub limit: i64,
    pub offset: i64,
}

/// A change of the planning fields: `Some(None)` clears a field, `None` leaves it.
#[derive(Debug, Clone, Default)]
pub struct PlanChange {
    pub title: Option<String>,
    pub venue: Option<Option<String>>,
    pub host: Option<Option<String>>,
    pub recorder: Option<Option<String>>,
    pub agenda: Option<Option<String>>,
    pub wall_title: Option<Option<String>>,
    pub wall_text: Option<Option<String>>,
}

pub use dangjian_rules::meeting::plan::{Every, SERIES_MAX, series_start};

fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// Locks the meeting row for the transaction (as the check-in path does) and reads it with its
/// planning fields. Outside the scope → 404.
pub(crate) async fn lock_plan(tx: &mut Tx, scope: &Scope, id: i64) -> StoreResult<PlanRow> {
    let sql = format!("UPDATE meeting SET status = status WHERE id = $1 RETURNING {PLAN_COLS}");
    let row: Option<PlanRow> =
        with_tx!(tx, c => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(c).await)?;
    match row {
        Some(m) if scope.contains_path(&m.org_path) => Ok(m),
        _ => Err(StoreError::NotFound),
    }
}

/// At a 支委会 only the committee is expected: whether the person holds a current post there
/// (always true for other kinds; asked of someone already expected by path and status).
async fn on_committee_if_asked(tx: &mut Tx, m: &PlanRow, person_id: i64) -> StoreResult<bool> {
    let sql = format!(
        "SELECT COUNT(*) FROM person WHERE id = $1{}",
        super::committee_only(m.kind, m.org_id, "person")
    );
    let n: i64 =
        with_tx!(tx, c => sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).bind(person_id).fetch_one(c).await)?;
    Ok(n > 0)
}

/// What the planning rules (`rules::meeting::plan`) judge a locked meeting by.
async fn plan_facts(tx: &mut Tx, m: &PlanRow) -> StoreResult<PlanFacts> {
    let checkins: i64 = with_tx!(tx, c => sqlx::query_scalar("SELECT COUNT(*) FROM checkin_event WHERE meeting_id = $1")
        .bind(m.id).fetch_one(c).await)?;
    Ok(PlanFacts {
        status: m.status,
        cancelled: m.cancelled_at.is_some(),
        checkins,
    })
}

/// Writes one notice of `event` to every attendee (expected or invited); `planned` only to those
/// who have none yet. Returns how many were written.
async fn notify(tx: &mut Tx, m: &PlanRow, event: &str, now: OffsetDateTime) -> StoreResult<u64> {
    let only_new = if event == "planned" {
        " AND NOT EXISTS (SELECT 1 FROM meeting_notice n WHERE n.meeting_id = $1 AND n.person_id = p.id AND n.event = 'planned')"
    } else {
        ""
    };
    let sql = format!(
        "INSERT INTO meeting_notice (meeting_id, person_id, event, starts_at, venue, reason, created_at) \
         SELECT $1, p.id, $2, $3, $4, $5, $6 FROM person p \
         WHERE ((p.org_path >= $7 AND p.org_path < $8 AND p.status IN ('formal','probationary'){committee}) \
         OR p.id IN (SELECT i.person_id FROM meeting_invitee i WHERE i.meeting_id = $1)){only_new}",
        committee = super::committee_only(m.kind, m.org_id, "p")
    );
    let n = with_tx!(tx, c => sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(m.id).bind(event).bind(m.starts_at).bind(&m.venue).bind(&m.cancel_reason).bind(now)
        .bind(&m.org_path).bind(upper_bound(&m.org_path)).execute(c).await.map(|r| r.rows_affected()))?;
    Ok(n)
}

impl Meetings<'_> {
    /// Meetings in the scope, soonest first within a day range, newest first otherwise.
    pub async fn list_meetings(&self, scope: &Scope, f: &MeetingFilter) -> StoreResult<(Vec<PlanRow>, i64)> {
        let (mut where_sql, mut binds) = scope.sql_filter("org_path", None, 0);
        if let Some(org_id) = f.org_id {
            let org = self.orgs().org(scope, org_id).await?;
            if f.subtree {
                let n = binds.len();
                where_sql.push_str(&format!(" AND org_path >= ${} AND org_path < ${}", n + 1, n + 2));
                binds.push(org.path.clone());
                binds.push(upper_bound(&org.path));
            } else {
                // an integer from our own database
                where_sql.push_str(&format!(" AND org_id = {}", org.id));
            }
        }
        let n = binds.len();
        let (from_n, to_n, now_n) = (n + 1, n + 2, n + 3);
        where_sql.push_str(&format!(
            " AND (${from_n} IS NULL OR starts_at >= ${from_n}) AND (${to_n} IS NULL OR starts_at < ${to_n})"
        ));
        match f.status.as_deref() {
            Some("cancelled") => where_sql.push_str(" AND cancelled_at IS NOT NULL"),
            Some("closed") => where_sql.push_str(" AND status = 'closed' AND cancelled_at IS NULL"),
            Some("planned") => {
                where_sql.push_str(&format!(" AND status = 'planned' AND starts_at > ${now_n}"))
            }
            Some("open") => where_sql.push_str(&format!(
                " AND (status = 'open' OR (status = 'planned' AND starts_at <= ${now_n}))"
            )),
            _ => {}
        }
        // `now` is bound only when a status filter uses it
        let uses_now = matches!(f.status.as_deref(), Some("planned" | "open"));
        let next = if uses_now { now_n + 1 } else { now_n };
        let sql = format!(
            "SELECT {PLAN_COLS} FROM meeting WHERE {where_sql} ORDER BY starts_at DESC, id DESC LIMIT ${next} OFFSET ${}",
            next + 1
        );
        let count_sql = format!("SELECT COUNT(*) FROM meeting WHERE {where_sql}");
        let now = self.now();
        // stored in UTC (SQLite compares the text)
        let from = f.from.map(crate::clock::truncate_micros);
        let to = f.to.map(crate::clock::truncate_micros);
        let (rows, total): (Vec<PlanRow>, i64) = with_db!(&self.db, p => {
            let mut q = sqlx::query_as::<_, PlanRow>(sqlx::AssertSqlSafe(sql));
            let mut cq = sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(count_sql));
            for b in &binds { q = q.bind(b); cq = cq.bind(b); }
            q = q.bind(from).bind(to);
            cq = cq.bind(from).bind(to);
            if uses_now { q = q.bind(now); cq = cq.bind(now); }
            let rows = q.bind(f.limit).bind(f.offset).fetch_all(p).await?;
            let total = cq.fetch_one(p).await?;
            Ok::<_, sqlx::Error>((rows, total))
        })?;
        Ok((rows, total))
    }

    /// One meeting with its planning fields. Outside the scope → 404.
    pub async fn meeting_plan(&self, scope: &Scope, id: i64) -> StoreResult<PlanRow> {
        let sql = format!("SELECT {PLAN_COLS} FROM meeting WHERE id = $1");
        let row: Option<PlanRow> = with_db!(&self.db, p => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(p).await)?;
        match row {
            Some(m) if scope.contains_path(&m.org_path) => Ok(m),
            _ => Err(StoreError::NotFound),
        }
    }

    /// Changes title, venue, host, recorder, agenda or the wall's text while the meeting is not
    /// closed.
    pub async fn update_plan(
        &self,
        scope: &Scope,
        actor: &Actor,
        id: i64,
        ch: PlanChange,
    ) -> StoreResult<PlanRow> {
        let (mut tx, now) = self.begin_now().await?;
        let m = lock_plan(&mut tx, scope, id).await?;
        plan::may_change(&plan_facts(&mut tx, &m).await?)?;
        let pick =
            |new: &Option<Option<String>>, old: &Option<String>| new.clone().unwrap_or_else(|| old.clone());
        let title = ch.title.clone().unwrap_or_else(|| m.title.clone());
        let venue = pick(&ch.venue, &m.venue);
        let host = pick(&ch.host, &m.host);
        let recorder = pick(&ch.recorder, &m.recorder);
        let agenda = pick(&ch.agenda, &m.agenda);
        let wall_title = pick(&ch.wall_title, &m.wall_title);
        let wall_text = pick(&ch.wall_text, &m.wall_text);
        let sql = format!(
            "UPDATE meeting SET title = $1, venue = $2, host = $3, recorder = $4, agenda = $5, wall_title = $6, \
             wall_text = $7 WHERE id = $8 RETURNING {PLAN_COLS}"
        );
        let row: PlanRow = with_tx!(&mut tx, c => sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(&title).bind(&venue).bind(&host).bind(&recorder).bind(&agenda).bind(&wall_title)
            .bind(&wall_text).bind(m.id).fetch_one(c).await)?;
        let summary = |r: &PlanRow| {
            json!({"title": r.title, "venue": r.venue, "host": r.host, "recorder": r.recorder,
                   "agenda": r.agenda, "wall_title": r.wall_title, "wall_text_chars": r.wall_text.as_ref().map(|t| t.chars().count())})
        };
        tx.into_audit(actor, now)
            .on("update", "meeting", m.id, &m.org_path)
            .before(summary(&m))
            .after(summary(&row))
            .commit()
            .await?;
        Ok(row)
    }

    /// Sends the meeting's notice to every attendee who has none yet; returns how many.
    pub async fn send_notice(&self, scope: &Scope, actor: &Actor, id: i64) -> StoreResult<u64> {
        let (mut tx, now) = self.begin_now().await?;
        let m = lock_plan(&mut tx, scope, id).await?;
        plan::may_change(&plan_facts(&mut tx, &m).await?)?;
        let n = notify(&mut tx, &m, "planned", now).await?;
        tx.into_audit(actor, now)
            .on("notify", "meeting", m.id, &m.org_path)
            .after(json!({"event": "planned", "notices": n}))
            .commit()
            .await?;
        Ok(n)
    }

    /// Cancels a meeting nobody has checked in to yet, with a reason; attendees are notified.
    pub async fn cancel_meeting(
        &self,
        scope: &Scope,
        actor: &Actor,
        id: i64,
        reason: &str,
    ) -> StoreResult<PlanRow> {
        let (mut tx, now) = self.begin_now().await?;
        let m = lock_plan(&mut tx, scope, id).await?;
        plan::may_cancel_or_move(&plan_facts(&mut tx, &m).await?)?;
        let sql = format!(
            "UPDATE meeting SET status = 'closed', closed_at = $1, cancelled_at = $1, cancel_reason = $2 \
             WHERE id = $3 RETURNING {PLAN_COLS}"
        );
        let row: PlanRow = with_tx!(&mut tx, c => sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(now).bind(reason).bind(m.id).fetch_one(c).await)?;
        let n = notify(&mut tx, &row, "cancelled", now).await?;
        tx.into_audit(actor, now)
            .on("cancel", "meeting", m.id, &m.org_path)
            .before(json!({"status": m.status}))
            .after(json!({"status": "cancelled", "reason": reason, "notices": n}))
            .commit()
            .await?;
        Ok(row)
    }

    /// Moves a meeting nobody has checked in to yet to a new time (and venue); the id stays,
    /// attendees are notified.
    pub async fn reschedule_meeting(
        &self,
        scope: &Scope,
        actor: &Actor,
        id: i64,
        starts_at: OffsetDateTime,
        ends_at: OffsetDateTime,
        venue: Option<Option<String>>,
    ) -> StoreResult<PlanRow> {
        plan::check_times(starts_at, ends_at)?;
        let (mut tx, now) = self.begin_now().await?;
        let m = lock_plan(&mut tx, scope, id).await?;
        plan::may_cancel_or_move(&plan_facts(&mut tx, &m).await?)?;
        let org = crate::org::org_in_tx(&mut tx, m.org_id).await?;
        plan::check_org_existed(self.local.date_of(starts_at), org.established_on)?;
        let venue = venue.unwrap_or_else(|| m.venue.clone());
        let sql = format!(
            "UPDATE meeting SET starts_at = $1, ends_at = $2, venue = $3, status = 'planned' WHERE id = $4 RETURNING {PLAN_COLS}"
        );
        let row: PlanRow = with_tx!(&mut tx, c => sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(crate::clock::truncate_micros(starts_at)).bind(crate::clock::truncate_micros(ends_at))
            .bind(&venue).bind(m.id).fetch_one(c).await)?;
        let n = notify(&mut tx, &row, "rescheduled", now).await?;
        tx.into_audit(actor, now).act("reschedule", "meeting").id(m.id).org(m.org_path.clone()).before(json!({"starts_at": rfc3339(m.starts_at), "ends_at": rfc3339(m.ends_at), "venue": m.venue})).after(json!({"starts_at": rfc3339(row.starts_at), "ends_at": rfc3339(row.ends_at), "venue": row.venue, "notices": n}))
.commit()
.await?;
        Ok(row)
    }

    /// Plans `count` meetings from one rule (every week or month from the first), linked by a
    /// series id, in one transaction; every attendee gets a notice of each.
    #[expect(clippy::too_many_arguments, reason = "the fields of a series")]
    pub async fn create_series(
        &self,
        scope: &Scope,
        actor: &Actor,
        org_id: i64,
        kind: MeetingKind,
        title: &str,
        first_start: OffsetDateTime,
        first_end: OffsetDateTime,
        venue: Option<String>,
        every: Every,
        count: i64,
    ) -> StoreResult<(i64, Vec<PlanRow>)> {
        plan::check_series(first_start, first_end, count)?;
        let now = self.now();
        let offset = self.local.offset;
        let length = first_end - first_start;
        let mut tx = self.begin().await?;
        let org = org_in_scope(&mut tx, scope, org_id).await?;
        plan::check_org_existed(self.local.date_of(first_start), org.established_on)?;
        let series_id: i64 = with_tx!(&mut tx, c => sqlx::query_scalar(
            "INSERT INTO meeting_series (org_id, org_path, kind, title, every, count, created_by, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id")
            .bind(org.id).bind(&org.path).bind(kind.as_str()).bind(title).bind(every.as_str()).bind(count)
            .bind(actor.user_id).bind(now).fetch_one(c).await)?;
        let mut rows = Vec::new();
        for i in 0..count {
            let start = series_start(first_start, every, i, offset)
                .ok_or_else(|| StoreError::from(RuleViolation::field("datetime_invalid", "starts_at")))?;
            let start = crate::clock::truncate_micros(start);
            let sql = format!(
                "INSERT INTO meeting (org_id, org_path, kind, title, starts_at, ends_at, venue, status, created_by, created_at, series_id) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, 'planned', $8, $9, $10) RETURNING {PLAN_COLS}"
            );
            let row: PlanRow = with_tx!(&mut tx, c => sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .bind(org.id).bind(&org.path).bind(kind.as_str()).bind(title).bind(start).bind(start + length)
                .bind(&venue).bind(actor.user_id).bind(now).bind(series_id).fetch_one(c).await)?;
            notify(&mut tx, &row, "planned", now).await?;
            rows.push(row);
        }
        tx.into_audit(actor, now)
            .act("create_series", "meeting")
            .id_opt(rows.first().map(|r| r.id.to_string()))
            .org(org.path.clone())
            .after(json!({
                "series_id": series_id, "org_id": org.id, "kind": kind.as_str(), "title": title,
                "every": every.as_str(), "count": count,
                "meeting_ids": rows.iter().map(|r| r.id).collect::<Vec<_>>(),
            }))
            .commit()
            .await?;
        Ok((series_id, rows))
    }
}
