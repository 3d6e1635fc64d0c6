//! Smaller hardening items of issue 11: an admin of a subtree is not the deployment's
//! administrator, and every answer carries the headers that keep pages out of frames and
//! addresses out of referrers.

use dangjian_store::{Actor, Role};
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{PASSWORD, TestApp, code};

#[tokio::test]
async fn an_admin_of_a_subtree_is_no_administrator_of_the_whole_deployment() {
    let app = TestApp::spawn().await;
    let hash = dangjian_web::auth::hash_password(PASSWORD).expect("hash");
    app.store
        .accounts()
        .create_user(
            &Actor::system("test"),
            "subadmin",
            &hash,
            None,
            false,
            &[(Role::Admin, app.tree.branch_a)],
        )
        .await
        .expect("user");
    // an audit row tied to no organization: the deployment administrator's token
    let admin = app.login("admin").await;
    let (s, b) = admin.post("/api/v1/tokens", json!({"name": "集成"})).await;
    assert_eq!(s, StatusCode::CREATED, "{b}");

    let sub = app.login("subadmin").await;
    let (s, b) = sub
        .post("/api/v1/orgs", json!({"name": "另一个党委", "kind": "committee"}))
        .await;
    assert_eq!(
        (s, code(&b)),
        (StatusCode::UNPROCESSABLE_ENTITY, "field_required"),
        "no top-level organizations: {b}"
    );
    let (_, rows) = sub.get("/api/v1/audit?entity=api_token").await;
    assert_eq!(rows["total"], 0, "no audit rows tied to no organization: {rows}");
    let (s, page) = sub.page("/audit").await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        !page.contains("/audit/verify"),
        "no chain check for the admin of a subtree"
    );

    // the deployment's administrator sees them and creates a second tree, and stays the
    // administrator of every tree
    let (_, rows) = admin.get("/api/v1/audit?entity=api_token").await;
    assert_eq!(rows["total"], 1, "{rows}");
    for name in ["第二党委", "第三党委"] {
        let (s, b) = admin
            .post("/api/v1/orgs", json!({"name": name, "kind": "committee"}))
            .await;
        assert_eq!(s, StatusCode::CREATED, "{b}");
    }
}

#[tokio::test]
async fn pages_and_answers_refuse_frames_inline_scripts_and_referrers() {
    let app = TestApp::spawn().await;
    let c = app.client();
    for path in ["/login", "/api/v1/time", "/healthz", "/no-such-page"] {
        let resp = c.raw_get(path).await;
        let h = resp.headers();
        let csp = h
            .get("content-security-policy")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        assert!(
            csp.contains("frame-ancestors 'none'") && csp.contains("script-src 'self'"),
            "{path}: {csp}"
        );
        assert_eq!(
            h.get("x-frame-options").map(|v| v.as_bytes()),
            Some(&b"DENY"[..]),
            "{path}"
        );
        assert_eq!(
            h.get("referrer-policy").map(|v| v.as_bytes()),
            Some(&b"no-referrer"[..]),
            "{path}"
        );
        assert_eq!(
            h.get("x-content-type-options").map(|v| v.as_bytes()),
            Some(&b"nosniff"[..]),
            "{path}"
        );
    }
}
