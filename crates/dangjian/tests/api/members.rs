use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{TestApp, code, field, id_number};

fn new_member(org: i64, id: &str) -> serde_json::Value {
    json!({"org_id": org, "name": "赵六", "id_number": id, "status": "formal", "joined_on": "2018-06-30",
           "regularized_on": "2019-06-30", "phone": "13912345678", "category": "in_service", "ethnicity": "汉族"})
}

#[tokio::test]
async fn a_secretary_creates_a_member_with_gender_and_birth_date_from_the_id_number() {
    let app = TestApp::spawn().await;
    let sec = app.login("sec").await;
    let id = id_number("1992-11-20", 123);
    let (s, m) = sec
        .post("/api/v1/members", new_member(app.tree.branch_a, &id))
        .await;
    assert_eq!(s, 201, "{m}");
    assert_eq!(m["birth_date"], "1992-11-20");
    assert_eq!(m["gender"], "male", "sequence 123 is odd");
    assert_eq!(m["id_number"], id);
    let (_, events) = sec.get(&format!("/api/v1/members/{}/events", m["id"])).await;
    assert_eq!(events["items"][0]["kind"], "register");
    let (_, org) = sec.get(&format!("/api/v1/orgs/{}", app.tree.branch_a)).await;
    assert_eq!(org["member_count"], 3);
    assert_eq!(org["formal_count"], 2);
    let (_, root) = app
        .login("admin")
        .await
        .get(&format!("/api/v1/orgs/{}", app.tree.root))
        .await;
    assert_eq!(root["member_count"], 4, "subtree counts reach the top");
}

#[tokio::test]
async fn bad_id_numbers_are_refused_naming_the_field_and_the_rule() {
    let app = TestApp::spawn().await;
    let sec = app.login("sec").await;
    let good = id_number("1992-11-20", 123);
    let mut bad_check = good.clone();
    let last = if bad_check.ends_with('1') { "2" } else { "1" };
    bad_check.replace_range(17..18, last);
    let cases = [
        (bad_check.as_str(), "id_number_checksum"),
        ("11010519921120123", "id_number_length"),
        ("11010519921320123X", "id_number_birth_date"),
        ("1101051992112012AX", "id_number_format"),
    ];
    let before = crate::helpers::audit_count(&app.store).await;
    for (id, want) in cases {
        let (s, b) = sec
            .post("/api/v1/members", new_member(app.tree.branch_a, id))
            .await;
        assert_eq!(s, 422, "{id}");
        assert_eq!(code(&b), want, "{id}: {b}");
        assert_eq!(field(&b), "id_number");
        assert!(b["error"]["message"].as_str().unwrap().contains("身份证号"));
    }
    let mut body = new_member(app.tree.branch_a, &good);
    body["birth_date"] = json!("1992-11-21");
    let (s, b) = sec.post("/api/v1/members", body).await;
    assert_eq!(
        (s, code(&b)),
        (StatusCode::UNPROCESSABLE_ENTITY, "id_number_birth_mismatch")
    );
    assert_eq!(
        crate::helpers::audit_count(&app.store).await,
        before,
        "nothing was recorded"
    );
}

#[tokio::test]
async fn a_duplicate_id_number_is_a_conflict() {
    let app = TestApp::spawn().await;
    let admin = app.login("admin").await;
    // the same person as a1, typed into branch B
    let (s, b) = admin
        .post(
            "/api/v1/members",
            new_member(app.tree.branch_b, &id_number("1980-05-06", 11)),
        )
        .await;
    assert_eq!(
        (s, code(&b), field(&b)),
        (StatusCode::CONFLICT, "id_number_duplicate", "id_number")
    );
}

