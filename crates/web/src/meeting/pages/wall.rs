//! The hall's wall (大屏): full screen, the title, live 应到/实到/请假/缺席 counts, a tile per
//! person that lights up on arrival and greys when they leave, the latest arrivals, the rotating
//! QR code members scan to check in, and a mode that shows the secretary's text (a report, the
//! 选举办法, a list of names). Rendered complete here; `assets/meeting-wall.js` keeps it live
//! from the meeting's SSE stream (EventSource reconnects by itself with `Last-Event-ID`).

use askama::Template;
use axum::extract::{Path, State};
use axum::response::Response;
use dangjian_rules::meeting::AttendanceState;
use dangjian_store::Cap;
use dangjian_store::meeting::plan::PlanRow;

use super::{local_span, page_or_error};
use crate::AppState;
use crate::page::PageUser;
use crate::page::Shell;

pub(crate) struct Tile {
    pub id: i64,
    pub name: String,
    /// The character shown big: the surname (or the first letter).
    pub initial: String,
    /// `present`, `left_early`, `leave`, `absent`.
    pub state: &'static str,
    pub guest: bool,
}

#[derive(Template)]
#[template(path = "meeting/wall.html")]
struct WallPage {
    shell: Shell,
    m: PlanRow,
    org_name: String,
    when: String,
    tiles: Vec<Tile>,
    expected: u64,
    present: u64,
    leave: u64,
    absent: u64,
    left_early: u64,
    /// The latest arrivals and departures, newest first: (time, name, arrived).
    latest: Vec<(String, String, bool)>,
    /// The stream's cursor: the newest check-in the page already shows.
    after: i64,
}

/// How many of the latest check-ins the wall lists.
const LATEST: usize = 8;

pub async fn page(State(state): State<AppState>, PageUser(a): PageUser, Path(id): Path<i64>) -> Response {
    let page = async {
        let scope = a.scope(Cap::RunMeetings)?;
        let m = state.store.meetings().meeting_plan(&scope, id).await?;
        let org = state.store.orgs().org(&scope, m.org_id).await?;
        // the cursor first: the stream resumes after it, so no check-in falls between
        let after = state.store.meetings().last_checkin_seq(id).await?;
        let att = state.store.meetings().attendance(&scope, id).await?;
        let tiles = att
            .lines
            .iter()
            .map(|l| Tile {
                id: l.line.person_id,
                initial: l.name.chars().next().map(String::from).unwrap_or_default(),
                name: l.name.clone(),
                state: match l.line.state {
                    AttendanceState::Present => "present",
                    AttendanceState::LeftEarly => "left_early",
                    AttendanceState::Leave => "leave",
                    AttendanceState::Absent => "absent",
                },
                guest: l.line.guest,
            })
            .collect();
        let c = att.counts;
        let (events, _) = state
            .store
            .meetings()
            .live_checkins(&scope, id, 0, Some(after))
            .await?;
        let offset = state.store.local.offset;
        let latest = events
            .iter()
            .rev()
            .take(LATEST)
            .map(|e| {
                let at = e.at.to_offset(offset);
                (
                    format!("{:02}:{:02}", at.hour(), at.minute()),
                    e.name.clone(),
                    e.state == "present",
                )
            })
            .collect();
        Ok(WallPage {
            shell: Shell::of(&a),
            org_name: org.name,
            when: local_span(m.starts_at, m.ends_at, state.store.local.offset),
            tiles,
            expected: c.expected,
            present: c.present,
            leave: c.leave,
            absent: c.absent,
            left_early: c.left_early,
            latest,
            after,
            m,
        })
    };
    page_or_error(&a, page).await
}
