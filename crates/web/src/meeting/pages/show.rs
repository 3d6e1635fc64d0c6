//! The secretary's meeting page: details, attendance lists (应到/请假/已签/未签/迟到/早退), leave
//! requests to decide, invitees, and the actions (edit, wall text, notice, reschedule, cancel,
//! close). Each action is a form post that calls the same store function as the API.

use askama::Template;
use axum::extract::{Path, State};
use axum::response::Response;
use dangjian_rules::RuleViolation;
use dangjian_rules::meeting::AttendanceState;
use dangjian_rules::member::MemberStatus;
use dangjian_store::Cap;
use dangjian_store::meeting::plan::{LeaveRequestRow, PlanChange, PlanRow};

use super::{form_times, kind_label, local, local_span, status_label};
use crate::AppState;
use crate::auth::Auth;
use crate::error::AppError;
use crate::extract::optional_text;
use crate::meeting::api::plan::{PlanPatchBody, Reschedule, required_reason};
use crate::page::Shell;
use crate::page::{PageForm, PageUser};

pub(crate) struct Person {
    pub id: i64,
    pub name: String,
}

#[derive(Template)]
#[template(path = "meeting/show.html")]
struct ShowPage {
    shell: Shell,
    m: PlanRow,
    org_name: String,
    kind: String,
    when: String,
    status: String,
    status_label: String,
    changeable: bool,
    expected: Vec<Person>,
    present: Vec<Person>,
    leave: Vec<Person>,
    absent: Vec<Person>,
    late: Vec<Person>,
    left_early: Vec<Person>,
    guests: Vec<(Person, String)>,
    requests: Vec<LeaveRequestRow>,
    /// People of the org's subtree in the admission pipeline, who may be invited to 列席.
    candidates: Vec<(i64, String, String)>,
    /// The reschedule form's values: `YYYY-MM-DDTHH:MM`, `HH:MM`.
    start_value: String,
    end_value: String,
    created: String,
    /// 支部党员大会 / 支委会: more than half of those who vote present?
    quorum: Option<dangjian_rules::meeting::Quorum>,
}

crate::page::has_shell!(ShowPage);

async fn show_page(state: &AppState, a: &Auth, id: i64) -> Result<ShowPage, AppError> {
    let scope = a.scope(Cap::RunMeetings)?;
    let m = state.store.meetings().meeting_plan(&scope, id).await?;
    let org = state.store.orgs().org(&scope, m.org_id).await?;
    let att = state.store.meetings().attendance(&scope, id).await?;
    let quorum = state.store.meetings().quorum_of(m.kind, &att).await?;
    let invitees = state.store.meetings().invitees(&scope, id).await?;
    let requests = state.store.meetings().leave_requests(&scope, id).await?;
    let candidates = match a.scope(Cap::ReadMembers) {
        Ok(ms) if ms.contains_path(&m.org_path) => {
            let f = dangjian_store::person::PersonFilter {
                org_id: Some(m.org_id),
                subtree: true,
                statuses: vec![
                    MemberStatus::Applicant,
                    MemberStatus::Activist,
                    MemberStatus::Candidate,
                ],
                limit: 200,
                ..Default::default()
            };
            state
                .store
                .members()
                .people(&ms, &f)
                .await?
                .0
                .into_iter()
                .filter(|p| !invitees.iter().any(|i| i.person_id == p.id))
                .map(|p| (p.id, p.name, p.status.to_string()))
                .collect()
        }
        _ => Vec::new(),
    };
    let offset = state.store.local.offset;
    let shell = Shell::of(a);
    let status = m.shown_status(state.store.now()).to_owned();
    let mut page = ShowPage {
        quorum,
        org_name: org.name,
        kind: kind_label(shell.locale, m.kind),
        when: local_span(m.starts_at, m.ends_at, offset),
        status_label: status_label(shell.locale, &status),
        changeable: !m.is_closed(),
        status,
        expected: Vec::new(),
        present: Vec::new(),
        leave: Vec::new(),
        absent: Vec::new(),
        late: Vec::new(),
        left_early: Vec::new(),
        guests: Vec::new(),
        requests,
        candidates,
        start_value: {
            let l = m.starts_at.to_offset(offset);
            format!("{}T{:02}:{:02}", l.date(), l.hour(), l.minute())
        },
        end_value: {
            let l = m.ends_at.to_offset(offset);
            format!("{:02}:{:02}", l.hour(), l.minute())
        },
        created: local(m.created_at, offset),
        m,
        shell,
    };
    for l in att.lines {
        let p = || Person {
            id: l.line.person_id,
            name: l.name.clone(),
        };
        if l.line.guest {
            let role = invitees
                .iter()
                .find(|i| i.person_id == l.line.person_id)
                .map(|i| i.role.to_string())
                .unwrap_or_default();
            page.guests.push((p(), role));
            continue;
        }
        page.expected.push(p());
        match l.line.state {
            AttendanceState::Present => {
                if l.line.late {
                    page.late.push(p());
                }
                page.present.push(p());
            }
            AttendanceState::LeftEarly => {
                page.left_early.push(p());
                page.present.push(p());
            }
            AttendanceState::Leave => page.leave.push(p()),
            AttendanceState::Absent => page.absent.push(p()),
        }
    }
    Ok(page)
}

