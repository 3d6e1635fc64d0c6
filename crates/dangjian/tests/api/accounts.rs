use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{TestApp, code};

#[tokio::test]
async fn bulk_accounts_give_each_member_a_login_that_must_change_its_password() {
    let app = TestApp::spawn().await;
    let sec = app.login("sec").await;
    let (s, body) = sec
        .post(&format!("/api/v1/orgs/{}/accounts", app.tree.branch_a), json!({}))
        .await;
    assert_eq!(s, 201, "{body}");
    // a1 already has the `mem` login; a2 (in the group) gets one
    let items = body["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{body}");
    assert_eq!(items[0]["person_id"], app.tree.a2);
    let username = items[0]["username"].as_str().unwrap().to_owned();
    let initial = items[0]["initial_password"].as_str().unwrap().to_owned();
    // running it again creates nothing new
    let (_, again) = sec
        .post(&format!("/api/v1/orgs/{}/accounts", app.tree.branch_a), json!({}))
        .await;
    assert_eq!(again["total"], 0);

    let c = app.login_with(&username, &initial).await;
    let (s, me) = c.get("/api/v1/me").await;
    assert_eq!(s, 200);
    assert_eq!(me["must_change_password"], true);
    assert_eq!(me["grants"][0]["role"], "member");
    let (s, body) = c.get(&format!("/api/v1/members/{}", app.tree.a2)).await;
    assert_eq!(
        (s, code(&body)),
        (StatusCode::FORBIDDEN, "password_change_required")
    );
    let (s, _) = c
        .post(
            "/api/v1/password",
            json!({"old_password": initial, "new_password": "mine12345"}),
        )
        .await;
    assert_eq!(s, 200);
    let c = app.login_with(&username, "mine12345").await;
    let (s, body) = c.get(&format!("/api/v1/members/{}", app.tree.a2)).await;
    assert_eq!(s, 200);
    assert_eq!(
        body["id_number"].as_str().unwrap().len(),
        18,
        "a member sees their own ID number in full"
    );
    assert!(!body["id_number"].as_str().unwrap().contains('*'));
}

#[tokio::test]
async fn a_secretary_cannot_make_logins_for_another_branch() {
    let app = TestApp::spawn().await;
    let sec = app.login("sec").await;
    let (s, _) = sec
        .post(&format!("/api/v1/orgs/{}/accounts", app.tree.branch_b), json!({}))
        .await;
    assert_eq!(s, 404);
}

#[tokio::test]
async fn a_reset_password_forces_a_change_and_ends_old_sessions() {
    let app = TestApp::spawn().await;
    let mem = app.login("mem").await;
    let sec = app.login("sec").await;
    let (_, users) = sec.get("/api/v1/users").await;
    let mem_id = users["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["username"] == "mem")
        .unwrap()["id"]
        .clone();
    let (s, body) = sec
        .post(&format!("/api/v1/users/{mem_id}/reset-password"), json!({}))
        .await;
    assert_eq!(s, 200, "{body}");
    let (s, _) = mem.get("/api/v1/me").await;
    assert_eq!(s, 401, "the old session ended");
    let fresh = app
        .login_with("mem", body["initial_password"].as_str().unwrap())
        .await;
    let (_, me) = fresh.get("/api/v1/me").await;
    assert_eq!(me["must_change_password"], true);
}

#[tokio::test]
async fn a_secretary_cannot_reset_an_admin_nor_grant_a_role_above_their_own() {
    let app = TestApp::spawn().await;
    let admin = app.login("admin").await;
    let (_, users) = admin.get("/api/v1/users").await;
    let find = |name: &str| {
        users["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["username"] == name)
            .unwrap()["id"]
            .clone()
    };
    let sec = app.login("sec").await;
    // the admin's grant is on the root, outside the secretary's branch: not even visible
    let (s, _) = sec
        .post(
            &format!("/api/v1/users/{}/reset-password", find("admin")),
            json!({}),
        )
        .await;
    assert_eq!(s, 404);
    let (s, body) = sec
        .post(
            &format!("/api/v1/users/{}/grants", find("mem")),
            json!({"role": "org_admin", "org_id": app.tree.branch_a}),
        )
        .await;
    assert_eq!((s, code(&body)), (StatusCode::FORBIDDEN, "role_above_own"));
    let (s, body) = sec
        .post(
            &format!("/api/v1/users/{}/grants", find("mem")),
            json!({"role": "staff", "org_id": app.tree.branch_a}),
        )
        .await;
    assert_eq!(s, 201, "{body}");
    let (s, _) = sec.delete(&format!("/api/v1/grants/{}", body["id"])).await;
    assert_eq!(s, 200);
}

#[tokio::test]
async fn a_disabled_login_cannot_log_in_and_its_sessions_end() {
    let app = TestApp::spawn().await;
    let mem = app.login("mem").await;
    let sec = app.login("sec").await;
    let (_, users) = sec.get("/api/v1/users").await;
    let mem_id = users["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["username"] == "mem")
        .unwrap()["id"]
        .clone();
    let (s, _) = sec
        .post(&format!("/api/v1/users/{mem_id}/disable"), json!({}))
        .await;
    assert_eq!(s, 200);
    assert_eq!(mem.get("/api/v1/me").await.0, 401);
    let (s, _) = app
        .client()
        .post(
            "/api/v1/login",
            json!({"username": "mem", "password": crate::helpers::PASSWORD}),
        )
        .await;
    assert_eq!(s, 401);
    let (s, _) = sec
        .post(&format!("/api/v1/users/{mem_id}/enable"), json!({}))
        .await;
    assert_eq!(s, 200);
    app.login("mem").await;
}
