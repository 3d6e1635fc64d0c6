//! The printable records of a meeting: the ledger entry (会议记录, A4) `/meetings/{id}/ledger`,
//! the sign-in sheet (签到表) `/meetings/{id}/signin-sheet`, and an organization's yearly
//! register `/orgs/{id}/ledger?year=`. All are built from what happened — the check-ins, the
//! leaves, the minutes and the amendments after close; nobody retypes them.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use dangjian_rules::meeting::{AttendanceState, Counts};
use dangjian_store::Cap;
use dangjian_store::meeting::minutes::AttachmentRow;
use dangjian_store::meeting::plan::PlanRow;
use dangjian_store::meeting::records::{AmendmentRow, DetailLine};

use super::{kind_label, local, local_span, page_or_error};
use crate::AppState;
use crate::auth::Auth;
use crate::error::AppError;
use crate::extract::YearQuery;
use crate::meeting::api::records::ledger_of_year;
use crate::meeting::api::records_xlsx::{method_label, remarks};
use crate::page::PageUser;
use crate::page::Shell;

/// One person on a printed sheet.
pub(crate) struct SheetLine {
    pub no: usize,
    pub name: String,
    pub org: String,
    pub guest: bool,
    pub state: &'static str,
    pub state_label: &'static str,
    pub late: bool,
    pub time: String,
    pub method: String,
    pub left: String,
    pub remarks: String,
    pub amended: bool,
}

fn sheet_lines(lines: &[DetailLine], offset: time::UtcOffset) -> Vec<SheetLine> {
    lines
        .iter()
        .enumerate()
        .map(|(i, l)| SheetLine {
            no: i + 1,
            name: l.name.clone(),
            org: l.org_name.clone(),
            guest: l.guest,
            state: l.state.as_str(),
            state_label: l.state.label_zh(),
            late: l.late,
            time: l.first_in.map(|t| hm(t, offset)).unwrap_or_default(),
            method: l.method.map(method_label).unwrap_or_default(),
            left: l.last_out.map(|t| hm(t, offset)).unwrap_or_default(),
            remarks: remarks(l),
            amended: l.amended.is_some(),
        })
        .collect()
}

fn hm(t: time::OffsetDateTime, offset: time::UtcOffset) -> String {
    let l = t.to_offset(offset);
    format!("{:02}:{:02}", l.hour(), l.minute())
}

fn names(lines: &[DetailLine], f: impl Fn(&DetailLine) -> bool) -> String {
    let v: Vec<&str> = lines
        .iter()
        .filter(|l| !l.guest && f(l))
        .map(|l| l.name.as_str())
        .collect();
    if v.is_empty() {
        "—".to_owned()
    } else {
        v.join("、")
    }
}

pub(crate) struct AmendView {
    pub at: String,
    pub what: String,
    pub reason: String,
}

fn amend_view(a: &AmendmentRow, lines: &[DetailLine], offset: time::UtcOffset) -> AmendView {
    let parse = |s: &str| serde_json::from_str::<serde_json::Value>(s).unwrap_or_default();
    let label = |v: &serde_json::Value| {
        v["state"]
            .as_str()
            .and_then(AttendanceState::parse)
            .map_or("—", AttendanceState::label_zh)
    };
    let what = match (a.target.as_str(), a.person_id) {
        ("attendance", Some(p)) => {
            let name = lines
                .iter()
                .find(|l| l.person_id == p)
                .map_or("", |l| l.name.as_str());
            format!(
                "{name}：{} → {}",
                label(&parse(&a.before_json)),
                label(&parse(&a.after_json))
            )
        }
        _ => "会议记录".to_owned(),
    };
    AmendView {
        at: local(a.created_at, offset),
        what,
        reason: a.reason.clone(),
    }
}

#[derive(Template)]
#[template(path = "meeting/ledger.html")]
struct LedgerPage {
    shell: Shell,
    m: PlanRow,
    org_name: String,
    kind: String,
    when: String,
    counts: Counts,
    arrived: u64,
    present_names: String,
    leave_names: String,
    absent_names: String,
    late_names: String,
    left_early_names: String,
    guest_names: String,
    minutes: String,
    decisions: Vec<String>,
    attachments: Vec<AttachmentRow>,
    amendments: Vec<AmendView>,
    closed: bool,
}

/// What both printed sheets of a meeting start from: its attendance in detail, its org, and
/// how the heading shows its kind and time.
struct Printed {
    scope: dangjian_store::Scope,
    shell: Shell,
    offset: time::UtcOffset,
    org_name: String,
    kind: String,
    when: String,
    detail: dangjian_store::meeting::records::AttendanceDetail,
}

async fn printed(state: &AppState, a: &Auth, id: i64) -> Result<Printed, AppError> {
    let scope = a.scope(Cap::RunMeetings)?;
    let detail = state.store.meetings().attendance_detail(&scope, id).await?;
    let org = state.store.orgs().org(&scope, detail.meeting.org_id).await?;
    let offset = state.store.local.offset;
    let shell = Shell::of(a);
    Ok(Printed {
        kind: kind_label(shell.locale, detail.meeting.kind),
        when: local_span(detail.meeting.starts_at, detail.meeting.ends_at, offset),
        org_name: org.name,
        scope,
        shell,
        offset,
        detail,
    })
}

