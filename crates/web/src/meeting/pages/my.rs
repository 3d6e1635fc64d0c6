//! The member's phone pages: `/my/meetings` (notices, upcoming meetings with a leave request
//! form, my personal check-in code, my attendance history) and `/my/meetings/{id}` (the page the
//! wall's QR code opens: with `?t=<token>` it offers to check in; `assets/meeting-my.js` posts
//! the check-in and shows the personal code). Built for a 390 px wide screen.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use dangjian_rules::RuleViolation;
use dangjian_store::meeting::plan::{MyMeeting, MyNotice};

use super::{kind_label, local, local_span, page_or_error, status_label};
use crate::AppState;
use crate::auth::Auth;
use crate::error::AppError;
use crate::extract::optional_text;
use crate::i18n::{Locale, t};
use crate::meeting::api::plan::is_upcoming;
use crate::page::Shell;
use crate::page::{PageForm, PageUser};

pub(crate) struct MyLine {
    pub id: i64,
    pub title: String,
    pub kind: String,
    pub when: String,
    pub venue: String,
    pub status: String,
    pub status_label: String,
    /// My state's label (出席, 请假 …) and whether late.
    pub state: String,
    pub state_label: String,
    pub late: bool,
    pub invited: bool,
    /// The leave request's status label, if any.
    pub request: Option<String>,
    /// Whether the member may still ask for leave here.
    pub may_ask_leave: bool,
    pub agenda: Option<String>,
    pub host: Option<String>,
    pub cancel_reason: Option<String>,
}

fn line(m: &MyMeeting, locale: Locale, now: time::OffsetDateTime, offset: time::UtcOffset) -> MyLine {
    let p = &m.meeting;
    let status = p.shown_status(now).to_owned();
    let request_status = m.leave_request.as_ref().map(|(_, s)| s.as_str());
    MyLine {
        id: p.id,
        title: p.title.clone(),
        kind: kind_label(locale, p.kind),
        when: local_span(p.starts_at, p.ends_at, offset),
        venue: p.venue.clone().unwrap_or_default(),
        status_label: status_label(locale, &status),
        state: m.state.to_owned(),
        state_label: t(locale, &format!("meeting.state.{}", m.state), &[]),
        late: m.late,
        invited: m.invited,
        request: request_status.map(|s| t(locale, &format!("meeting.leave_status.{s}"), &[])),
        may_ask_leave: !m.invited
            && !p.is_closed()
            && m.state == "absent"
            && !matches!(request_status, Some("pending" | "approved")),
        agenda: p.agenda.clone(),
        host: p.host.clone(),
        cancel_reason: p.cancel_reason.clone(),
        status,
    }
}

pub(crate) struct NoticeLine {
    pub meeting_id: i64,
    pub text: String,
    pub at: String,
}

fn notice_line(n: &MyNotice, locale: Locale, offset: time::UtcOffset) -> NoticeLine {
    let args = [
        ("title", n.title.clone()),
        ("time", local(n.starts_at, offset)),
        ("venue", n.venue.clone().unwrap_or_default()),
        ("reason", n.reason.clone().unwrap_or_default()),
    ];
    NoticeLine {
        meeting_id: n.meeting_id,
        text: t(locale, &format!("meeting.notice.{}", n.event), &args),
        at: local(n.created_at, offset),
    }
}

#[derive(Template)]
#[template(path = "meeting/my_list.html")]
struct MyListPage {
    shell: Shell,
    has_person: bool,
    notices: Vec<NoticeLine>,
    upcoming: Vec<MyLine>,
    past: Vec<MyLine>,
    attended: usize,
}

crate::page::has_shell!(MyListPage);

async fn my_list_page(state: &AppState, a: &Auth) -> Result<MyListPage, AppError> {
    let shell = Shell::of(a);
    let Some(person_id) = a.grants.person_id() else {
        return Ok(MyListPage {
            shell,
            has_person: false,
            notices: Vec::new(),
            upcoming: Vec::new(),
            past: Vec::new(),
            attended: 0,
        });
    };
    let now = state.store.now();
    let offset = state.store.local.offset;
    let all = state.store.meetings().my_meetings(person_id).await?;
    let (mut upcoming, past): (Vec<&MyMeeting>, Vec<&MyMeeting>) =
        all.iter().partition(|m| is_upcoming(&m.meeting, now));
    upcoming.reverse();
    let notices = state.store.meetings().my_notices(person_id).await?;
    let past: Vec<MyLine> = past
        .iter()
        .filter(|m| m.meeting.cancelled_at.is_none())
        .map(|m| line(m, shell.locale, now, offset))
        .collect();
    Ok(MyListPage {
        attended: past
            .iter()
            .filter(|l| matches!(l.state.as_str(), "present" | "left_early"))
            .count(),
        notices: notices
            .iter()
            .take(5)
            .map(|n| notice_line(n, shell.locale, offset))
            .collect(),
        upcoming: upcoming
            .iter()
            .map(|m| line(m, shell.locale, now, offset))
            .collect(),
        past,
        has_person: true,
        shell,
    })
}

pub async fn list(State(state): State<AppState>, PageUser(a): PageUser) -> Response {
    crate::page::page_or_error(&a, my_list_page(&state, &a)).await
}

#[derive(Template)]
#[template(path = "meeting/my_show.html")]
struct MyShowPage {
    shell: Shell,
    m: MyLine,
    /// The rotating token from the wall's QR code, when the page was opened by scanning it.
    token: Option<String>,
}

#[derive(serde::Deserialize)]
pub struct ShowQuery {
    t: Option<String>,
}

pub async fn show(
    State(state): State<AppState>,
    PageUser(a): PageUser,
    Path(id): Path<i64>,
    Query(q): Query<ShowQuery>,
) -> Response {
    let page = async {
        let person_id = a.grants.person_id().ok_or(AppError::NotFound)?;
        let m = state.store.meetings().my_meeting(person_id, id).await?;
        let shell = Shell::of(&a);
        let line = line(&m, shell.locale, state.store.now(), state.store.local.offset);
        Ok(MyShowPage {
            shell,
            m: line,
            token: q.t.filter(|t| !t.is_empty() && t.len() <= 200),
        })
    };
    page_or_error(&a, page).await
}

#[derive(Default, serde::Deserialize)]
#[serde(default)]
pub struct LeaveForm {
    reason: String,
}

pub async fn ask_leave(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    PageForm(a, f): PageForm<LeaveForm>,
) -> Response {
    crate::page::after_post(
        &a,
        async {
            let person_id = a.grants.person_id().ok_or(AppError::NotFound)?;
            let reason = optional_text("reason", Some(f.reason), 200)?
                .ok_or_else(|| AppError::from(RuleViolation::field("leave_reason_required", "reason")))?;
            state
                .store
                .meetings()
                .request_leave(&a.actor(), person_id, id, &reason)
                .await?;
            Ok(())
        },
        |()| "/my/meetings".into(),
        || my_list_page(&state, &a),
    )
    .await
}