#[tokio::test]
async fn missing_and_unknown_fields_are_422_naming_them() {
    let app = TestApp::spawn().await;
    let sec = app.login("sec").await;
    let (s, b) = sec
        .post("/api/v1/members", json!({"org_id": app.tree.branch_a}))
        .await;
    assert_eq!(
        (s, code(&b), field(&b)),
        (StatusCode::UNPROCESSABLE_ENTITY, "field_required", "name")
    );
    assert_eq!(b["error"]["message"], "请填写“姓名”");
    let mut body = new_member(app.tree.branch_a, &id_number("1992-11-20", 5));
    body["status"] = json!("委员");
    let (s, b) = sec.post("/api/v1/members", body).await;
    assert_eq!((s, field(&b)), (StatusCode::UNPROCESSABLE_ENTITY, "status"));
    let mut body = new_member(app.tree.branch_a, &id_number("1992-11-20", 5));
    body["joined_on"] = json!("2018-13-01");
    let (s, b) = sec.post("/api/v1/members", body).await;
    assert_eq!(
        (s, code(&b), field(&b)),
        (StatusCode::UNPROCESSABLE_ENTITY, "date_invalid", "joined_on")
    );
    let mut body = new_member(app.tree.branch_a, &id_number("1992-11-20", 5));
    body["org_id"] = json!(app.tree.root);
    let (s, b) = app.login("admin").await.post("/api/v1/members", body).await;
    assert_eq!(
        (s, code(&b)),
        (StatusCode::UNPROCESSABLE_ENTITY, "org_holds_no_members")
    );
}

#[tokio::test]
async fn the_status_is_changed_only_by_typed_events() {
    let app = TestApp::spawn().await;
    let sec = app.login("sec").await;
    let (s, b) = sec
        .patch(
            &format!("/api/v1/members/{}", app.tree.a2),
            json!({"status": "formal"}),
        )
        .await;
    assert_eq!(
        (s, code(&b)),
        (StatusCode::UNPROCESSABLE_ENTITY, "status_by_event_only")
    );
    let today = app.store.today().to_string();
    let (s, ev) = sec
        .post(
            &format!("/api/v1/members/{}/events", app.tree.a2),
            json!({"kind": "regularize", "date": today}),
        )
        .await;
    assert_eq!(s, 201, "{ev}");
    assert_eq!(ev["status_before"], "probationary");
    assert_eq!(ev["status_after"], "formal");
    // dates as API.md writes them (they were time's [year, ordinal] pairs)
    assert_eq!(ev["event_date"], today.as_str());
    assert_eq!(ev["kind_label"], "转为正式党员");
    let (_, m) = sec.get(&format!("/api/v1/members/{}", app.tree.a2)).await;
    assert_eq!(m["status"], "formal");
    assert_eq!(m["regularized_on"], today);
    let (_, org) = sec.get(&format!("/api/v1/orgs/{}", app.tree.branch_a)).await;
    assert_eq!(org["formal_count"], 2);
    // regularizing twice is not a valid transition
    let (s, b) = sec
        .post(
            &format!("/api/v1/members/{}/events", app.tree.a2),
            json!({"kind": "regularize", "date": today}),
        )
        .await;
    assert_eq!(
        (s, code(&b), field(&b)),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            "status_transition_invalid",
            "kind"
        )
    );
    assert!(
        b["error"]["message"].as_str().unwrap().contains("正式党员"),
        "{b}"
    );
}

#[tokio::test]
async fn suspension_needs_a_reason_and_keeps_the_record() {
    let app = TestApp::spawn().await;
    let sec = app.login("sec").await;
    let today = app.store.today().to_string();
    let path = format!("/api/v1/members/{}/events", app.tree.a1);
    let (s, b) = sec.post(&path, json!({"kind": "suspend", "date": today})).await;
    assert_eq!(
        (s, code(&b), field(&b)),
        (StatusCode::UNPROCESSABLE_ENTITY, "reason_required", "reason")
    );
    let (s, _) = sec
        .post(
            &path,
            json!({"kind": "suspend", "date": today, "reason": "失联超过六个月"}),
        )
        .await;
    assert_eq!(s, 201);
    let (_, m) = sec.get(&format!("/api/v1/members/{}", app.tree.a1)).await;
    assert_eq!(m["status"], "suspended");
    let (_, org) = sec.get(&format!("/api/v1/orgs/{}", app.tree.branch_a)).await;
    assert_eq!(
        org["member_count"], 1,
        "a suspended member leaves the roster counts"
    );
    let (_, events) = sec.get(&path).await;
    assert_eq!(
        events["total"], 2,
        "register and suspend: history is never overwritten"
    );
    let (_, list) = sec.get("/api/v1/members?status=suspended").await;
    assert_eq!(list["total"], 1);
}

