//! The check-in hot path (DESIGN.md "Live check-in"): concurrent check-ins share transactions
//! (group commit) and each is answered after its commit; the in-memory roster stays true to the
//! database (leaves, people who join after it loaded, replays inside one batch); personal QR
//! codes scanned by staff.
#![expect(
    clippy::unwrap_used,
    reason = "test helpers reading the tables: a failed read should stop the test at once"
)]

use reqwest::StatusCode;
use serde_json::{Value, json};
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime, UtcOffset};

use super::meeting;
use crate::helpers::{Client, TestApp, code, id_number, ints, refused, refused_on};

fn t(at: OffsetDateTime) -> String {
    at.to_offset(UtcOffset::UTC).format(&Rfc3339).unwrap_or_default()
}

/// A meeting of `org` that started ten minutes ago (the test clock).
async fn plan(app: &TestApp, c: &Client, org: i64) -> i64 {
    meeting(org)
        .starting_in(-Duration::minutes(10))
        .without_venue()
        .plan(app, c)
        .await
        .id
}

fn path(id: i64) -> String {
    format!("/api/v1/meetings/{id}/checkins")
}

#[tokio::test]
async fn a_burst_is_stored_in_shared_transactions_and_every_event_is_answered_after_commit() {
    let (app, staff) = TestApp::spawn_as("staff").await;
    let id = plan(&app, &staff, app.tree.branch_a).await;
    let people = [app.tree.a1, app.tree.a2];
    let n = 200usize;
    let mut tasks = Vec::new();
    for k in 0..n {
        let c = staff.clone();
        // each person alternates in and out; the device clock orders them
        let person = people[k % 2];
        let direction = if (k / 2) % 2 == 0 { "in" } else { "out" };
        let at = app.store.now() + Duration::seconds(k as i64);
        tasks.push(tokio::spawn(async move {
            c.check_in(
                id,
                json!({"event_id": format!("e{k}"), "person_id": person, "method": "manual",
                       "direction": direction, "at": t(at)}),
            )
            .await
        }));
    }
    for task in tasks {
        let (s, b) = task.await.unwrap();
        assert_eq!(s, StatusCode::CREATED, "{b}");
    }
    let stored: i64 = sqlx_count(
        &app,
        &format!("SELECT COUNT(*) FROM checkin_event WHERE meeting_id = {id}"),
    )
    .await;
    assert_eq!(stored, n as i64);
    // one audit record per batch, with the count of its events: they add up to every event, and
    // concurrent events shared a batch
    let counts: Vec<i64> = audit_counts(&app, id).await;
    assert_eq!(counts.iter().sum::<i64>(), n as i64, "{counts:?}");
    assert!(
        counts.iter().any(|c| *c > 1),
        "no batch held two events: {counts:?}"
    );
    let verdict = crate::helpers::verify_audit_chain(&app.store.db, &app.store.keys).await;
    assert!(verdict.is_ok(), "the audit chain holds: {verdict:?}");
    // the last event by device time decides: k = 198 (a1) and 199 (a2), both "out" (99 is odd)
    let (_, a) = staff.get(&format!("/api/v1/meetings/{id}/attendance")).await;
    assert_eq!(ints(&a, ["present", "left_early"]), [Some(0), Some(2)], "{a}");
    let (s, b) = staff
        .check_in(
            id,
            json!({"event_id": "e0", "person_id": people[0], "method": "manual", "direction": "out",
                   "at": t(app.store.now())}),
        )
        .await;
    assert_eq!(
        (s, code(&b)),
        (StatusCode::CONFLICT, "event_id_conflict"),
        "other body: {b}"
    );
}

async fn sqlx_count(app: &TestApp, sql: &str) -> i64 {
    let sql = sqlx::AssertSqlSafe(sql.to_owned());
    dangjian_store::with_db!(&app.store.db, p => sqlx::query_scalar(sql).fetch_one(p).await).unwrap()
}

