//! Meetings through the API: the fixture builder every meeting test plans with, typed helpers
//! for the requests most tests make, and the tests, one module per part of the feature.

use reqwest::StatusCode;
use serde_json::{Value, json};
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime, UtcOffset};

use crate::helpers::{Client, TestApp};

mod cadence;
mod checkin;
mod live;
mod plan;
pub mod records;
mod seats;
mod window;
mod writer;

/// UTC+8, the deployment's local time in the tests.
pub fn cst() -> UtcOffset {
    UtcOffset::from_hms(8, 0, 0).unwrap_or(UtcOffset::UTC)
}

/// An instant as the API takes it: RFC 3339 in local time (+08:00).
pub fn local(at: OffsetDateTime) -> String {
    at.to_offset(cst()).format(&Rfc3339).unwrap_or_default()
}

/// A meeting to plan: `meeting(org)` gives a 支部党员大会 of `org` in 三楼会议室, starting at the
/// start of the test clock's current second, two hours long; each setter changes one thing,
/// `plan(&client)` posts it (asserting 201) and answers its id and start.
#[derive(Clone, Debug)]
pub struct MeetingPlan {
    org: i64,
    kind: String,
    title: String,
    start: Start,
    length: Duration,
    venue: Option<String>,
}

#[derive(Clone, Debug)]
enum Start {
    /// this long after the test clock's now (whole seconds)
    FromNow(Duration),
    At(OffsetDateTime),
    /// written as given (a local RFC 3339 text), with its end
    Text(String, String),
}

/// A planned meeting: its id and the instant it starts.
#[derive(Clone, Copy, Debug)]
pub struct Planned {
    pub id: i64,
    pub starts_at: OffsetDateTime,
}

pub fn meeting(org: i64) -> MeetingPlan {
    MeetingPlan {
        org,
        kind: "branch_congress".into(),
        title: "支部党员大会".into(),
        start: Start::FromNow(Duration::ZERO),
        length: Duration::hours(2),
        venue: Some("三楼会议室".into()),
    }
}

impl MeetingPlan {
    pub fn kind(mut self, kind: &str) -> Self {
        self.kind = kind.into();
        self
    }
    pub fn title(mut self, title: &str) -> Self {
        self.title = title.into();
        self
    }
    /// Starting `d` after the test clock's now (negative: already started).
    pub fn starting_in(mut self, d: Duration) -> Self {
        self.start = Start::FromNow(d);
        self
    }
    pub fn starting_at(mut self, at: OffsetDateTime) -> Self {
        self.start = Start::At(at);
        self
    }
    /// Starts and ends as written (RFC 3339 texts, e.g. `2026-05-20T09:00:00+08:00`).
    pub fn between(mut self, starts: &str, ends: &str) -> Self {
        self.start = Start::Text(starts.into(), ends.into());
        self
    }
    pub fn lasting(mut self, d: Duration) -> Self {
        self.length = d;
        self
    }
    pub fn venue(mut self, venue: &str) -> Self {
        self.venue = Some(venue.into());
        self
    }
    pub fn without_venue(mut self) -> Self {
        self.venue = None;
        self
    }

    fn start_on(&self, app_now: OffsetDateTime) -> OffsetDateTime {
        match &self.start {
            Start::FromNow(d) => app_now.replace_nanosecond(0).unwrap_or(app_now) + *d,
            Start::At(at) => *at,
            Start::Text(s, _) => OffsetDateTime::parse(s, &Rfc3339).unwrap_or(app_now),
        }
    }

    /// The body of `POST /api/v1/meetings` for a clock at `now`.
    pub fn body(&self, now: OffsetDateTime) -> Value {
        let (starts, ends) = match &self.start {
            Start::Text(s, e) => (s.clone(), e.clone()),
            _ => {
                let start = self.start_on(now);
                (local(start), local(start + self.length))
            }
        };
        let mut b = json!({"org_id": self.org, "kind": self.kind, "title": self.title,
                           "starts_at": starts, "ends_at": ends});
        if let Some(v) = &self.venue {
            b["venue"] = json!(v);
        }
        b
    }

    /// Plans it as `c` at the app's clock; 201 or the test fails.
    pub async fn plan(&self, app: &TestApp, c: &Client) -> Planned {
        self.post(c, app.store.now()).await
    }

