//! The live check-in stream (API.md "Meetings and check-in", Stream): events after commit, the
//! replay by Last-Event-ID, and on PostgreSQL a check-in on one node seen on another's stream.

use std::time::Duration as StdDuration;

use reqwest::StatusCode;
use serde_json::{Value, json};
use time::Duration;

use super::meeting;
use crate::helpers::{Client, TestApp, require_postgres};

/// A 支部党员大会 of branch A starting an hour from now (the test clock).
async fn plan(app: &TestApp, c: &Client) -> i64 {
    meeting(app.tree.branch_a)
        .starting_in(Duration::hours(1))
        .without_venue()
        .plan(app, c)
        .await
        .id
}

async fn check_in(c: &Client, id: i64, event_id: &str, person: i64) -> Value {
    let (s, b) = c.check_in_by_hand(id, event_id, person).await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    b
}

/// An open event stream, read line by line.
struct Stream {
    resp: reqwest::Response,
    buf: String,
}

impl Stream {
    async fn open(c: &Client, base: &str, id: i64, last: Option<i64>) -> Self {
        let mut req = c.http.get(format!("{base}/api/v1/meetings/{id}/stream"));
        if let Some(n) = last {
            req = req.header("Last-Event-ID", n.to_string());
        }
        let resp = req.send().await.unwrap_or_else(|e| panic!("stream: {e}"));
        assert_eq!(resp.status(), StatusCode::OK);
        let ct = resp
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        assert!(ct.starts_with("text/event-stream"), "{ct}");
        Self {
            resp,
            buf: String::new(),
        }
    }

    /// The next `checkin` event as (id, data), or None if none comes within `within`.
    async fn next(&mut self, within: StdDuration) -> Option<(i64, Value)> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            while let Some(end) = self.buf.find("\n\n") {
                let block: String = self.buf.drain(..end + 2).collect();
                let mut id = None;
                let mut data = None;
                let mut event = None;
                for line in block.lines() {
                    if let Some(v) = line.strip_prefix("id:") {
                        id = v.trim().parse::<i64>().ok();
                    } else if let Some(v) = line.strip_prefix("data:") {
                        data = serde_json::from_str::<Value>(v.trim()).ok();
                    } else if let Some(v) = line.strip_prefix("event:") {
                        event = Some(v.trim().to_owned());
                    }
                }
                if let (Some(id), Some(data)) = (id, data) {
                    assert_eq!(event.as_deref(), Some("checkin"));
                    return Some((id, data));
                }
            }
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            match tokio::time::timeout(left, self.resp.chunk()).await {
                Ok(Ok(Some(bytes))) => self.buf.push_str(&String::from_utf8_lossy(&bytes)),
                _ => return None,
            }
        }
    }
}

impl Stream {
    /// Whether the server closes the stream within `within`.
    async fn ends_within(&mut self, within: StdDuration) -> bool {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            match tokio::time::timeout(left, self.resp.chunk()).await {
                Ok(Ok(Some(_))) => {}
                Ok(Ok(None) | Err(_)) => return true,
                Err(_) => return false,
            }
        }
    }
}

const SOON: StdDuration = StdDuration::from_secs(2);

/// A fresh server, the secretary, a meeting of branch A and the secretary's stream of it.
async fn watching() -> (TestApp, Client, i64, Stream) {
    let (app, sec) = TestApp::spawn_as("sec").await;
    let id = plan(&app, &sec).await;
    let s = Stream::open(&sec, &app.base, id, None).await;
    (app, sec, id, s)
}

