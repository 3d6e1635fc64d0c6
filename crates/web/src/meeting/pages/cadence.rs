//! `/orgs/{id}/cadence?date=`: the 三会一课 completion of an organization and of each
//! organization below it on a date (default today). A branch sees its own obligations and its
//! 党小组; a 党委 or 党总支 sees each branch's counts — completion, not rankings (tree order).

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use dangjian_rules::cadence::{CadenceStatus, Judged, Tally};
use dangjian_store::Cap;
use dangjian_store::meeting::cadence::OrgCadence;

use super::{kind_label, page_or_error};
use crate::AppState;
use crate::extract::optional_date;
use crate::i18n::{Locale, t};
use crate::meeting::api::cadence::CadenceQuery;
use crate::page::PageUser;
use crate::page::Shell;

pub(crate) struct LineView {
    pub kind: String,
    pub period: String,
    pub done: u32,
    pub required: u32,
    pub scheduled: u32,
    pub flagged: u32,
    pub status: &'static str,
    pub status_label: String,
    pub days_left: i64,
    pub previous: String,
    pub previous_missed: bool,
    pub rule: &'static str,
}

pub(crate) struct OrgView {
    pub id: i64,
    pub name: String,
    pub kind: String,
    pub indent: i64,
    pub tally: Tally,
    pub lines: Vec<LineView>,
    pub remarks: Vec<RemarkLine>,
}

/// A meeting not counted (or counted flagged), with the reason in the page's language.
pub(crate) struct RemarkLine {
    pub meeting_id: i64,
    pub title: String,
    pub kind: String,
    pub date: String,
    pub reason: String,
    pub counted: bool,
}

pub(crate) fn status_label(locale: Locale, s: CadenceStatus) -> String {
    t(locale, &format!("cadence.status.{}", s.as_str()), &[])
}

fn line_view(locale: Locale, l: &Judged) -> LineView {
    let o = l.obligation;
    LineView {
        kind: kind_label(locale, o.kind),
        period: l.period.label_zh(),
        done: l.done,
        required: o.min_count,
        scheduled: l.scheduled,
        flagged: l.flagged,
        status: l.status.as_str(),
        status_label: status_label(locale, l.status),
        days_left: l.days_left,
        previous: l.previous.label_zh(),
        previous_missed: l.previous_missed,
        rule: o.rule,
    }
}

pub(crate) fn org_view(locale: Locale, c: &OrgCadence) -> OrgView {
    OrgView {
        id: c.org_id,
        name: c.name.clone(),
        kind: c.kind.to_string(),
        indent: c.depth,
        tally: c.tally,
        lines: c.lines.iter().map(|l| line_view(locale, l)).collect(),
        remarks: c
            .remarks
            .iter()
            .map(|(r, title)| RemarkLine {
                meeting_id: r.meeting_id,
                title: title.clone(),
                kind: kind_label(locale, r.kind),
                date: r.on.to_string(),
                reason: t(locale, &format!("cadence.reason.{}", r.reason.as_str()), &[]),
                counted: r.counted,
            })
            .collect(),
    }
}

#[derive(Template)]
#[template(path = "meeting/cadence.html")]
struct CadencePage {
    shell: Shell,
    org: OrgView,
    below: Vec<OrgView>,
    total: Tally,
    date: String,
    rules_version: &'static str,
    truncated: bool,
}

pub async fn page(
    State(state): State<AppState>,
    PageUser(a): PageUser,
    Path(id): Path<i64>,
    Query(q): Query<CadenceQuery>,
) -> Response {
    let page = async {
        let scope = a.scope(Cap::ReadOrg)?;
        let date = optional_date("date", q.date)?.unwrap_or_else(|| state.store.today());
        let r = state.store.meetings().cadence(&scope, id, date).await?;
        let shell = Shell::of(&a);
        let locale = shell.locale;
        let page = CadencePage {
            org: org_view(locale, &r.org),
            below: r.below.iter().map(|c| org_view(locale, c)).collect(),
            total: r.total,
            date: r.today.to_string(),
            rules_version: r.rules.version,
            truncated: r.truncated,
            shell,
        };
        Ok(page)
    };
    page_or_error(&a, page).await
}
