//! Seats: a plan per venue (rows × seats, named blocks of seat numbers, reserved ranges for the
//! 主席台 or 列席), kept by an organization for its subtree's meetings, and each meeting's seats —
//! assigned by hand, or automatically (members by org path, then name pinyin; invited guests on
//! the 列席 seats first). The check-in answer's `seat` comes from `Meetings::seat_labels`.

use std::collections::{HashMap, HashSet};

use dangjian_rules::RuleViolation;
use serde::{Deserialize, Serialize};
use serde_json::json;
use time::OffsetDateTime;

use super::{MeetingRow, lock_meeting};
use crate::Meetings;
use crate::audit::Actor;
use crate::error::{StoreError, StoreResult};
use crate::org::{org_in_scope, path_ids};
use crate::paths::upper_bound;
use crate::scope::Scope;

/// A named range of seat numbers, the same in every row (e.g. 左区 1–10).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Block {
    pub name: String,
    pub from_seat: i64,
    pub to_seat: i64,
}

/// Seats of one row kept for a purpose: `presidium` (主席台) or `attendee` (列席).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reserved {
    pub row: i64,
    pub from_seat: i64,
    pub to_seat: i64,
    pub purpose: String,
}

pub const PURPOSES: &[&str] = &["presidium", "attendee"];

/// A stored plan: its layout as put (read through `Deref`), whose it is and when it changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeatPlan {
    pub id: i64,
    pub org_id: i64,
    pub layout: NewSeatPlan,
    pub updated_at: OffsetDateTime,
}

impl std::ops::Deref for SeatPlan {
    type Target = NewSeatPlan;
    fn deref(&self) -> &NewSeatPlan {
        &self.layout
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSeatPlan {
    pub venue: String,
    pub rows: i64,
    pub seats_per_row: i64,
    pub blocks: Vec<Block>,
    pub reserved: Vec<Reserved>,
}

/// One person's seat at a meeting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeatRow {
    pub person_id: i64,
    pub name: String,
    pub row: i64,
    pub seat: i64,
    pub by_hand: bool,
}

/// "第3排12座" (with the block's name in front when the seat is in a named block).
pub fn seat_label(plan: Option<&SeatPlan>, row: i64, seat: i64) -> String {
    let block = plan.and_then(|p| {
        p.blocks
            .iter()
            .find(|b| (b.from_seat..=b.to_seat).contains(&seat))
    });
    match block {
        Some(b) => format!("{}第{row}排{seat}座", b.name),
        None => format!("第{row}排{seat}座"),
    }
}

impl SeatPlan {
    /// The purpose a seat is reserved for, if any.
    pub fn reserved_for(&self, row: i64, seat: i64) -> Option<&str> {
        self.reserved
            .iter()
            .find(|r| r.row == row && (r.from_seat..=r.to_seat).contains(&seat))
            .map(|r| r.purpose.as_str())
    }

    pub fn contains(&self, row: i64, seat: i64) -> bool {
        (1..=self.rows).contains(&row) && (1..=self.seats_per_row).contains(&seat)
    }