#[tokio::test]
async fn a_stream_ends_with_its_session_or_grant_and_a_user_holds_only_a_few() {
    let app = TestApp::spawn_with(dangjian_web::WebConfig {
        stream_recheck: StdDuration::from_millis(200),
        max_streams_per_user: 2,
        ..dangjian_web::WebConfig::default()
    })
    .await;
    let sec = app.login("sec").await;
    let id = plan(&app, &sec).await;

    // the staff logs out: their open stream stops sending names within the recheck
    let staff = app.login("staff").await;
    let mut s = Stream::open(&staff, &app.base, id, None).await;
    assert!(
        !s.ends_within(StdDuration::from_millis(400)).await,
        "open while logged in"
    );
    let (st, _) = staff.post("/api/v1/logout", json!({})).await;
    assert_eq!(st, StatusCode::OK);
    assert!(s.ends_within(SOON).await, "ended after the logout");

    // the secretary's grant is revoked: the stream ends too
    let mut s = Stream::open(&sec, &app.base, id, None).await;
    let admin = app.login("admin").await;
    let user = app
        .store
        .accounts()
        .user_by_name("sec")
        .await
        .ok()
        .flatten()
        .expect("sec");
    let grants = app
        .store
        .accounts()
        .grants(user.id, user.person_id)
        .await
        .expect("grants");
    let grant = grants.list()[0].id;
    let (st, b) = admin.delete(&format!("/api/v1/grants/{grant}")).await;
    assert!(st.is_success(), "{b}");
    assert!(s.ends_within(SOON).await, "ended after the grant went");

    // two streams per user at most on a node
    let staff = app.login("staff").await;
    let _one = Stream::open(&staff, &app.base, id, None).await;
    let _two = Stream::open(&staff, &app.base, id, None).await;
    let third = staff.raw_get(&format!("/api/v1/meetings/{id}/stream")).await;
    assert_eq!(third.status(), StatusCode::TOO_MANY_REQUESTS);
    drop(_one);
    tokio::time::sleep(StdDuration::from_millis(100)).await;
    let _again = Stream::open(&staff, &app.base, id, None).await;
}

#[tokio::test]
async fn a_committed_checkin_reaches_the_stream_with_the_counts() {
    let (app, sec, id, mut s) = watching().await;

    check_in(&sec, id, "ev-1", app.tree.a1).await;
    let (seq, d) = s.next(SOON).await.expect("the check-in on the stream");
    assert!(seq > 0);
    assert_eq!(d["event_id"], "ev-1");
    assert_eq!(d["person_id"], app.tree.a1);
    assert_eq!(d["state"], "present");
    assert_eq!(d["late"], false);
    assert!(d["name"].as_str().is_some_and(|n| !n.is_empty()), "{d}");
    assert!(d["at"].as_str().is_some(), "{d}");
    let c = &d["counts"];
    assert_eq!(c["present"], 1, "{d}");
    let n = |k: &str| c[k].as_i64().unwrap_or(-1);
    assert_eq!(
        n("present") + n("leave") + n("absent") + n("left_early"),
        n("expected")
    );

    // a replay (200) is not published again
    let (st, _) = sec.check_in_by_hand(id, "ev-1", app.tree.a1).await;
    assert_eq!(st, StatusCode::OK);
    check_in(&sec, id, "ev-2", app.tree.a2).await;
    let (seq2, d2) = s.next(SOON).await.expect("the second check-in");
    assert!(seq2 > seq);
    assert_eq!(d2["event_id"], "ev-2");
    assert_eq!(d2["counts"]["present"], 2);
}

