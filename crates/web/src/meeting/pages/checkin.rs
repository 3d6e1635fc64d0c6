//! The staff's check-in page for a tablet at the door: search by name or pinyin initials and
//! tick, 代签到 with a reason, a field a USB scanner types a member's personal code into (or
//! the camera where the browser can read QR codes), and live counts from the meeting's stream.
//! The page is a shell; `assets/meeting-checkin.js` talks to the JSON API.

use askama::Template;
use axum::extract::{Path, State};
use axum::response::Response;
use dangjian_store::Cap;
use dangjian_store::meeting::plan::PlanRow;

use super::{local_span, page_or_error, status_label};
use crate::AppState;
use crate::page::PageUser;
use crate::page::Shell;

#[derive(Template)]
#[template(path = "meeting/checkin.html")]
struct CheckinPage {
    shell: Shell,
    m: PlanRow,
    when: String,
    status: String,
    status_label: String,
}

pub async fn page(State(state): State<AppState>, PageUser(a): PageUser, Path(id): Path<i64>) -> Response {
    let page = async {
        let scope = a.scope(Cap::RunMeetings)?;
        let m = state.store.meetings().meeting_plan(&scope, id).await?;
        let shell = Shell::of(&a);
        let status = m.shown_status(state.store.now()).to_owned();
        Ok(CheckinPage {
            when: local_span(m.starts_at, m.ends_at, state.store.local.offset),
            status_label: status_label(shell.locale, &status),
            status,
            m,
            shell,
        })
    };
    page_or_error(&a, page).await
}