    /// Seats in filling order (row by row, left to right) for a purpose (None: unreserved).
    fn seats_for(&self, purpose: Option<&str>) -> Vec<(i64, i64)> {
        let mut out = Vec::new();
        for row in 1..=self.rows {
            for seat in 1..=self.seats_per_row {
                if self.reserved_for(row, seat) == purpose {
                    out.push((row, seat));
                }
            }
        }
        out
    }
}

/// Checks a plan's shape: sizes within the schema's bounds, blocks and reservations inside it.
pub fn check_plan(p: &NewSeatPlan) -> Result<(), RuleViolation> {
    if !(1..=100).contains(&p.rows) {
        return Err(RuleViolation::field("seat_rows_range", "rows").arg("max", 100));
    }
    if !(1..=200).contains(&p.seats_per_row) {
        return Err(RuleViolation::field("seat_seats_range", "seats_per_row").arg("max", 200));
    }
    for (i, b) in p.blocks.iter().enumerate() {
        if b.name.trim().is_empty()
            || b.from_seat < 1
            || b.to_seat > p.seats_per_row
            || b.from_seat > b.to_seat
        {
            return Err(RuleViolation::field("seat_block_invalid", "blocks").arg("item", i + 1));
        }
    }
    for (i, r) in p.reserved.iter().enumerate() {
        let inside = (1..=p.rows).contains(&r.row) && r.from_seat >= 1 && r.to_seat <= p.seats_per_row;
        if !inside || r.from_seat > r.to_seat || !PURPOSES.contains(&r.purpose.as_str()) {
            return Err(RuleViolation::field("seat_reserved_invalid", "reserved").arg("item", i + 1));
        }
    }
    Ok(())
}

/// Automatic seats: `members` (already in org path, then pinyin order) on the unreserved seats,
/// `guests` on the 列席 seats first, then on the unreserved ones left. Seats in `taken` (by
/// hand) are skipped. Those who find no seat are returned.
pub fn auto_assign(
    plan: &SeatPlan,
    members: &[i64],
    guests: &[i64],
    taken: &HashSet<(i64, i64)>,
) -> (Vec<(i64, i64, i64)>, Vec<i64>) {
    let mut free = plan.seats_for(None).into_iter().filter(|s| !taken.contains(s));
    let mut attendee = plan
        .seats_for(Some("attendee"))
        .into_iter()
        .filter(|s| !taken.contains(s));
    let mut out = Vec::new();
    let mut unseated = Vec::new();
    for &p in members {
        match free.next() {
            Some((r, s)) => out.push((p, r, s)),
            None => unseated.push(p),
        }
    }
    for &p in guests {
        match attendee.next().or_else(|| free.next()) {
            Some((r, s)) => out.push((p, r, s)),
            None => unseated.push(p),
        }
    }
    (out, unseated)
}

type PlanDbRow = (i64, i64, String, i64, i64, String, String, OffsetDateTime);

fn plan_of(r: PlanDbRow) -> SeatPlan {
    SeatPlan {
        id: r.0,
        org_id: r.1,
        layout: NewSeatPlan {
            venue: r.2,
            rows: r.3,
            seats_per_row: r.4,
            blocks: serde_json::from_str(&r.5).unwrap_or_default(),
            reserved: serde_json::from_str(&r.6).unwrap_or_default(),
        },
        updated_at: r.7,
    }
}

const PLAN_SELECT: &str = "SELECT id, org_id, venue, seat_rows, seats_per_row, blocks_json, reserved_json, updated_at FROM seat_plan";

impl Meetings<'_> {
    /// The seat plans an organization keeps.
    pub async fn seat_plans(&self, scope: &Scope, org_id: i64) -> StoreResult<Vec<SeatPlan>> {
        let org = self.orgs().org(scope, org_id).await?;
        let sql = format!("{PLAN_SELECT} WHERE org_id = $1 ORDER BY venue");
        let rows: Vec<PlanDbRow> = with_db!(&self.db, p => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(org.id).fetch_all(p).await)?;
        Ok(rows.into_iter().map(plan_of).collect())
    }