async fn ledger_page(state: &AppState, a: &Auth, id: i64) -> Result<LedgerPage, AppError> {
    let p = printed(state, a, id).await?;
    let minutes = state.store.meetings().minutes(&p.scope, id).await?;
    let attachments = state.store.meetings().attachments(&p.scope, id).await?;
    let amendments = state.store.meetings().amendments(&p.scope, id).await?;
    let d = p.detail;
    let l = &d.lines;
    Ok(LedgerPage {
        kind: p.kind,
        when: p.when,
        org_name: p.org_name,
        counts: d.counts,
        arrived: d.counts.present + d.counts.left_early,
        present_names: names(l, |x| {
            matches!(x.state, AttendanceState::Present | AttendanceState::LeftEarly)
        }),
        leave_names: names(l, |x| x.state == AttendanceState::Leave),
        absent_names: names(l, |x| x.state == AttendanceState::Absent),
        late_names: names(l, |x| x.late),
        left_early_names: names(l, |x| x.state == AttendanceState::LeftEarly),
        guest_names: {
            let v: Vec<&str> = l.iter().filter(|x| x.guest).map(|x| x.name.as_str()).collect();
            v.join("、")
        },
        minutes: minutes.minutes,
        decisions: minutes.decisions,
        attachments,
        amendments: amendments.iter().map(|x| amend_view(x, l, p.offset)).collect(),
        closed: d.meeting.is_closed(),
        m: d.meeting,
        shell: p.shell,
    })
}

pub async fn ledger(State(state): State<AppState>, PageUser(a): PageUser, Path(id): Path<i64>) -> Response {
    page_or_error(&a, ledger_page(&state, &a, id)).await
}

#[derive(Template)]
#[template(path = "meeting/signin_sheet.html")]
struct SigninPage {
    shell: Shell,
    m: PlanRow,
    org_name: String,
    kind: String,
    when: String,
    counts: Counts,
    lines: Vec<SheetLine>,
}

async fn signin_page(state: &AppState, a: &Auth, id: i64) -> Result<SigninPage, AppError> {
    let p = printed(state, a, id).await?;
    Ok(SigninPage {
        kind: p.kind,
        when: p.when,
        org_name: p.org_name,
        counts: p.detail.counts,
        lines: sheet_lines(&p.detail.lines, p.offset),
        m: p.detail.meeting,
        shell: p.shell,
    })
}

pub async fn signin_sheet(
    State(state): State<AppState>,
    PageUser(a): PageUser,
    Path(id): Path<i64>,
) -> Response {
    page_or_error(&a, signin_page(&state, &a, id)).await
}

pub(crate) struct LedgerRow {
    pub id: i64,
    pub when: String,
    pub kind: String,
    pub title: String,
    pub venue: String,
    pub counts: Counts,
    pub closed: bool,
}

#[derive(Template)]
#[template(path = "meeting/ledger_list.html")]
struct LedgerListPage {
    shell: Shell,
    org_id: i64,
    org_name: String,
    year: i32,
    rows: Vec<LedgerRow>,
}

pub async fn ledger_list(
    State(state): State<AppState>,
    PageUser(a): PageUser,
    Path(id): Path<i64>,
    Query(q): Query<YearQuery>,
) -> Response {
    let page = async {
        let (scope, year, items) = ledger_of_year(&state, &a, id, q.year).await?;
        let org = state.store.orgs().org(&scope, id).await?;
        let offset = state.store.local.offset;
        let shell = Shell::of(&a);
        let rows = items
            .into_iter()
            .map(|i| LedgerRow {
                id: i.meeting.id,
                when: local_span(i.meeting.starts_at, i.meeting.ends_at, offset),
                kind: kind_label(shell.locale, i.meeting.kind),
                closed: i.meeting.is_closed(),
                title: i.meeting.title.clone(),
                venue: i.meeting.venue.clone().unwrap_or_default(),
                counts: i.counts,
            })
            .collect();
        Ok(LedgerListPage {
            org_id: org.id,
            org_name: org.name,
            year,
            rows,
            shell,
        })
    };
    page_or_error(&a, page).await
}

pub(crate) struct HistoryView {
    pub meeting_id: i64,
    pub when: String,
    pub kind: String,
    pub title: String,
    pub state: &'static str,
    pub late: bool,
    pub amended: bool,
}

#[derive(Template)]
#[template(path = "meeting/ledger_member.html")]
struct MemberAttendancePage {
    shell: Shell,
    person_id: i64,
    name: String,
    rows: Vec<HistoryView>,
}

/// `/members/{id}/attendance`: the member's meetings, newest first, with their attendance.
pub async fn member_attendance(
    State(state): State<AppState>,
    PageUser(a): PageUser,
    Path(id): Path<i64>,
) -> Response {
    let page = async {
        let scope = a.scope(Cap::ReadMembers)?;
        let (name, rows) = state.store.meetings().member_attendance(&scope, id).await?;
        let offset = state.store.local.offset;
        let shell = Shell::of(&a);
        let rows = rows
            .into_iter()
            .map(|h| HistoryView {
                meeting_id: h.meeting_id,
                when: local(h.starts_at, offset),
                kind: kind_label(shell.locale, h.kind),
                title: h.title,
                state: h.state.label_zh(),
                late: h.late,
                amended: h.amended,
            })
            .collect();
        Ok(MemberAttendancePage {
            person_id: id,
            name,
            rows,
            shell,
        })
    };
    page_or_error(&a, page).await
}