async fn audit_counts(app: &TestApp, meeting: i64) -> Vec<i64> {
    let sql = format!(
        "SELECT after_json FROM audit WHERE action = 'checkin' AND entity = 'meeting' AND entity_id = '{meeting}' ORDER BY seq"
    );
    let sql = sqlx::AssertSqlSafe(sql);
    let rows: Vec<String> =
        dangjian_store::with_db!(&app.store.db, p => sqlx::query_scalar(sql).fetch_all(p).await).unwrap();
    rows.iter()
        .map(|r| {
            serde_json::from_str::<Value>(r).unwrap()["count"]
                .as_i64()
                .unwrap()
        })
        .collect()
}

#[tokio::test]
async fn the_same_event_twice_in_one_burst_is_stored_once() {
    let (app, staff) = TestApp::spawn_as("staff").await;
    let id = plan(&app, &staff, app.tree.branch_a).await;
    let at = t(app.store.now());
    let same = json!({"event_id": "dup", "person_id": app.tree.a1, "method": "manual", "at": at});
    let other = json!({"event_id": "dup", "person_id": app.tree.a2, "method": "manual", "at": at});
    let mut tasks = Vec::new();
    for body in [same.clone(), same.clone(), same, other] {
        let c = staff.clone();
        tasks.push(tokio::spawn(async move { c.post(&path(id), body).await }));
    }
    let mut answers = Vec::new();
    for task in tasks {
        answers.push(task.await.unwrap());
    }
    let stored = sqlx_count(
        &app,
        &format!("SELECT COUNT(*) FROM checkin_event WHERE meeting_id = {id}"),
    )
    .await;
    assert_eq!(stored, 1);
    let created = answers.iter().filter(|(s, _)| *s == StatusCode::CREATED).count();
    assert_eq!(created, 1, "{answers:?}");
    // whichever body came first was stored; the others are replays (200) or conflicts (409)
    for (s, b) in &answers {
        assert!(
            matches!(*s, StatusCode::CREATED | StatusCode::OK | StatusCode::CONFLICT),
            "{s} {b}"
        );
    }
}

#[tokio::test]
async fn the_roster_follows_leaves_and_people_who_join_after_it_loaded() {
    let (app, sec) = TestApp::spawn_as("sec").await;
    let id = plan(&app, &sec, app.tree.branch_a).await;
    let at = t(app.store.now());
    // the first check-in loads the roster
    let (s, b) = sec.check_in_at(id, "r1", app.tree.a1, &at).await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    // a leave recorded afterwards counts
    let (s, b) = sec
        .on_meeting(id, "leaves", json!({"person_id": app.tree.a2, "reason": "出差"}))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    // someone joins branch A after the roster loaded: expected, may check in
    let (s, m) = sec
        .post(
            "/api/v1/members",
            json!({"org_id": app.tree.branch_a, "name": "新来的", "id_number": id_number("1990-03-04", 17),
                   "status": "formal", "joined_on": "2015-06-30", "regularized_on": "2016-06-30",
                   "category": "in_service"}),
        )
        .await;
    assert_eq!(s, 201, "{m}");
    let newcomer = m["id"].as_i64().unwrap();
    let (s, b) = sec.check_in_at(id, "r2", newcomer, &at).await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    // someone of branch B is still not expected
    let (s, b) = sec.check_in_at(id, "r3", app.tree.b1, &at).await;
    refused(s, &b, StatusCode::UNPROCESSABLE_ENTITY, "not_expected");
    let (_, a) = sec.get(&format!("/api/v1/meetings/{id}/attendance")).await;
    assert_eq!(
        ints(&a, ["expected", "present", "leave"]),
        [Some(3), Some(2), Some(1)],
        "{a}"
    );
}