    /// Creates or replaces the organization's plan of a venue.
    pub async fn put_seat_plan(
        &self,
        scope: &Scope,
        actor: &Actor,
        org_id: i64,
        p: NewSeatPlan,
    ) -> StoreResult<SeatPlan> {
        check_plan(&p)?;
        let now = self.now();
        let blocks = serde_json::to_string(&p.blocks).map_err(|e| StoreError::Internal(e.into()))?;
        let reserved = serde_json::to_string(&p.reserved).map_err(|e| StoreError::Internal(e.into()))?;
        let mut tx = self.begin().await?;
        let org = org_in_scope(&mut tx, scope, org_id).await?;
        let id: i64 = with_tx!(&mut tx, c => sqlx::query_scalar(
            "INSERT INTO seat_plan (org_id, org_path, venue, seat_rows, seats_per_row, blocks_json, reserved_json, updated_by, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (org_id, venue) DO UPDATE SET \
             seat_rows = excluded.seat_rows, seats_per_row = excluded.seats_per_row, blocks_json = excluded.blocks_json, \
             reserved_json = excluded.reserved_json, updated_by = excluded.updated_by, updated_at = excluded.updated_at RETURNING id")
            .bind(org.id).bind(&org.path).bind(&p.venue).bind(p.rows).bind(p.seats_per_row).bind(&blocks)
            .bind(&reserved).bind(actor.user_id).bind(now).fetch_one(c).await)?;
        tx.into_audit(actor, now)
            .on("seat_plan", "org", org.id, &org.path)
            .after(
                json!({"plan_id": id, "venue": p.venue, "rows": p.rows, "seats_per_row": p.seats_per_row,
                                   "blocks": p.blocks, "reserved": p.reserved}),
            )
            .commit()
            .await?;
        Ok(SeatPlan {
            id,
            org_id: org.id,
            layout: p,
            updated_at: now,
        })
    }

    /// The plan of the meeting's venue: kept by the meeting's org or the nearest org above it.
    async fn plan_for(&self, m: &MeetingRow) -> StoreResult<Option<SeatPlan>> {
        let Some(venue) = m.venue.as_deref() else {
            return Ok(None);
        };
        let ids = crate::db::id_list(path_ids(&m.org_path));
        if ids.is_empty() {
            return Ok(None);
        }
        let sql = format!("{PLAN_SELECT} WHERE venue = $1 AND org_id IN ({ids})");
        let rows: Vec<PlanDbRow> =
            with_db!(&self.db, p => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(venue).fetch_all(p).await)?;
        let depth = |id: i64| path_ids(&m.org_path).iter().position(|x| *x == id);
        Ok(rows.into_iter().map(plan_of).max_by_key(|p| depth(p.org_id)))
    }

    /// The meeting's seat plan (None when its venue has none) and seats.
    pub async fn meeting_seats(
        &self,
        scope: &Scope,
        meeting_id: i64,
    ) -> StoreResult<(Option<SeatPlan>, Vec<SeatRow>)> {
        let m = self.meeting(scope, meeting_id).await?;
        let plan = self.plan_for(&m).await?;
        let rows: Vec<(i64, String, i64, i64, bool)> = with_db!(&self.db, p => sqlx::query_as(
            "SELECT s.person_id, p.name, s.seat_row, s.seat_no, s.by_hand FROM meeting_seat s JOIN person p ON p.id = s.person_id \
             WHERE s.meeting_id = $1 ORDER BY s.seat_row, s.seat_no")
            .bind(m.id).fetch_all(p).await)?;
        let seats = rows
            .into_iter()
            .map(|(person_id, name, row, seat, by_hand)| SeatRow {
                person_id,
                name,
                row,
                seat,
                by_hand,
            })
            .collect();
        Ok((plan, seats))
    }

    /// Each seated person's label ("第3排12座") for the check-in answers. No scope: the check-in
    /// path calls it for a meeting it has already found in the caller's scope.
    pub async fn seat_labels(&self, meeting_id: i64) -> StoreResult<HashMap<i64, String>> {
        let m: Option<MeetingRow> = {
            let sql = format!("SELECT {} FROM meeting WHERE id = $1", super::MEETING_COLS);
            with_db!(&self.db, p => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(meeting_id).fetch_optional(p).await)?
        };
        let Some(m) = m else {
            return Ok(HashMap::new());
        };
        let plan = self.plan_for(&m).await?;
        let rows: Vec<(i64, i64, i64)> = with_db!(&self.db, p => sqlx::query_as(
            "SELECT person_id, seat_row, seat_no FROM meeting_seat WHERE meeting_id = $1")
            .bind(meeting_id).fetch_all(p).await)?;
        Ok(rows
            .into_iter()
            .map(|(p, r, s)| (p, seat_label(plan.as_ref(), r, s)))
            .collect())
    }