pub async fn show(State(state): State<AppState>, PageUser(a): PageUser, Path(id): Path<i64>) -> Response {
    crate::page::page_or_error(&a, show_page(&state, &a, id)).await
}

/// What a form on the meeting page does, parsed from the form (the same store call as the API's).
enum Action {
    Plan(PlanChange),
    Notice,
    Close,
    Cancel(String),
    Reschedule(Reschedule),
    Decide {
        rid: i64,
        approve: bool,
        note: Option<String>,
    },
    Invite {
        person_id: i64,
        role: &'static str,
    },
    Uninvite(i64),
    RecordLeave {
        person_id: i64,
        reason: Option<String>,
    },
}

/// Does what the form asked, for those who run the meeting (checked before the form's values,
/// as the API does); then back to the meeting page, or the page again with the refusal in the
/// user's words.
async fn act(state: &AppState, a: &Auth, id: i64, action: Result<Action, AppError>) -> Response {
    crate::page::after_post(
        a,
        async {
            let scope = a.scope(Cap::RunMeetings)?;
            let actor = a.actor();
            let store = &state.store;
            match action? {
                Action::Plan(change) => {
                    store.meetings().update_plan(&scope, &actor, id, change).await?;
                }
                Action::Notice => {
                    store.meetings().send_notice(&scope, &actor, id).await?;
                }
                Action::Close => {
                    store.meetings().close_meeting(&scope, &actor, id).await?;
                }
                Action::Cancel(reason) => {
                    store
                        .meetings()
                        .cancel_meeting(&scope, &actor, id, &reason)
                        .await?;
                }
                Action::Reschedule(r) => {
                    store
                        .meetings()
                        .reschedule_meeting(&scope, &actor, id, r.starts_at, r.ends_at, r.venue)
                        .await?;
                }
                Action::Decide { rid, approve, note } => {
                    store
                        .meetings()
                        .decide_leave(&scope, &actor, rid, approve, note)
                        .await?;
                }
                Action::Invite { person_id, role } => {
                    store
                        .meetings()
                        .invite(&scope, &actor, id, person_id, role)
                        .await?
                }
                Action::Uninvite(person_id) => {
                    store.meetings().uninvite(&scope, &actor, id, person_id).await?
                }
                Action::RecordLeave { person_id, reason } => {
                    store
                        .meetings()
                        .record_leave(&scope, &actor, id, person_id, reason)
                        .await?;
                }
            }
            Ok(())
        },
        |()| format!("/meetings/{id}"),
        || show_page(state, a, id),
    )
    .await
}

/// A person chosen in a form's list: anything but an id is no choice.
fn chosen_person(v: &str) -> Result<i64, AppError> {
    v.trim()
        .parse()
        .map_err(|_| AppError::Invalid(RuleViolation::field("field_required", "person_id")))
}

#[derive(Default, serde::Deserialize)]
#[serde(default)]
pub struct EditForm {
    title: String,
    venue: String,
    host: String,
    recorder: String,
    agenda: String,
}