#[tokio::test]
async fn reconnecting_with_last_event_id_replays_only_what_was_missed() {
    let (app, sec, id, mut s) = watching().await;
    check_in(&sec, id, "ev-1", app.tree.a1).await;
    let (first, _) = s.next(SOON).await.expect("first");
    drop(s);

    // missed while away
    check_in(&sec, id, "ev-2", app.tree.a2).await;
    let mut s = Stream::open(&sec, &app.base, id, Some(first)).await;
    let (seq, d) = s.next(SOON).await.expect("the missed event");
    assert!(seq > first);
    assert_eq!(d["event_id"], "ev-2");
    assert_eq!(d["counts"]["present"], 2);
    // then live, no duplicates
    let (st, _) = sec
        .on_meeting(
            id,
            "checkins",
            json!({"event_id": "ev-3", "person_id": app.tree.a1, "method": "manual", "direction": "out"}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED);
    let (seq3, d3) = s.next(SOON).await.expect("the live event");
    assert!(seq3 > seq);
    assert_eq!(d3["event_id"], "ev-3");
    assert!(s.next(StdDuration::from_millis(300)).await.is_none());
}

#[tokio::test]
async fn the_stream_is_for_meeting_staff_in_the_subtree() {
    let (app, sec) = TestApp::spawn_as("sec").await;
    let id = plan(&app, &sec).await;
    let mem = app.login("mem").await;
    let (s, _) = mem.get(&format!("/api/v1/meetings/{id}/stream")).await;
    // a member lacks RunMeetings: refused before the meeting is looked up
    assert_eq!(s, StatusCode::FORBIDDEN);
    let anon = app.client();
    let (s, _) = anon.get(&format!("/api/v1/meetings/{id}/stream")).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let (s, _) = sec.get("/api/v1/meetings/999999/stream").await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}

#[tokio::test]
#[cfg_attr(not(test_engine_pg), ignore = "PostgreSQL only: nodes meet by LISTEN/NOTIFY")]
async fn on_postgres_a_checkin_on_one_node_reaches_the_other_nodes_stream() {
    require_postgres();
    let app = TestApp::spawn().await;
    let (node_b, _stop_b) = app.spawn_second_node().await;
    let sec = app.login("sec").await;
    let id = plan(&app, &sec).await;
    // the same session cookie works on both nodes (one database)
    let mut s = Stream::open(&sec, &node_b.base, id, None).await;
    // let node B's LISTEN connection come up
    tokio::time::sleep(StdDuration::from_millis(500)).await;
    check_in(&sec, id, "ev-a", app.tree.a1).await;
    let (_, d) = s.next(SOON).await.expect("node A's check-in on node B's stream");
    assert_eq!(d["event_id"], "ev-a");
    assert_eq!(d["counts"]["present"], 1);
    assert!(s.next(StdDuration::from_millis(300)).await.is_none(), "sent once");
}

async fn qr(c: &Client, id: i64) -> String {
    let (s, b) = c.get(&format!("/api/v1/meetings/{id}/qr")).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(b["window_seconds"], 15);
    assert!(b["expires_at"].as_str().is_some(), "{b}");
    b["token"].as_str().unwrap_or_default().to_owned()
}

async fn qr_checkin(c: &Client, id: i64, event_id: &str, token: &str) -> (StatusCode, Value) {
    c.on_meeting(
        id,
        "checkins",
        json!({"event_id": event_id, "qr_token": token, "method": "qr"}),
    )
    .await
}

#[tokio::test]
async fn a_member_checks_themself_in_with_the_current_qr_token() {
    let (app, sec) = TestApp::spawn_as("sec").await;
    let id = plan(&app, &sec).await;
    let mem = app.login("mem").await;
    // members do not get the token from the API, staff show it at the door
    let (s, _) = mem.get(&format!("/api/v1/meetings/{id}/qr")).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let token = qr(&sec, id).await;
    let (s, b) = qr_checkin(&mem, id, "qr-1", &token).await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    assert_eq!(b["person_id"], app.tree.a1);
    assert_eq!(b["state"], "present");
    // the previous window's token is still good (clock skew)
    app.clock.set(app.store.now() + Duration::seconds(15));
    let (s, b) = qr_checkin(&mem, id, "qr-2", &token).await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    // a retry long after the token's window is a replay: the same answer, nothing added
    app.clock.set(app.store.now() + Duration::seconds(120));
    let (s, again) = qr_checkin(&mem, id, "qr-2", &token).await;
    assert_eq!(s, StatusCode::OK, "{again}");
    assert_eq!(again, b);
    let (s, b) = qr_checkin(&mem, id, "qr-3", &token).await;
    assert_eq!(
        (s, b["error"]["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("qr_token_expired"))
    );
}

#[tokio::test]
async fn old_forged_and_foreign_qr_tokens_are_refused() {
    let (app, sec) = TestApp::spawn_as("sec").await;
    let id = plan(&app, &sec).await;
    let other = plan(&app, &sec).await;
    let mem = app.login("mem").await;
    let token = qr(&sec, id).await;

    // tampered: one character changed
    let mut forged: Vec<char> = token.chars().collect();
    let i = forged.len() / 2;
    forged[i] = if forged[i] == 'A' { 'B' } else { 'A' };
    let forged: String = forged.into_iter().collect();
    for bad in [forged.as_str(), "abc", ""] {
        let (s, b) = qr_checkin(&mem, id, "bad", bad).await;
        if bad.is_empty() {
            assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{b}");
            continue;
        }
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{b}");
        assert_eq!(b["error"]["code"], "qr_token_invalid", "{b}");
        assert_eq!(b["error"]["field"], "qr_token", "{b}");
    }
    // another meeting's token
    let (s, b) = qr_checkin(&mem, other, "foreign", &token).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{b}");
    assert_eq!(b["error"]["code"], "qr_token_invalid", "{b}");
    // two windows later: expired, with a message
    app.clock.set(app.store.now() + Duration::seconds(30));
    let (s, b) = qr_checkin(&mem, id, "late", &token).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{b}");
    assert_eq!(b["error"]["code"], "qr_token_expired", "{b}");
    assert_eq!(b["error"]["field"], "qr_token", "{b}");
    assert!(
        b["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("二维码")),
        "{b}"
    );
    // nothing was recorded
    let (_, a) = sec.get(&format!("/api/v1/meetings/{id}/attendance")).await;
    assert_eq!(a["present"], 0, "{a}");
}

#[tokio::test]
async fn a_qr_token_does_not_check_in_someone_not_expected() {
    let app = TestApp::spawn().await;
    // a meeting of branch B: the branch-A member is not expected there
    let admin = app.login("admin").await;
    let in_an_hour = |org: i64, kind: &str, title: &str| {
        meeting(org)
            .kind(kind)
            .title(title)
            .starting_in(Duration::hours(1))
            .lasting(Duration::hours(1))
            .without_venue()
    };
    let id = in_an_hour(app.tree.general, "committee", "总支委员会")
        .plan(&app, &admin)
        .await
        .id;
    let token = qr(&admin, id).await;
    let (s, b) = admin
        .on_meeting(
            id,
            "checkins",
            json!({"event_id": "x", "qr_token": token, "method": "qr"}),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{b}");
    assert_eq!(b["error"]["code"], "not_expected", "{b}");

    // a member who sees the meeting (党小组 of their branch) but is not expected there
    let gid = in_an_hour(app.tree.group_a1, "group", "党小组会")
        .plan(&app, &admin)
        .await
        .id;
    let token = qr(&admin, gid).await;
    let mem = app.login("mem").await;
    let (s, b) = qr_checkin(&mem, gid, "y", &token).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{b}");
    assert_eq!(b["error"]["code"], "not_expected", "{b}");
}

#[tokio::test]
async fn a_page_resumes_the_stream_after_what_it_shows() {
    let (app, sec) = TestApp::spawn_as("sec").await;
    let id = plan(&app, &sec).await;
    check_in(&sec, id, "w-1", app.tree.a1).await;
    // what the wall and the desk render carries the cursor …
    let (_, att) = sec.get(&format!("/api/v1/meetings/{id}/attendance")).await;
    let cursor = att["last_seq"].as_i64().unwrap_or_default();
    assert!(cursor > 0, "{att}");
    let (_, wall) = sec.page(&format!("/meetings/{id}/wall")).await;
    assert!(
        wall.contains(&format!("data-after=\"{cursor}\"")),
        "the wall carries it"
    );
    // … a check-in lands between the render and the stream's opening …
    check_in(&sec, id, "w-2", app.tree.a2).await;
    // … and the stream opened after the cursor brings it
    let resp = sec
        .raw_get(&format!("/api/v1/meetings/{id}/stream?after={cursor}"))
        .await;
    let mut s = Stream {
        resp,
        buf: String::new(),
    };
    let (seq, data) = s.next(SOON).await.expect("the check-in in between");
    assert!(seq > cursor);
    assert_eq!(data["person_id"], app.tree.a2);
}