    /// Seats the meeting: hand assignments first (`(person, row, seat)`, replacing those
    /// people's seats), then, with `auto`, everyone expected or invited without a hand-assigned
    /// seat, automatically. Returns those left without a seat.
    pub async fn assign_seats(
        &self,
        scope: &Scope,
        actor: &Actor,
        meeting_id: i64,
        by_hand: &[(i64, i64, i64)],
        auto: bool,
    ) -> StoreResult<Vec<i64>> {
        let (mut tx, now) = self.begin_now().await?;
        let m = lock_meeting(&mut tx, scope, meeting_id).await?;
        let plan = self
            .plan_for(&m)
            .await?
            .ok_or_else(|| RuleViolation::field("seat_plan_missing", "venue"))?;
        // who may sit: expected (subtree, formal/probationary) and invited
        let sql = format!(
            "SELECT id FROM person WHERE org_path >= $1 AND org_path < $2 AND status IN ('formal','probationary'){} \
             ORDER BY org_path, name_initials, name, id",
            super::committee_only(m.kind, m.org_id, "person")
        );
        let members: Vec<i64> = with_tx!(&mut tx, c => sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
            .bind(&m.org_path).bind(upper_bound(&m.org_path)).fetch_all(c).await)?;
        let guests: Vec<i64> = with_tx!(&mut tx, c => sqlx::query_scalar(
            "SELECT i.person_id FROM meeting_invitee i JOIN person p ON p.id = i.person_id WHERE i.meeting_id = $1 \
             ORDER BY p.org_path, p.name_initials, p.name, p.id")
            .bind(m.id).fetch_all(c).await)?;
        let allowed: HashSet<i64> = members.iter().chain(&guests).copied().collect();
        let mut seen = HashSet::new();
        for (i, &(person, row, seat)) in by_hand.iter().enumerate() {
            if !allowed.contains(&person) {
                return Err(RuleViolation::field("not_expected", "person_id")
                    .arg("item", i + 1)
                    .into());
            }
            if !plan.contains(row, seat) {
                return Err(RuleViolation::field("seat_outside_plan", "seat")
                    .arg("item", i + 1)
                    .arg("rows", plan.rows)
                    .arg("seats", plan.seats_per_row)
                    .into());
            }
            if !seen.insert((row, seat)) {
                return Err(StoreError::Conflict(
                    RuleViolation::field("seat_taken", "seat").arg("item", i + 1),
                ));
            }
        }
        if auto {
            with_tx!(&mut tx, c => sqlx::query("DELETE FROM meeting_seat WHERE meeting_id = $1 AND by_hand = $2")
                .bind(m.id).bind(false).execute(c).await.map(|r| r.rows_affected()))?;
        }
        for &(person, row, seat) in by_hand {
            with_tx!(&mut tx, c => sqlx::query("DELETE FROM meeting_seat WHERE meeting_id = $1 AND (person_id = $2 OR (seat_row = $3 AND seat_no = $4))")
                .bind(m.id).bind(person).bind(row).bind(seat).execute(c).await.map(|r| r.rows_affected()))?;
            with_tx!(&mut tx, c => sqlx::query("INSERT INTO meeting_seat (meeting_id, person_id, seat_row, seat_no, by_hand) VALUES ($1, $2, $3, $4, $5)")
                .bind(m.id).bind(person).bind(row).bind(seat).bind(true).execute(c).await.map(|r| r.rows_affected()))?;
        }
        let mut unseated = Vec::new();
        let mut placed = 0usize;
        if auto {
            let kept: Vec<(i64, i64, i64)> = with_tx!(&mut tx, c => sqlx::query_as(
                "SELECT person_id, seat_row, seat_no FROM meeting_seat WHERE meeting_id = $1")
                .bind(m.id).fetch_all(c).await)?;
            let seated: HashSet<i64> = kept.iter().map(|k| k.0).collect();
            let taken: HashSet<(i64, i64)> = kept.iter().map(|k| (k.1, k.2)).collect();
            let guest_set: HashSet<i64> = guests.iter().copied().collect();
            let members: Vec<i64> = members
                .into_iter()
                .filter(|p| !seated.contains(p) && !guest_set.contains(p))
                .collect();
            let guests: Vec<i64> = guests.into_iter().filter(|p| !seated.contains(p)).collect();
            let (out, left) = auto_assign(&plan, &members, &guests, &taken);
            for (person, row, seat) in &out {
                with_tx!(&mut tx, c => sqlx::query("INSERT INTO meeting_seat (meeting_id, person_id, seat_row, seat_no, by_hand) VALUES ($1, $2, $3, $4, $5)")
                    .bind(m.id).bind(person).bind(row).bind(seat).bind(false).execute(c).await.map(|r| r.rows_affected()))?;
            }
            placed = out.len();
            unseated = left;
        }
        tx.into_audit(actor, now)
            .on("seats", "meeting", m.id, &m.org_path)
            .after(
                json!({"plan_id": plan.id, "by_hand": by_hand, "auto": auto, "auto_placed": placed,
                                   "unseated": unseated.len()}),
            )
            .commit()
            .await?;
        // the door shows the new seats from the next check-in on
        self.checkins.seats_changed();
        Ok(unseated)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan() -> SeatPlan {
        SeatPlan {
            id: 1,
            org_id: 1,
            layout: NewSeatPlan {
                venue: "礼堂".into(),
                rows: 3,
                seats_per_row: 4,
                blocks: vec![Block {
                    name: "左区".into(),
                    from_seat: 1,
                    to_seat: 2,
                }],
                reserved: vec![
                    Reserved {
                        row: 1,
                        from_seat: 1,
                        to_seat: 4,
                        purpose: "presidium".into(),
                    },
                    Reserved {
                        row: 3,
                        from_seat: 3,
                        to_seat: 4,
                        purpose: "attendee".into(),
                    },
                ],
            },
            updated_at: OffsetDateTime::UNIX_EPOCH,
        }
    }

    #[test]
    fn labels_name_the_row_and_seat_and_the_block() {
        assert_eq!(seat_label(None, 3, 12), "第3排12座");
        assert_eq!(seat_label(Some(&plan()), 2, 2), "左区第2排2座");
        assert_eq!(seat_label(Some(&plan()), 2, 3), "第2排3座");
    }

    #[test]
    fn members_fill_unreserved_seats_in_order_and_guests_take_the_attendee_seats() {
        let taken: HashSet<(i64, i64)> = [(2, 2)].into_iter().collect();
        let (out, left) = auto_assign(&plan(), &[10, 11, 12, 13, 14], &[20, 21, 22], &taken);
        // row 1 is the 主席台; (2,2) was taken by hand; row 3 seats 3–4 are 列席
        assert_eq!(
            out,
            vec![
                (10, 2, 1),
                (11, 2, 3),
                (12, 2, 4),
                (13, 3, 1),
                (14, 3, 2),
                (20, 3, 3),
                (21, 3, 4)
            ]
        );
        assert_eq!(left, vec![22]);
    }

    #[test]
    fn plans_are_checked() {
        let ok = plan().layout;
        assert!(check_plan(&ok).is_ok());
        let bad_rows = NewSeatPlan {
            rows: 0,
            ..ok.clone()
        };
        assert_eq!(check_plan(&bad_rows).map_err(|e| e.code), Err("seat_rows_range"));
        let mut bad_res = ok.clone();
        bad_res.reserved[0].purpose = "vip".into();
        assert_eq!(
            check_plan(&bad_res).map_err(|e| e.code),
            Err("seat_reserved_invalid")
        );
        let mut bad_block = ok;
        bad_block.blocks[0].to_seat = 9;
        assert_eq!(
            check_plan(&bad_block).map_err(|e| e.code),
            Err("seat_block_invalid")
        );
    }
}
