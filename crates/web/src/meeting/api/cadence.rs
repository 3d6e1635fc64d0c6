//! `GET /api/v1/orgs/{id}/cadence?date=`: the 三会一课 obligations of an organization and of
//! each organization below it (branches, 党小组) on a date — what is done, due and overdue this
//! month, quarter and year. Completion, not rankings: organizations are listed in tree order.

use axum::Json;
use axum::extract::State;
use dangjian_rules::cadence::{Judged, Period, Remark, Tally};
use dangjian_store::Cap;
use dangjian_store::meeting::cadence::{CadenceReport, OrgCadence};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::AppState;
use crate::auth::Auth;
use crate::contract::row_view;
use crate::error::AppResult;
use crate::extract::{ApiPath, ApiQuery, optional_date};

/// `?date=` (default today); the page takes it too.
#[derive(Deserialize)]
pub struct CadenceQuery {
    pub(crate) date: Option<String>,
}

row_view! {
    /// How many obligations are done, due, due soon and overdue.
    #[derive(Debug, Serialize, ToSchema)]
    pub struct TallyView from &Tally as t {
        pub done: u32,
        pub due: u32,
        pub due_soon: u32,
        pub overdue: u32,
        pub total: u32 = t.total(),
    }
}

/// The period before, and how it went.
#[derive(Debug, Serialize, ToSchema)]
pub struct PreviousPeriodView {
    pub period_label: String,
    #[schema(format = Date)]
    pub period_start: String,
    #[schema(format = Date)]
    pub period_end: String,
    pub done: u32,
    pub missed: bool,
}

/// One obligation (a kind of meeting, so many a month, quarter or year) judged on the date.
#[derive(Debug, Serialize, ToSchema)]
pub struct ObligationView {
    pub kind: &'static str,
    pub kind_label: &'static str,
    /// `month`, `quarter`, `half_year`, `year`
    pub period: &'static str,
    pub period_label: String,
    #[schema(format = Date)]
    pub period_start: String,
    #[schema(format = Date)]
    pub period_end: String,
    pub required: u32,
    pub done: u32,
    pub scheduled: u32,
    /// Of `done`, those counted with a remark (an inquorate 支部党员大会 under the default
    /// `cadence.inquorate_congress` = `counts_flagged`); they are listed in `not_counted`.
    pub flagged: u32,
    /// `done`, `due`, `due_soon`, `overdue`
    pub status: &'static str,
    pub days_left: i64,
    pub previous: PreviousPeriodView,
    /// The regulation that sets it.
    pub rule: &'static str,
}

fn dates(p: &Period) -> (String, String) {
    (p.first.to_string(), p.last.to_string())
}

impl From<&Judged> for ObligationView {
    fn from(l: &Judged) -> Self {
        let o = l.obligation;
        let (period_start, period_end) = dates(&l.period);
        let (previous_start, previous_end) = dates(&l.previous);
        Self {
            kind: o.kind.as_str(),
            kind_label: o.kind.label_zh(),
            period: o.unit.as_str(),
            period_label: l.period.label_zh(),
            period_start,
            period_end,
            required: o.min_count,
            done: l.done,
            scheduled: l.scheduled,
            flagged: l.flagged,
            status: l.status.as_str(),
            days_left: l.days_left,
            previous: PreviousPeriodView {
                period_label: l.previous.label_zh(),
                period_start: previous_start,
                period_end: previous_end,
                done: l.previous_done,
                missed: l.previous_missed,
            },
            rule: o.rule,
        }
    }
}

/// A meeting of a judged period that does not count for the cadence (or counts flagged), and why.
#[derive(Debug, Serialize, ToSchema)]
pub struct RemarkView {
    pub meeting_id: i64,
    pub title: String,
    pub kind: &'static str,
    #[schema(format = Date)]
    pub date: String,
    /// `not_started` (closed before its start), `no_attendance` (nobody present), `inquorate`
    /// (a 支部党员大会 where no more than half of those entitled to vote were present)
    pub reason: &'static str,
    pub reason_label: &'static str,
    /// Counted all the same (flagged).
    pub counted: bool,
}

impl From<&(Remark, String)> for RemarkView {
    fn from((r, title): &(Remark, String)) -> Self {
        Self {
            meeting_id: r.meeting_id,
            title: title.clone(),
            kind: r.kind.as_str(),
            date: r.on.to_string(),
            reason: r.reason.as_str(),
            reason_label: r.reason.label_zh(),
            counted: r.counted,
        }
    }
}

row_view! {
    /// An organization's obligations and their counts.
    #[derive(Debug, Serialize, ToSchema)]
    pub struct OrgCadenceView from &OrgCadence as c {
        pub org_id: i64,
        pub name: String = c.name.clone(),
        pub kind: String = c.kind.to_string(),
        pub depth: i64,
        pub counts: TallyView = TallyView::from(&c.tally),
        pub obligations: Vec<ObligationView> = c.lines.iter().map(ObligationView::from).collect(),
        /// Meetings of the judged periods that were not counted (or counted flagged), by date.
        pub not_counted: Vec<RemarkView> = c.remarks.iter().map(RemarkView::from).collect(),
    }
}

row_view! {
    /// The org's cadence and each org's below it (tree order), with the counts of all.
    #[derive(Debug, Serialize, ToSchema)]
    pub struct CadenceView from &CadenceReport as r {
        #[schema(format = Date)]
        pub date: String = r.today.to_string(),
        pub rules_version: &'static str = r.rules.version,
        pub org: OrgCadenceView = OrgCadenceView::from(&r.org),
        pub orgs: Vec<OrgCadenceView> = r.below.iter().map(OrgCadenceView::from).collect(),
        pub counts: TallyView = TallyView::from(&r.total),
        /// More orgs below than one answer lists.
        pub truncated: bool,
    }
}

pub async fn cadence(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(q): ApiQuery<CadenceQuery>,
) -> AppResult<Json<CadenceView>> {
    let scope = auth.scope(Cap::ReadOrg)?;
    let date = optional_date("date", q.date)?.unwrap_or_else(|| state.store.today());
    let report = state.store.meetings().cadence(&scope, id, date).await?;
    Ok(Json(CadenceView::from(&report)))
}
