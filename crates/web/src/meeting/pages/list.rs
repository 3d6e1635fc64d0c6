//! The secretary's meeting list for an org and the plan form (one meeting or a series).

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use dangjian_rules::meeting::MeetingKind;
use dangjian_store::Cap;
use dangjian_store::meeting::NewMeeting;
use dangjian_store::meeting::plan::{Every, MeetingFilter};

use super::{form_times, kind_label, local_span, page_or_error, status_label};
use crate::AppState;
use crate::error::AppError;
use crate::meeting::api::{TITLE_MAX, required_text_max};
use crate::page::{PageForm, PageUser};
use crate::page::{Shell, error_page};

pub(crate) struct MeetingLine {
    pub id: i64,
    pub title: String,
    pub kind: String,
    pub when: String,
    pub venue: String,
    pub status: String,
    pub status_label: String,
}

#[derive(Template)]
#[template(path = "meeting/list.html")]
struct ListPage {
    shell: Shell,
    org: Option<(i64, String)>,
    lines: Vec<MeetingLine>,
    total: i64,
    can_plan: bool,
}

#[derive(serde::Deserialize)]
pub struct ListQuery {
    org: Option<i64>,
}

pub async fn list(
    State(state): State<AppState>,
    PageUser(a): PageUser,
    Query(q): Query<ListQuery>,
) -> Response {
    let page = async {
        let scope = a.scope(Cap::RunMeetings)?;
        let org = match q.org {
            Some(id) => Some(state.store.orgs().org(&scope, id).await?),
            None => None,
        };
        let f = MeetingFilter {
            org_id: org.as_ref().map(|o| o.id),
            subtree: true,
            limit: 200,
            ..Default::default()
        };
        let (rows, total) = state.store.meetings().list_meetings(&scope, &f).await?;
        let now = state.store.now();
        let offset = state.store.local.offset;
        let shell = Shell::of(&a);
        let lines = rows
            .iter()
            .map(|m| {
                let status = m.shown_status(now).to_owned();
                MeetingLine {
                    id: m.id,
                    title: m.title.clone(),
                    kind: kind_label(shell.locale, m.kind),
                    when: local_span(m.starts_at, m.ends_at, offset),
                    venue: m.venue.clone().unwrap_or_default(),
                    status_label: status_label(shell.locale, &status),
                    status,
                }
            })
            .collect();
        Ok(ListPage {
            can_plan: org.is_some(),
            org: org.map(|o| (o.id, o.name)),
            lines,
            total,
            shell,
        })
    };
    page_or_error(&a, page).await
}

#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default)]
pub struct PlanForm {
    org_id: i64,
    kind: String,
    title: String,
    /// `YYYY-MM-DDTHH:MM` (datetime-local), local time.
    starts_at: String,
    /// `HH:MM` on the same day.
    ends_at: String,
    venue: String,
    /// "" (once), `week`, `month`.
    every: String,
    count: String,
    /// "on" to send the notice to attendees now.
    notify: Option<String>,
}

#[derive(Template)]
#[template(path = "meeting/new.html")]
struct NewPage {
    shell: Shell,
    org: (i64, String),
    kinds: Vec<(&'static str, String)>,
    v: PlanForm,
}

crate::page::has_shell!(NewPage);

async fn new_page(
    state: &AppState,
    a: &crate::auth::Auth,
    org_id: i64,
    v: PlanForm,
) -> Result<NewPage, AppError> {
    let scope = a.scope(Cap::RunMeetings)?;
    let org = state.store.orgs().org(&scope, org_id).await?;
    let shell = Shell::of(a);
    let kinds = MeetingKind::ALL
        .iter()
        .map(|k| (k.as_str(), kind_label(shell.locale, *k)))
        .collect();
    Ok(NewPage {
        shell,
        org: (org.id, org.name),
        kinds,
        v,
    })
}

pub async fn new_form(
    State(state): State<AppState>,
    PageUser(a): PageUser,
    Query(q): Query<ListQuery>,
) -> Response {
    let Some(org_id) = q.org else {
        return error_page(Shell::of(&a), &AppError::NotFound);
    };
    let v = PlanForm {
        kind: "branch_congress".into(),
        notify: Some("on".into()),
        ..Default::default()
    };
    crate::page::page_or_error(&a, new_page(&state, &a, org_id, v)).await
}

pub async fn create(State(state): State<AppState>, PageForm(a, f): PageForm<PlanForm>) -> Response {
    crate::page::after_post(
        &a,
        async {
            let scope = a.scope(Cap::RunMeetings)?;
            let kind = crate::extract::parse_enum("kind", &f.kind, MeetingKind::parse_label)?;
            let title = required_text_max("title", Some(f.title.clone()), TITLE_MAX)?;
            let (starts_at, ends_at) = form_times(&f.starts_at, &f.ends_at, state.store.local.offset)?;
            let venue = crate::extract::optional_text("venue", Some(f.venue.clone()), 200)?;
            let actor = a.actor();
            let first = match Every::parse(f.every.trim()) {
                Some(every) => {
                    let count: i64 = f.count.trim().parse().unwrap_or(0);
                    let (_, rows) = state
                        .store
                        .meetings()
                        .create_series(
                            &scope, &actor, f.org_id, kind, &title, starts_at, ends_at, venue, every, count,
                        )
                        .await?;
                    rows.first().map(|r| r.id).ok_or(AppError::NotFound)?
                }
                None => {
                    let m = state
                        .store
                        .meetings()
                        .create_meeting(
                            &scope,
                            &actor,
                            NewMeeting {
                                org_id: f.org_id,
                                kind,
                                title,
                                starts_at,
                                ends_at,
                                venue,
                            },
                        )
                        .await?;
                    if f.notify.is_some() {
                        state.store.meetings().send_notice(&scope, &actor, m.id).await?;
                    }
                    m.id
                }
            };
            Ok(first)
        },
        |id| format!("/meetings/{id}"),
        || new_page(&state, &a, f.org_id, f.clone()),
    )
    .await
}
