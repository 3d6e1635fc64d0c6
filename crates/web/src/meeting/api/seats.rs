//! Seat plans per venue and each meeting's seats (issue 5 "Seat guidance"). A plan is kept by an
//! organization for the meetings of its subtree at that venue; a meeting uses the plan of its
//! venue kept by its org or the nearest one above.

use axum::Json;
use axum::extract::State;
use dangjian_rules::RuleViolation;
use dangjian_store::Cap;
use dangjian_store::meeting::seats::{Block, NewSeatPlan, Reserved, SeatPlan, SeatRow, seat_label};
use serde::Deserialize;
use serde_json::{Value, json};

use super::parse_id;
use crate::AppState;
use crate::auth::Auth;
use crate::error::AppResult;
use crate::extract::{ApiJson, ApiPath, required, required_text};

pub(crate) fn plan_json(p: &SeatPlan) -> Value {
    json!({
        "id": p.id, "org_id": p.org_id, "venue": p.venue, "rows": p.rows, "seats_per_row": p.seats_per_row,
        "blocks": p.blocks, "reserved": p.reserved,
    })
}

fn seats_json(plan: Option<&SeatPlan>, seats: &[SeatRow]) -> Value {
    let items: Vec<Value> = seats
        .iter()
        .map(|s| {
            json!({"person_id": s.person_id, "name": s.name, "row": s.row, "seat": s.seat,
                   "label": seat_label(plan, s.row, s.seat), "by_hand": s.by_hand})
        })
        .collect();
    json!({"plan": plan.map(plan_json), "seats": items})
}

pub async fn plans(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Json<Value>> {
    let scope = auth.scope(Cap::RunMeetings)?;
    let rows = state.store.seat_plans(&scope, id).await?;
    let items: Vec<Value> = rows.iter().map(plan_json).collect();
    let total = i64::try_from(items.len()).unwrap_or(i64::MAX);
    Ok(crate::extract::list(items, total))
}

#[derive(Deserialize)]
pub struct PlanBody {
    venue: Option<String>,
    rows: Option<i64>,
    seats_per_row: Option<i64>,
    blocks: Option<Vec<Block>>,
    reserved: Option<Vec<Reserved>>,
}

pub async fn put_plan(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<PlanBody>,
) -> AppResult<Json<Value>> {
    let scope = auth.scope(Cap::RunMeetings)?;
    let venue = required_text("venue", b.venue)?;
    if venue.chars().count() > 200 {
        return Err(RuleViolation::field("text_too_long", "venue")
            .arg("max", 200)
            .into());
    }
    let plan = state
        .store
        .put_seat_plan(
            &scope,
            &auth.actor(),
            id,
            NewSeatPlan {
                venue,
                rows: required("rows", b.rows)?,
                seats_per_row: required("seats_per_row", b.seats_per_row)?,
                blocks: b.blocks.unwrap_or_default(),
                reserved: b.reserved.unwrap_or_default(),
            },
        )
        .await?;
    Ok(Json(plan_json(&plan)))
}

pub async fn seats(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Json<Value>> {
    let scope = auth.scope(Cap::RunMeetings)?;
    let (plan, seats) = state.store.meeting_seats(&scope, id).await?;
    Ok(Json(seats_json(plan.as_ref(), &seats)))
}

#[derive(Deserialize)]
pub struct Assignment {
    person_id: Option<Value>,
    row: Option<i64>,
    seat: Option<i64>,
}

#[derive(Deserialize)]
pub struct AssignBody {
    auto: Option<bool>,
    assignments: Option<Vec<Assignment>>,
}

pub async fn assign(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<AssignBody>,
) -> AppResult<Json<Value>> {
    let scope = auth.scope(Cap::RunMeetings)?;
    let mut by_hand = Vec::new();
    for a in b.assignments.unwrap_or_default() {
        by_hand.push((
            required("person_id", parse_id("person_id", a.person_id)?)?,
            required("row", a.row)?,
            required("seat", a.seat)?,
        ));
    }
    let auto = b.auto.unwrap_or(false);
    if by_hand.is_empty() && !auto {
        return Err(RuleViolation::field("field_required", "assignments").into());
    }
    let unseated = state
        .store
        .assign_seats(&scope, &auth.actor(), id, &by_hand, auto)
        .await?;
    let (plan, seats) = state.store.meeting_seats(&scope, id).await?;
    let mut out = seats_json(plan.as_ref(), &seats);
    out["unseated"] = json!(unseated);
    Ok(Json(out))
}