pub async fn edit(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    PageForm(a, f): PageForm<EditForm>,
) -> Response {
    let body = PlanPatchBody {
        title: f.title.into(),
        venue: f.venue.into(),
        host: f.host.into(),
        recorder: f.recorder.into(),
        agenda: f.agenda.into(),
        ..PlanPatchBody::default()
    };
    act(&state, &a, id, PlanChange::try_from(body).map(Action::Plan)).await
}

#[derive(Default, serde::Deserialize)]
#[serde(default)]
pub struct WallTextForm {
    wall_title: String,
    wall_text: String,
}

pub async fn wall_text(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    PageForm(a, f): PageForm<WallTextForm>,
) -> Response {
    let body = PlanPatchBody {
        wall_title: f.wall_title.into(),
        wall_text: f.wall_text.into(),
        ..PlanPatchBody::default()
    };
    act(&state, &a, id, PlanChange::try_from(body).map(Action::Plan)).await
}

pub async fn notice(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    PageForm(a, _f): PageForm<crate::page::CsrfForm>,
) -> Response {
    act(&state, &a, id, Ok(Action::Notice)).await
}

pub async fn close(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    PageForm(a, _f): PageForm<crate::page::CsrfForm>,
) -> Response {
    act(&state, &a, id, Ok(Action::Close)).await
}

#[derive(Default, serde::Deserialize)]
#[serde(default)]
pub struct CancelForm {
    reason: String,
}

pub async fn cancel(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    PageForm(a, f): PageForm<CancelForm>,
) -> Response {
    let reason = required_reason(Some(f.reason), "cancel_reason_required");
    act(&state, &a, id, reason.map(Action::Cancel)).await
}

#[derive(Default, serde::Deserialize)]
#[serde(default)]
pub struct RescheduleForm {
    starts_at: String,
    ends_at: String,
    venue: String,
}

pub async fn reschedule(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    PageForm(a, f): PageForm<RescheduleForm>,
) -> Response {
    let parsed =
        form_times(&f.starts_at, &f.ends_at, state.store.local.offset).and_then(|(starts_at, ends_at)| {
            Ok(Action::Reschedule(Reschedule {
                starts_at,
                ends_at,
                venue: Some(optional_text("venue", Some(f.venue), 200)?),
            }))
        });
    act(&state, &a, id, parsed).await
}

#[derive(Default, serde::Deserialize)]
#[serde(default)]
pub struct DecideForm {
    note: String,
}

pub async fn decide(
    State(state): State<AppState>,
    Path((id, rid, decision)): Path<(i64, i64, String)>,
    PageForm(a, f): PageForm<DecideForm>,
) -> Response {
    let parsed = match decision.as_str() {
        "approve" => Ok(true),
        "refuse" => Ok(false),
        _ => Err(AppError::NotFound),
    }
    .and_then(|approve| {
        Ok(Action::Decide {
            rid,
            approve,
            note: optional_text("note", Some(f.note), 200)?,
        })
    });
    act(&state, &a, id, parsed).await
}

#[derive(Default, serde::Deserialize)]
#[serde(default)]
pub struct InviteForm {
    person_id: String,
    role: String,
}

pub async fn invite(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    PageForm(a, f): PageForm<InviteForm>,
) -> Response {
    let parsed = chosen_person(&f.person_id).map(|person_id| Action::Invite {
        person_id,
        role: if f.role == "guest" {
            "guest"
        } else {
            "attendee_extra"
        },
    });
    act(&state, &a, id, parsed).await
}

pub async fn uninvite(
    State(state): State<AppState>,
    Path((id, person_id)): Path<(i64, i64)>,
    PageForm(a, _f): PageForm<crate::page::CsrfForm>,
) -> Response {
    act(&state, &a, id, Ok(Action::Uninvite(person_id))).await
}

#[derive(Default, serde::Deserialize)]
#[serde(default)]
pub struct LeaveForm {
    person_id: String,
    reason: String,
}

/// The secretary records a leave directly (asked in person or by phone).
pub async fn record_leave(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    PageForm(a, f): PageForm<LeaveForm>,
) -> Response {
    let parsed = chosen_person(&f.person_id).and_then(|person_id| {
        Ok(Action::RecordLeave {
            person_id,
            reason: optional_text("reason", Some(f.reason), 200)?,
        })
    });
    act(&state, &a, id, parsed).await
}
