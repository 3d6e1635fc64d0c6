//! `/meetings/{id}/seats`: the hall as a grid (rows × seats, 主席台 and 列席 seats marked, each
//! seat with its person), automatic seating, one seat by hand, and the venue's plan (rows, seats,
//! reserved rows) when it has none yet. Forms post to the same store functions as the API.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use dangjian_store::Cap;
use dangjian_store::meeting::seats::{NewSeatPlan, Reserved};
use serde::Deserialize;

use crate::AppState;
use crate::auth::Auth;
use crate::error::AppError;
use crate::i18n::t;
use crate::page::{PageForm, PageUser};
use crate::page::{Shell, error_page, render};

pub(crate) struct Cell {
    pub label: String,
    pub name: String,
    /// "", "taken", "reserved" (css classes).
    pub class: &'static str,
}

pub(crate) struct GridRow {
    pub label: String,
    pub cells: Vec<Cell>,
}

#[derive(Template)]
#[template(path = "meeting/seats.html")]
struct SeatsPage {
    shell: Shell,
    id: i64,
    title: String,
    venue: String,
    has_plan: bool,
    columns: i64,
    grid: Vec<GridRow>,
    people: Vec<(i64, String)>,
    unseated: Vec<String>,
    no_plan: String,
}

async fn seats_page(state: &AppState, a: &Auth, id: i64, shell: Shell) -> Result<Response, AppError> {
    let scope = a.scope(Cap::RunMeetings)?;
    let m = state.store.meetings().meeting(&scope, id).await?;
    let (plan, seats) = state.store.meetings().meeting_seats(&scope, id).await?;
    let sheet = state.store.meetings().attendance(&scope, id).await?;
    let by_seat: HashMap<(i64, i64), String> =
        seats.iter().map(|s| ((s.row, s.seat), s.name.clone())).collect();
    let seated: std::collections::HashSet<i64> = seats.iter().map(|s| s.person_id).collect();
    let mut grid = Vec::new();
    if let Some(p) = &plan {
        for row in 1..=p.rows {
            let cells = (1..=p.seats_per_row)
                .map(|seat| {
                    let name = by_seat.get(&(row, seat)).cloned().unwrap_or_default();
                    let reserved = p.reserved_for(row, seat);
                    let class = if !name.is_empty() {
                        "taken"
                    } else if reserved.is_some() {
                        "reserved"
                    } else {
                        ""
                    };
                    let label = match reserved {
                        Some(r) if name.is_empty() => t(shell.locale, &format!("seats.reserved.{r}"), &[]),
                        _ => seat.to_string(),
                    };
                    Cell { label, name, class }
                })
                .collect();
            grid.push(GridRow {
                label: t(shell.locale, "seats.row", &[("row", row.to_string())]),
                cells,
            });
        }
    }
    let people: Vec<(i64, String)> = sheet
        .lines
        .iter()
        .map(|l| (l.line.person_id, l.name.clone()))
        .collect();
    let unseated = sheet
        .lines
        .iter()
        .filter(|l| !seated.contains(&l.line.person_id))
        .map(|l| l.name.clone())
        .collect();
    let venue = m.venue.clone().unwrap_or_default();
    let page = SeatsPage {
        no_plan: t(shell.locale, "seats.no_plan", &[("venue", venue.clone())]),
        id,
        title: m.title,
        venue,
        has_plan: plan.is_some(),
        columns: plan.as_ref().map_or(1, |p| p.seats_per_row),
        grid,
        people,
        unseated,
        shell,
    };
    Ok(render(&page, StatusCode::OK))
}

pub async fn page(State(state): State<AppState>, PageUser(a): PageUser, Path(id): Path<i64>) -> Response {
    seats_page(&state, &a, id, Shell::of(&a))
        .await
        .unwrap_or_else(|e| error_page(Shell::of(&a), &e))
}

#[derive(Deserialize)]
pub struct SeatForm {
    action: String,
    person_id: Option<String>,
    row: Option<String>,
    seat: Option<String>,
    rows: Option<String>,
    seats_per_row: Option<String>,
    presidium_rows: Option<String>,
    attendee_rows: Option<String>,
}

fn number(field: &'static str, v: Option<&str>) -> Result<i64, AppError> {
    v.map(str::trim)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| dangjian_rules::RuleViolation::field("field_required", field).into())
        .and_then(|s| {
            s.parse().map_err(|_| {
                dangjian_rules::RuleViolation::field("value_unknown", field)
                    .arg("value", s)
                    .into()
            })
        })
}

/// "1, 2" → whole rows reserved for `purpose`.
fn reserved_rows(v: Option<&str>, seats: i64, purpose: &str) -> Result<Vec<Reserved>, AppError> {
    let mut out = Vec::new();
    for part in v
        .unwrap_or("")
        .split([',', '，', ' '])
        .filter(|s| !s.trim().is_empty())
    {
        let row = number("reserved", Some(part))?;
        out.push(Reserved {
            row,
            from_seat: 1,
            to_seat: seats,
            purpose: purpose.to_owned(),
        });
    }
    Ok(out)
}

pub async fn submit(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    PageForm(a, f): PageForm<SeatForm>,
) -> Response {
    let result: Result<(), AppError> = async {
        let scope = a.scope(Cap::RunMeetings)?;
        let actor = a.actor();
        match f.action.as_str() {
            "auto" => {
                state
                    .store
                    .meetings()
                    .assign_seats(&scope, &actor, id, &[], true)
                    .await?;
            }
            "assign" => {
                let person = number("person_id", f.person_id.as_deref())?;
                let row = number("row", f.row.as_deref())?;
                let seat = number("seat", f.seat.as_deref())?;
                state
                    .store
                    .meetings()
                    .assign_seats(&scope, &actor, id, &[(person, row, seat)], false)
                    .await?;
            }
            _ => {
                let m = state.store.meetings().meeting(&scope, id).await?;
                let rows = number("rows", f.rows.as_deref())?;
                let seats = number("seats_per_row", f.seats_per_row.as_deref())?;
                let mut reserved = reserved_rows(f.presidium_rows.as_deref(), seats, "presidium")?;
                reserved.extend(reserved_rows(f.attendee_rows.as_deref(), seats, "attendee")?);
                let venue = m
                    .venue
                    .clone()
                    .ok_or_else(|| dangjian_rules::RuleViolation::field("seat_plan_missing", "venue"))?;
                state
                    .store
                    .meetings()
                    .put_seat_plan(
                        &scope,
                        &actor,
                        m.org_id,
                        NewSeatPlan {
                            venue,
                            rows,
                            seats_per_row: seats,
                            blocks: Vec::new(),
                            reserved,
                        },
                    )
                    .await?;
            }
        }
        Ok(())
    }
    .await;
    match result {
        Ok(()) => Redirect::to(&format!("/meetings/{id}/seats")).into_response(),
        Err(e) => {
            let shell = Shell::of(&a).with_error(e.message());
            seats_page(&state, &a, id, shell)
                .await
                .unwrap_or_else(|e2| error_page(Shell::of(&a), &e2))
        }
    }
}
