use reqwest::StatusCode;
use serde_json::json;
use time::macros::datetime;

use crate::helpers::{TestApp, code, field};

#[tokio::test]
async fn an_org_nests_only_where_the_tree_allows() {
    let app = TestApp::spawn().await;
    let admin = app.login("admin").await;
    let (s, b) = admin
        .post(
            "/api/v1/orgs",
            json!({"parent_id": app.tree.group_a1, "name": "错误支部", "kind": "branch"}),
        )
        .await;
    assert_eq!(
        (s, code(&b)),
        (StatusCode::UNPROCESSABLE_ENTITY, "org_kind_nesting")
    );
    assert!(b["error"]["message"].as_str().unwrap().contains("党小组"));
    let (s, b) = admin
        .post(
            "/api/v1/orgs",
            json!({"parent_id": app.tree.root, "name": "联合党支部", "kind": "branch",
        "branch_type": "joint", "joint_units": 3, "category": "企业"}),
        )
        .await;
    assert_eq!(s, 201, "{b}");
    assert_eq!(b["branch_type"], "joint");
    assert_eq!(b["category"], "enterprise");
    assert_eq!(b["term_years"], 3, "a branch's term defaults to 3 years");
    let (s, b) = admin
        .post(
            "/api/v1/orgs",
            json!({"parent_id": app.tree.root, "name": "x", "kind": "tribe"}),
        )
        .await;
    assert_eq!((s, field(&b)), (StatusCode::UNPROCESSABLE_ENTITY, "kind"));
}

#[tokio::test]
async fn committee_terms_must_be_three_to_five_years() {
    let app = TestApp::spawn().await;
    let sec = app.login("sec").await;
    let (s, b) = sec
        .patch(
            &format!("/api/v1/orgs/{}", app.tree.branch_a),
            json!({"term_years": 6}),
        )
        .await;
    assert_eq!(
        (s, code(&b), field(&b)),
        (StatusCode::UNPROCESSABLE_ENTITY, "term_years_range", "term_years")
    );
    assert!(b["error"]["message"].as_str().unwrap().contains("3–5"), "{b}");
}

