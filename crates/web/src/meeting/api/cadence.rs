//! `GET /api/v1/orgs/{id}/cadence?date=`: the 三会一课 obligations of an organization and of
//! each organization below it (branches, 党小组) on a date — what is done, due and overdue this
//! month, quarter and year. Completion, not rankings: organizations are listed in tree order.

use axum::Json;
use axum::extract::State;
use dangjian_rules::cadence::{Judged, Tally};
use dangjian_store::Cap;
use dangjian_store::meeting::cadence::{CadenceReport, OrgCadence};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::AppState;
use crate::auth::Auth;
use crate::error::AppResult;
use crate::extract::{ApiPath, ApiQuery, optional_date};

#[derive(Deserialize)]
pub struct CadenceQuery {
    date: Option<String>,
}

pub fn tally_json(t: &Tally) -> Value {
    json!({"done": t.done, "due": t.due, "due_soon": t.due_soon, "overdue": t.overdue, "total": t.total()})
}

pub fn line_json(l: &Judged) -> Value {
    let o = l.obligation;
    json!({
        "kind": o.kind.as_str(), "kind_label": o.kind.label_zh(),
        "period": o.unit.as_str(), "period_label": l.period.label_zh(),
        "period_start": l.period.first.to_string(), "period_end": l.period.last.to_string(),
        "required": o.min_count, "done": l.done, "scheduled": l.scheduled,
        "status": l.status.as_str(), "days_left": l.days_left,
        "previous": {
            "period_label": l.previous.label_zh(),
            "period_start": l.previous.first.to_string(), "period_end": l.previous.last.to_string(),
            "done": l.previous_done, "missed": l.previous_missed,
        },
        "rule": o.rule,
    })
}

pub fn org_json(c: &OrgCadence) -> Value {
    json!({
        "org_id": c.org_id, "name": c.name, "kind": c.kind, "depth": c.depth,
        "counts": tally_json(&c.tally),
        "obligations": c.lines.iter().map(line_json).collect::<Vec<_>>(),
    })
}

pub fn report_json(r: &CadenceReport) -> Value {
    json!({
        "date": r.today.to_string(),
        "rules_version": r.rules.version,
        "org": org_json(&r.org),
        "orgs": r.below.iter().map(org_json).collect::<Vec<_>>(),
        "counts": tally_json(&r.total),
        "truncated": r.truncated,
    })
}

pub async fn cadence(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(q): ApiQuery<CadenceQuery>,
) -> AppResult<Json<Value>> {
    let scope = auth.scope(Cap::ReadOrg)?;
    let date = optional_date("date", q.date)?.unwrap_or_else(|| state.store.today());
    let report = state.store.cadence(&scope, id, date).await?;
    Ok(Json(report_json(&report)))
}
