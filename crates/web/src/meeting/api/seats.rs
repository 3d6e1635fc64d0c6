//! Seat plans per venue and each meeting's seats (issue 5 "Seat guidance"). A plan is kept by an
//! organization for the meetings of its subtree at that venue; a meeting uses the plan of its
//! venue kept by its org or the nearest one above.

use axum::Json;
use axum::extract::State;
use dangjian_rules::RuleViolation;
use dangjian_store::Cap;
use dangjian_store::meeting::seats::{Block, NewSeatPlan, Reserved, SeatPlan, SeatRow, seat_label};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use super::{parse_id, required_text_max};
use crate::AppState;
use crate::auth::Auth;
use crate::contract::List;
use crate::contract::row_view;
use crate::error::AppResult;
use crate::extract::{ApiJson, ApiPath, required};

/// A named block of seats in every row (`from_seat`..=`to_seat`).
#[derive(Debug, Deserialize, Serialize, ToSchema)]
pub struct BlockView {
    pub name: String,
    pub from_seat: i64,
    pub to_seat: i64,
}

/// Seats of a row kept for the presidium (主席台) or 列席 attendees.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
pub struct ReservedView {
    pub row: i64,
    pub from_seat: i64,
    pub to_seat: i64,
    /// `presidium` or `attendee`
    pub purpose: String,
}

impl From<&Block> for BlockView {
    fn from(b: &Block) -> Self {
        Self {
            name: b.name.clone(),
            from_seat: b.from_seat,
            to_seat: b.to_seat,
        }
    }
}

impl From<BlockView> for Block {
    fn from(b: BlockView) -> Self {
        Self {
            name: b.name,
            from_seat: b.from_seat,
            to_seat: b.to_seat,
        }
    }
}

impl From<&Reserved> for ReservedView {
    fn from(r: &Reserved) -> Self {
        Self {
            row: r.row,
            from_seat: r.from_seat,
            to_seat: r.to_seat,
            purpose: r.purpose.to_string(),
        }
    }
}

impl From<ReservedView> for Reserved {
    fn from(r: ReservedView) -> Self {
        Self {
            row: r.row,
            from_seat: r.from_seat,
            to_seat: r.to_seat,
            purpose: r.purpose,
        }
    }
}

row_view! {
    /// A venue's seat plan.
    #[derive(Debug, Serialize, ToSchema)]
    pub struct SeatPlanView from &SeatPlan as p {
        pub id: i64,
        pub org_id: i64,
        pub venue: String = p.venue.clone(),
        pub rows: i64,
        pub seats_per_row: i64,
        pub blocks: Vec<BlockView> = p.blocks.iter().map(BlockView::from).collect(),
        pub reserved: Vec<ReservedView> = p.reserved.iter().map(ReservedView::from).collect(),
    }
}

/// One person's seat, with its label (第3排12座).
#[derive(Debug, Serialize, ToSchema)]
pub struct SeatView {
    pub person_id: i64,
    pub name: String,
    pub row: i64,
    pub seat: i64,
    pub label: String,
    pub by_hand: bool,
}

/// The meeting's plan (its venue's, if any) and seats; after an assignment, who found none.
#[derive(Debug, Serialize, ToSchema)]
pub struct SeatsView {
    pub plan: Option<SeatPlanView>,
    pub seats: Vec<SeatView>,
    /// Only after an assignment: the people no seat was left for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unseated: Option<Vec<i64>>,
}

impl SeatsView {
    fn new(plan: Option<&SeatPlan>, seats: &[SeatRow]) -> Self {
        Self {
            plan: plan.map(SeatPlanView::from),
            seats: seats
                .iter()
                .map(|s| SeatView {
                    person_id: s.person_id,
                    name: s.name.clone(),
                    row: s.row,
                    seat: s.seat,
                    label: seat_label(plan, s.row, s.seat),
                    by_hand: s.by_hand,
                })
                .collect(),
            unseated: None,
        }
    }
}

pub async fn plans(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Json<List<SeatPlanView>>> {
    let scope = auth.scope(Cap::RunMeetings)?;
    let rows = state.store.meetings().seat_plans(&scope, id).await?;
    Ok(Json(List::of(&rows)))
}

/// A venue's plan: rows × seats, named blocks, reserved seats.
#[derive(Deserialize, ToSchema)]
pub struct SeatPlanBody {
    venue: Option<String>,
    rows: Option<i64>,
    seats_per_row: Option<i64>,
    blocks: Option<Vec<BlockView>>,
    reserved: Option<Vec<ReservedView>>,
}

impl TryFrom<SeatPlanBody> for NewSeatPlan {
    type Error = crate::error::AppError;

    fn try_from(b: SeatPlanBody) -> AppResult<NewSeatPlan> {
        Ok(NewSeatPlan {
            venue: required_text_max("venue", b.venue, 200)?,
            rows: required("rows", b.rows)?,
            seats_per_row: required("seats_per_row", b.seats_per_row)?,
            blocks: b
                .blocks
                .unwrap_or_default()
                .into_iter()
                .map(Block::from)
                .collect(),
            reserved: b
                .reserved
                .unwrap_or_default()
                .into_iter()
                .map(Reserved::from)
                .collect(),
        })
    }
}

pub async fn put_plan(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<SeatPlanBody>,
) -> AppResult<Json<SeatPlanView>> {
    let scope = auth.scope(Cap::RunMeetings)?;
    let new = NewSeatPlan::try_from(b)?;
    let plan = state
        .store
        .meetings()
        .put_seat_plan(&scope, &auth.actor(), id, new)
        .await?;
    Ok(Json(SeatPlanView::from(&plan)))
}

pub async fn seats(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Json<SeatsView>> {
    let scope = auth.scope(Cap::RunMeetings)?;
    let (plan, seats) = state.store.meetings().meeting_seats(&scope, id).await?;
    Ok(Json(SeatsView::new(plan.as_ref(), &seats)))
}

/// One seat by hand.
#[derive(Deserialize, ToSchema)]
pub struct Assignment {
    #[schema(value_type = Option<i64>)]
    person_id: Option<Value>,
    row: Option<i64>,
    seat: Option<i64>,
}

/// Seats by hand, and/or `auto` (by org, then name pinyin; 列席 seats for guests).
#[derive(Deserialize, ToSchema)]
pub struct AssignBody {
    auto: Option<bool>,
    assignments: Option<Vec<Assignment>>,
}

/// Seats to assign: (person, row, seat) by hand, and whether to seat the rest.
pub struct Seating {
    pub by_hand: Vec<(i64, i64, i64)>,
    pub auto: bool,
}

impl TryFrom<AssignBody> for Seating {
    type Error = crate::error::AppError;

    fn try_from(b: AssignBody) -> AppResult<Seating> {
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
        Ok(Seating { by_hand, auto })
    }
}

pub async fn assign(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<AssignBody>,
) -> AppResult<Json<SeatsView>> {
    let scope = auth.scope(Cap::RunMeetings)?;
    let s = Seating::try_from(b)?;
    let unseated = state
        .store
        .meetings()
        .assign_seats(&scope, &auth.actor(), id, &s.by_hand, s.auto)
        .await?;
    let (plan, seats) = state.store.meetings().meeting_seats(&scope, id).await?;
    Ok(Json(SeatsView {
        unseated: Some(unseated),
        ..SeatsView::new(plan.as_ref(), &seats)
    }))
}