#[tokio::test]
async fn staff_check_a_member_in_by_the_personal_code_on_their_phone() {
    let (app, staff) = TestApp::spawn_as("staff").await;
    let id = plan(&app, &staff, app.tree.branch_a).await;
    let mem = app.login("mem").await;
    let (s, code_body) = mem.get("/api/v1/me/qr").await;
    assert_eq!(s, StatusCode::OK, "{code_body}");
    assert_eq!(code_body["window_seconds"], 60);
    let token = code_body["token"].as_str().unwrap().to_owned();
    let (s, b) = staff
        .check_in(id, json!({"event_id": "p1", "person_token": token}))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    assert_eq!(b["person_id"], app.tree.a1);
    assert_eq!(b["state"], "present");
    let (_, stored_method) = (
        0,
        sqlx_count(
            &app,
            &format!("SELECT COUNT(*) FROM checkin_event WHERE meeting_id = {id} AND method = 'qr'"),
        )
        .await,
    );
    assert_eq!(stored_method, 1, "a scanned personal code is a QR check-in");

    // a member cannot post someone's personal code (nor their own) as if staff
    let (s, b) = mem
        .check_in(id, json!({"event_id": "p2", "person_token": token}))
        .await;
    refused(s, &b, StatusCode::FORBIDDEN, "checkin_self_only");
    // a forged code: one byte changed
    let mut forged = token.clone().into_bytes();
    forged[3] = if forged[3] == b'A' { b'B' } else { b'A' };
    let (s, b) = staff
        .check_in(
            id,
            json!({"event_id": "p3", "person_token": String::from_utf8(forged).unwrap()}),
        )
        .await;
    refused_on(
        s,
        &b,
        StatusCode::UNPROCESSABLE_ENTITY,
        "person_token_invalid",
        "person_token",
    );
    assert!(
        b["error"]["message"].as_str().unwrap().contains("个人签到码"),
        "{b}"
    );
    // two windows later the photo of the code is useless
    app.clock.set(app.store.now() + Duration::minutes(3));
    let (s, b) = staff
        .check_in(id, json!({"event_id": "p4", "person_token": token}))
        .await;
    refused(s, &b, StatusCode::UNPROCESSABLE_ENTITY, "person_token_expired");
    // a login without a member record has no personal code
    let (s, b) = staff.get("/api/v1/me/qr").await;
    refused(s, &b, StatusCode::FORBIDDEN, "no_person_record");
}