    /// Plans a meeting whose times are given (`starting_at`, `between`): no clock needed.
    pub async fn plan_as(&self, c: &Client) -> i64 {
        assert!(
            !matches!(self.start, Start::FromNow(_)),
            "a meeting starting from now needs the app's clock: plan(app, c)"
        );
        self.post(c, OffsetDateTime::UNIX_EPOCH).await.id
    }

    /// Plans it as `c` at the app's clock: the answer (201 or the test fails).
    pub async fn plan_answer(&self, app: &TestApp, c: &Client) -> Value {
        self.answer(c, app.store.now()).await
    }

    async fn answer(&self, c: &Client, now: OffsetDateTime) -> Value {
        let (s, m) = c.post("/api/v1/meetings", self.body(now)).await;
        assert_eq!(s, StatusCode::CREATED, "{m}");
        m
    }

    async fn post(&self, c: &Client, now: OffsetDateTime) -> Planned {
        let m = self.answer(c, now).await;
        Planned {
            id: m["id"].as_i64().unwrap_or_default(),
            starts_at: self.start_on(now),
        }
    }
}

/// `GET /api/v1/meetings/{id}/attendance` as `c`: 200 or the test fails.
pub async fn attendance(c: &Client, id: i64) -> Value {
    let (s, a) = c.get(&format!("/api/v1/meetings/{id}/attendance")).await;
    assert_eq!(s, StatusCode::OK, "{a}");
    a
}

/// Registers 东门闸机, a card gate of `org`, as `c` (201 or the test fails): its answer and a
/// client holding its bearer token.
pub async fn register_gate(app: &TestApp, c: &Client, org: i64) -> (Value, Client) {
    register_device(app, c, org, "东门闸机", "rfid_gate").await
}

/// Registers a device `name` of `kind` (`rfid_gate`, `kiosk`, …) of `org` as `c` (201 or the
/// test fails): its answer and a client holding its bearer token.
pub async fn register_device(app: &TestApp, c: &Client, org: i64, name: &str, kind: &str) -> (Value, Client) {
    let body = json!({"name": name, "kind": kind, "org_id": org});
    let (s, d) = c.post("/api/v1/devices", body).await;
    assert_eq!(s, StatusCode::CREATED, "{d}");
    let mut gate = app.client();
    gate.bearer = d["token"].as_str().map(str::to_owned);
    assert!(gate.bearer.is_some(), "no token: {d}");
    (d, gate)
}

/// The path of a meeting's check-ins.
pub fn checkins(id: i64) -> String {
    format!("/api/v1/meetings/{id}/checkins")
}

impl Client {
    /// Posts a check-in (`body`) to meeting `id`: status and answer.
    pub async fn check_in(&self, id: i64, body: Value) -> (StatusCode, Value) {
        self.post(&checkins(id), body).await
    }
    /// A manual check-in of `person` as event `event_id`, without a device time.
    pub async fn check_in_by_hand(&self, id: i64, event_id: &str, person: i64) -> (StatusCode, Value) {
        self.check_in(
            id,
            json!({"event_id": event_id, "person_id": person, "method": "manual"}),
        )
        .await
    }
    /// The same with the device's time `at` (RFC 3339).
    pub async fn check_in_at(&self, id: i64, event_id: &str, person: i64, at: &str) -> (StatusCode, Value) {
        let body = json!({"event_id": event_id, "person_id": person, "method": "manual", "at": at});
        self.check_in(id, body).await
    }
    /// `POST /api/v1/meetings/{id}/{action}` (`close`, `cancel`, `leaves`, `invitees`, …).
    pub async fn on_meeting(&self, id: i64, action: &str, body: Value) -> (StatusCode, Value) {
        self.post(&format!("/api/v1/meetings/{id}/{action}"), body).await
    }
    /// Cancels meeting `id` for `reason`: status and answer.
    pub async fn cancel_meeting(&self, id: i64, reason: &str) -> (StatusCode, Value) {
        self.on_meeting(id, "cancel", json!({ "reason": reason })).await
    }
    /// Records an amendment (`body`) of closed meeting `id`: status and answer.
    pub async fn amend_meeting(&self, id: i64, body: Value) -> (StatusCode, Value) {
        self.on_meeting(id, "amendments", body).await
    }
    /// Closes meeting `id`: status and answer.
    pub async fn close_meeting(&self, id: i64) -> (StatusCode, Value) {
        self.on_meeting(id, "close", json!({})).await
    }
}