#[tokio::test]
async fn an_expired_term_shows_a_reminder_on_a_fixed_clock() {
    let app = TestApp::spawn().await;
    app.clock.set(datetime!(2026-06-01 02:00 UTC));
    let sec = app.login("sec").await;
    let (s, _) = sec
        .patch(
            &format!("/api/v1/orgs/{}", app.tree.branch_a),
            json!({"term_started_on": "2023-05-10", "term_years": 3}),
        )
        .await;
    assert_eq!(s, 200);
    let (_, w) = sec
        .get(&format!("/api/v1/orgs/{}/warnings", app.tree.branch_a))
        .await;
    let codes: Vec<&str> = w["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["code"].as_str().unwrap())
        .collect();
    assert!(codes.contains(&"term_expired"), "{w}");
    assert!(codes.contains(&"branch_too_few_formal"), "one formal member: {w}");
    app.clock.set(datetime!(2026-04-01 02:00 UTC));
    let (_, w) = sec
        .get(&format!("/api/v1/orgs/{}/warnings", app.tree.branch_a))
        .await;
    let codes: Vec<&str> = w["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["code"].as_str().unwrap())
        .collect();
    assert!(
        codes.contains(&"term_ending_soon") && !codes.contains(&"term_expired"),
        "{w}"
    );
    let (_, history) = sec
        .get(&format!("/api/v1/orgs/{}/history", app.tree.branch_a))
        .await;
    let term = history["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["change"] == "new_term")
        .unwrap_or_else(|| panic!("{history}"));
    // a date as API.md writes it (it was time's [year, ordinal] pair)
    let on = term["effective_on"].as_str().unwrap_or_default();
    assert!(
        on.len() == 10
            && time::Date::parse(on, time::macros::format_description!("[year]-[month]-[day]")).is_ok(),
        "{term}"
    );
}

#[tokio::test]
async fn moving_a_branch_moves_its_members_counts_and_visibility() {
    let app = TestApp::spawn().await;
    let admin = app.login("admin").await;
    let (s, b) = admin
        .patch(
            &format!("/api/v1/orgs/{}", app.tree.branch_a),
            json!({"parent_id": app.tree.root, "reason": "机构调整"}),
        )
        .await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["parent_id"], app.tree.root);
    assert_eq!(b["depth"], 1);
    let (_, general) = admin.get(&format!("/api/v1/orgs/{}", app.tree.general)).await;
    assert_eq!(general["member_count"], 0);
    let (_, root) = admin.get(&format!("/api/v1/orgs/{}", app.tree.root)).await;
    assert_eq!(root["member_count"], 3);
    let (_, group) = admin.get(&format!("/api/v1/orgs/{}", app.tree.group_a1)).await;
    assert_eq!(group["depth"], 2, "descendants moved too");
    let (_, members) = admin
        .get(&format!("/api/v1/members?org={}&subtree=true", app.tree.branch_a))
        .await;
    assert_eq!(members["total"], 2);
    let (_, history) = admin
        .get(&format!("/api/v1/orgs/{}/history", app.tree.branch_a))
        .await;
    let mv = history["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["change"] == "move")
        .unwrap()
        .clone();
    assert_eq!(mv["reason"], "机构调整");
    // and cannot go under its own group
    let (s, b) = admin
        .patch(
            &format!("/api/v1/orgs/{}", app.tree.general),
            json!({"parent_id": app.tree.general}),
        )
        .await;
    assert_eq!(
        (s, code(&b)),
        (StatusCode::UNPROCESSABLE_ENTITY, "org_move_into_own_subtree")
    );
}

#[tokio::test]
async fn renaming_keeps_the_old_name_in_history() {
    let app = TestApp::spawn().await;
    let sec = app.login("sec").await;
    let (s, _) = sec
        .patch(
            &format!("/api/v1/orgs/{}", app.tree.branch_a),
            json!({"name": "综合党支部"}),
        )
        .await;
    assert_eq!(s, 200);
    let (_, h) = sec
        .get(&format!("/api/v1/orgs/{}/history", app.tree.branch_a))
        .await;
    let rename = h["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["change"] == "rename")
        .unwrap()
        .clone();
    assert_eq!(
        (rename["old_value"].as_str(), rename["new_value"].as_str()),
        (Some("第一党支部"), Some("综合党支部"))
    );
}

#[tokio::test]
async fn committee_posts_are_appointed_listed_and_ended() {
    let app = TestApp::spawn().await;
    let sec = app.login("sec").await;
    let (s, p) = sec
        .post(
            &format!("/api/v1/orgs/{}/posts", app.tree.branch_a),
            json!({"person_id": app.tree.a1, "post": "secretary"}),
        )
        .await;
    assert_eq!(s, 201, "{p}");
    let (_, list) = sec
        .get(&format!("/api/v1/orgs/{}/posts", app.tree.branch_a))
        .await;
    assert_eq!(list["items"][0]["name"], "张三");
    assert_eq!(list["items"][0]["post_label"], "书记");
    let (s, _) = sec
        .post(&format!("/api/v1/posts/{}/end", p["id"]), json!({}))
        .await;
    assert_eq!(s, 200);
    let (_, list) = sec
        .get(&format!("/api/v1/orgs/{}/posts", app.tree.branch_a))
        .await;
    assert_eq!(list["total"], 0);
    let (s, b) = sec
        .post(&format!("/api/v1/posts/{}/end", p["id"]), json!({}))
        .await;
    assert_eq!((s, code(&b)), (StatusCode::CONFLICT, "post_already_ended"));
    let (s, _) = sec
        .post(
            &format!("/api/v1/orgs/{}/posts", app.tree.branch_a),
            json!({"person_id": app.tree.b1, "post": "member"}),
        )
        .await;
    assert_eq!(s, 422, "someone outside the branch cannot be appointed");
}

#[tokio::test]
async fn the_tree_endpoint_lists_the_subtree_in_order() {
    let app = TestApp::spawn().await;
    let (_, t) = app
        .login("admin")
        .await
        .get(&format!("/api/v1/orgs/{}/tree", app.tree.root))
        .await;
    let names: Vec<&str> = t["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["测试党委", "机关党总支", "第一党支部", "第一党小组", "第二党支部"]
    );
    let (_, roots) = app.login("sec").await.get("/api/v1/orgs").await;
    assert_eq!(roots["items"][0]["id"], app.tree.branch_a);
}

#[tokio::test]
async fn a_temporary_branch_holds_no_election() {
    let app = TestApp::spawn().await;
    let admin = app.login("admin").await;
    let (s, t) = admin.post("/api/v1/orgs", json!({"parent_id": app.tree.root, "name": "项目临时党支部", "kind": "branch", "branch_type": "temporary"})).await;
    assert_eq!(s, 201);
    assert!(t["term_years"].is_null(), "appointed leaders, no term");
    let (s, b) = admin
        .patch(
            &format!("/api/v1/orgs/{}", t["id"]),
            json!({"term_started_on": "2026-01-01", "term_years": 3}),
        )
        .await;
    assert_eq!(
        (s, code(&b), field(&b)),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            "temporary_branch_forbidden",
            "term_started_on"
        )
    );
    assert!(
        b["error"]["message"].as_str().unwrap().contains("换届选举"),
        "{b}"
    );
}

#[tokio::test]
async fn appointments_follow_the_committee_rules_and_warnings_need_confirmation() {
    let app = TestApp::spawn().await;
    let sec = app.login("sec").await;
    let posts = format!("/api/v1/orgs/{}/posts", app.tree.branch_a);
    let (s, _) = sec
        .post(&posts, json!({"person_id": app.tree.a1, "post": "secretary"}))
        .await;
    assert_eq!(s, 201);
    let (s, b) = sec
        .post(&posts, json!({"person_id": app.tree.a2, "post": "secretary"}))
        .await;
    assert_eq!((s, code(&b)), (StatusCode::UNPROCESSABLE_ENTITY, "post_taken"));
    // one formal member: a secretary and one deputy, no committee
    let (s, _) = sec
        .post(
            &posts,
            json!({"person_id": app.tree.a2, "post": "deputy_secretary"}),
        )
        .await;
    assert_eq!(s, 201);
    let (s, b) = sec
        .post(&posts, json!({"person_id": app.tree.a2, "post": "group_leader"}))
        .await;
    assert_eq!(
        (s, code(&b)),
        (StatusCode::UNPROCESSABLE_ENTITY, "post_not_for_org_kind")
    );
    // the group's leader; a secretary with less than a year of full membership needs confirming
    let (s, _) = sec
        .post(
            &format!("/api/v1/orgs/{}/posts", app.tree.group_a1),
            json!({"person_id": app.tree.a2, "post": "group_leader"}),
        )
        .await;
    assert_eq!(s, 201);
    let (s, b) = app
        .login("admin")
        .await
        .post(
            &format!("/api/v1/orgs/{}/posts", app.tree.general),
            json!({"person_id": app.tree.a2, "post": "secretary"}),
        )
        .await;
    assert_eq!(
        (s, code(&b)),
        (StatusCode::CONFLICT, "confirmation_required"),
        "{b}"
    );
    assert_eq!(b["error"]["warnings"][0]["code"], "secretary_party_age");
    let before = crate::helpers::audit_count(&app.store).await;
    let (s, _) = app
        .login("admin")
        .await
        .post(
            &format!("/api/v1/orgs/{}/posts?confirm=true", app.tree.general),
            json!({"person_id": app.tree.a2, "post": "secretary"}),
        )
        .await;
    assert_eq!(s, 201);
    assert_eq!(crate::helpers::audit_count(&app.store).await, before + 1);
    let (_, rows) = app
        .login("admin")
        .await
        .get("/api/v1/audit?entity=committee_post&limit=1")
        .await;
    assert!(
        rows["items"][0]["after_json"]
            .as_str()
            .unwrap()
            .contains("secretary_party_age"),
        "the confirmation is audited"
    );
}