#[tokio::test]
async fn a_group_member_checks_themself_in_at_the_branch_meeting_but_not_someone_else() {
    let (app, staff) = TestApp::spawn_as("staff").await;
    let id = plan(&app, &staff, app.tree.branch_a).await;
    // a2 belongs to 党小组 A1; their login's grant covers the group only
    let hash = dangjian_web::auth::hash_password(crate::helpers::PASSWORD).unwrap();
    app.store
        .accounts()
        .create_user(
            &dangjian_store::Actor::system("test"),
            "grp",
            &hash,
            Some(app.tree.a2),
            false,
            &[(dangjian_store::Role::Member, app.tree.group_a1)],
        )
        .await
        .unwrap();
    let grp = app.login("grp").await;
    let (_, qr) = staff.get(&format!("/api/v1/meetings/{id}/qr")).await;
    let token = qr["token"].as_str().unwrap().to_owned();
    let (s, b) = grp
        .check_in(id, json!({"event_id": "g1", "qr_token": token}))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    assert_eq!(b["person_id"], app.tree.a2);
    // not someone else: the meeting is theirs, so 403 (not 404)
    let (s, b) = grp.check_in_by_hand(id, "g2", app.tree.a1).await;
    refused(s, &b, StatusCode::FORBIDDEN, "checkin_self_only");
    // branch B's meeting is none of theirs
    let secb = app.login("secb").await;
    let other = plan(&app, &secb, app.tree.branch_b).await;
    let (s, _) = grp.check_in_by_hand(other, "g3", app.tree.a2).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _) = grp.check_in_by_hand(other, "g4", app.tree.a1).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_check_in_answer_shows_the_assigned_seat() {
    let app = TestApp::spawn_at(super::records::MEETING_DAY).await;
    let sec = app.login("sec").await;
    let id = super::records::plan(&app, &sec, app.tree.branch_a).await;
    // the first check-in loads the roster before any seat is assigned
    let at = t(app.store.now());
    let (s, b) = sec.check_in_at(id, "s1", app.tree.a1, &at).await;
    assert_eq!((s, b["seat"].clone()), (StatusCode::CREATED, Value::Null), "{b}");
    let (s, b) = sec
        .put(
            &format!("/api/v1/orgs/{}/seat-plans", app.tree.branch_a),
            json!({"venue": "三楼会议室", "rows": 2, "seats_per_row": 4}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let (s, b) = sec
        .put(&format!("/api/v1/meetings/{id}/seats"), json!({"auto": true}))
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    // seats assigned after the roster loaded reach the next answer
    let (s, b) = sec.check_in_at(id, "s2", app.tree.a2, &at).await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    let seat = b["seat"].as_str().unwrap_or_default().to_owned();
    assert!(
        seat.starts_with('第') && seat.ends_with('座'),
        "a seat label like 第1排2座: {b}"
    );
}

#[tokio::test]
async fn only_the_committee_is_expected_at_a_committee_meeting() {
    let (app, sec) = TestApp::spawn_as("sec").await;
    let (s, b) = sec
        .post(
            &format!("/api/v1/orgs/{}/posts", app.tree.branch_a),
            json!({"person_id": app.tree.a1, "post": "secretary"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    let id = meeting(app.tree.branch_a)
        .kind("committee")
        .title("支委会")
        .starting_in(-Duration::minutes(10))
        .lasting(Duration::hours(1))
        .without_venue()
        .plan(&app, &sec)
        .await
        .id;
    let (_, a) = sec.get(&format!("/api/v1/meetings/{id}/attendance")).await;
    assert_eq!(a["expected"], 1, "the one committee member: {a}");
    assert_eq!(a["people"][0]["person_id"], app.tree.a1);
    // a member of the branch without a post is not expected at it
    let (s, b) = sec.check_in_by_hand(id, "c1", app.tree.a2).await;
    refused(s, &b, StatusCode::UNPROCESSABLE_ENTITY, "not_expected");
    let (s, b) = sec.check_in_by_hand(id, "c2", app.tree.a1).await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    // but may sit in (列席) when invited: listed, not counted
    let (s, b) = sec
        .on_meeting(
            id,
            "invitees",
            json!({"person_id": app.tree.a2, "role": "attendee_extra"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    let (s, b) = sec.check_in_by_hand(id, "c3", app.tree.a2).await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    let (s, _) = sec.close_meeting(id).await;
    assert!(s.is_success());
    let (_, a) = sec.get(&format!("/api/v1/meetings/{id}/attendance")).await;
    assert_eq!(
        ints(&a, ["expected", "present"]),
        [Some(1), Some(1)],
        "frozen at close: {a}"
    );
}

#[tokio::test]
async fn a_branch_congress_shows_whether_more_than_half_of_the_voters_came() {
    let (app, sec) = TestApp::spawn_as("sec").await;
    let id = plan(&app, &sec, app.tree.branch_a).await;
    // branch A: a1 formal (votes), a2 probationary (does not)
    let (_, a) = sec.get(&format!("/api/v1/meetings/{id}/attendance")).await;
    assert_eq!(
        a["quorum"],
        json!({"voting": 1, "present": 0, "needed": 1, "met": false}),
        "{a}"
    );
    let (_, html) = sec.page(&format!("/meetings/{id}")).await;
    assert!(html.contains("未过半数"), "the meeting page says so");
    // the probationary member coming changes nothing; the formal one does
    let at = t(app.store.now());
    for (e, p) in [("q1", app.tree.a2), ("q2", app.tree.a1)] {
        let (s, b) = sec.check_in_at(id, e, p, &at).await;
        assert_eq!(s, StatusCode::CREATED, "{b}");
        let (_, a) = sec.get(&format!("/api/v1/meetings/{id}/attendance")).await;
        assert_eq!(a["quorum"]["met"], p == app.tree.a1, "{a}");
    }
    let (_, html) = sec.page(&format!("/meetings/{id}")).await;
    assert!(html.contains("已过半数"));
    // a 主题党日 decides nothing by vote
    let theme_day = meeting(app.tree.branch_a)
        .kind("theme_day")
        .title("主题党日")
        .lasting(Duration::hours(1))
        .without_venue()
        .plan(&app, &sec)
        .await
        .id;
    let (_, a) = sec.get(&format!("/api/v1/meetings/{theme_day}/attendance")).await;
    assert!(a.get("quorum").is_none(), "{a}");
}