#[tokio::test]
async fn moving_a_member_to_another_org_moves_the_counts() {
    let app = TestApp::spawn().await;
    let admin = app.login("admin").await;
    let today = app.store.today().to_string();
    let (s, b) = admin
        .post(
            &format!("/api/v1/members/{}/events", app.tree.a1),
            json!({"kind": "move_within", "date": today, "org_id": app.tree.branch_b}),
        )
        .await;
    assert_eq!(s, 201, "{b}");
    let (_, a) = admin.get(&format!("/api/v1/orgs/{}", app.tree.branch_a)).await;
    let (_, bb) = admin.get(&format!("/api/v1/orgs/{}", app.tree.branch_b)).await;
    assert_eq!(
        (a["member_count"].as_i64(), bb["member_count"].as_i64()),
        (Some(1), Some(2))
    );
    let (s, _) = app
        .login("sec")
        .await
        .get(&format!("/api/v1/members/{}", app.tree.a1))
        .await;
    assert_eq!(s, 404, "no longer in the secretary's branch");
}

#[tokio::test]
async fn search_by_name_pinyin_initials_status_and_id_number() {
    let app = TestApp::spawn().await;
    let admin = app.login("admin").await;
    let (_, b) = admin.get("/api/v1/members?q=张").await;
    assert_eq!(b["total"], 1);
    assert_eq!(b["items"][0]["name"], "张三");
    let (_, b) = admin.get("/api/v1/members?q=ls").await;
    assert_eq!(b["items"][0]["name"], "李四");
    let (_, b) = admin.get("/api/v1/members?status=probationary").await;
    assert_eq!(b["total"], 1);
    let (_, b) = admin
        .get(&format!(
            "/api/v1/members?q={}",
            id_number("1990-02-03", 22).to_lowercase()
        ))
        .await;
    assert_eq!(b["total"], 1);
    let (_, b) = admin
        .get(&format!("/api/v1/members?org={}", app.tree.branch_a))
        .await;
    assert_eq!(b["total"], 1, "without subtree only the branch's own members");
    let (_, b) = admin
        .get(&format!("/api/v1/members?org={}&subtree=true", app.tree.branch_a))
        .await;
    assert_eq!(b["total"], 2);
    let (s, b) = admin.get("/api/v1/members?status=bogus").await;
    assert_eq!((s, field(&b)), (StatusCode::UNPROCESSABLE_ENTITY, "status"));
    let (_, b) = admin.get("/api/v1/members?limit=1&offset=1").await;
    assert_eq!(b["items"].as_array().unwrap().len(), 1);
    assert_eq!(b["total"], 3);
}

#[tokio::test]
async fn editing_a_record_checks_the_id_number_again_and_keeps_it_unique() {
    let app = TestApp::spawn().await;
    let sec = app.login("sec").await;
    let path = format!("/api/v1/members/{}", app.tree.a1);
    // a corrected ID number for the same birth date
    let corrected = id_number("1980-05-06", 12);
    let (s, m) = sec
        .patch(
            &path,
            json!({"id_number": corrected, "phone": "13611112222", "name": "张叁"}),
        )
        .await;
    assert_eq!(s, 200, "{m}");
    assert_eq!(
        (m["id_number"].as_str(), m["phone"].as_str(), m["name"].as_str()),
        (Some(corrected.as_str()), Some("13611112222"), Some("张叁"))
    );
    assert_eq!(m["version"], 2);
    // the old number is free again; a2's number is taken
    let (s, b) = sec
        .patch(&path, json!({"id_number": id_number("1990-02-03", 22)}))
        .await;
    assert_eq!(s, 422, "a2's number has another birth date: {b}");
    let (s, b) = sec.patch(&path, json!({"birth_date": "1980-05-07"})).await;
    assert_eq!(
        (s, code(&b)),
        (StatusCode::UNPROCESSABLE_ENTITY, "id_number_birth_mismatch")
    );
    let admin = app.login("admin").await;
    let (_, other) = admin
        .post(
            "/api/v1/members",
            new_member(app.tree.branch_b, &id_number("1980-05-06", 13)),
        )
        .await;
    let (s, b) = admin
        .patch(
            &format!("/api/v1/members/{}", other["id"]),
            json!({"id_number": corrected}),
        )
        .await;
    assert_eq!((s, code(&b)), (StatusCode::CONFLICT, "id_number_duplicate"));
    let (_, found) = admin.get("/api/v1/members?category=in_service&q=zs").await;
    assert_eq!(found["total"], 1, "pinyin initials follow the new name");
    let (s, b) = sec.patch(&path, json!({"phone": "12345"})).await;
    assert_eq!((s, field(&b)), (StatusCode::UNPROCESSABLE_ENTITY, "phone"));
}
