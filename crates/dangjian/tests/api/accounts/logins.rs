use reqwest::StatusCode;
use serde_json::{Value, json};

use super::{new_login, set_own_password};
use crate::helpers::{Client, TestApp, code, post_form, refused, user_id_of};

#[tokio::test]
async fn bulk_accounts_give_each_member_a_login_that_must_change_its_password() {
    let (app, sec) = TestApp::spawn_as("sec").await;
    let (s, body) = sec.bulk_accounts(app.tree.branch_a).await;
    assert_eq!(s, 201, "{body}");
    // a1 already has the `mem` login; a2 (in the group) gets one
    let items = body["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{body}");
    assert_eq!(items[0]["person_id"], app.tree.a2);
    let username = items[0]["username"].as_str().unwrap().to_owned();
    let initial = items[0]["initial_password"].as_str().unwrap().to_owned();
    // running it again creates nothing new
    let (_, again) = sec.bulk_accounts(app.tree.branch_a).await;
    assert_eq!(again["total"], 0);

    let c = app.login_with(&username, &initial).await;
    let (s, me) = c.get("/api/v1/me").await;
    assert_eq!(s, 200);
    assert_eq!(me["must_change_password"], true);
    assert_eq!(me["grants"][0]["role"], "member");
    let (s, body) = c.get_member(app.tree.a2).await;
    refused(s, &body, 403u16, "password_change_required");
    let (s, _) = c.change_password(&initial, "mine12345").await;
    assert_eq!(s, 200);
    let c = app.login_with(&username, "mine12345").await;
    let (s, body) = c.get_member(app.tree.a2).await;
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
    let (app, sec) = TestApp::spawn_as("sec").await;
    let (s, _) = sec.bulk_accounts(app.tree.branch_b).await;
    assert_eq!(s, 404);
}

/// The branch secretary does `action` to the `mem` login, which was logged in: 200, and the
/// old session has ended. The login's id and the answer.
async fn sec_ends_mems_session(app: &TestApp, sec: &Client, action: &str) -> (i64, Value) {
    let mem = app.login("mem").await;
    let mem_id = sec.user_id("mem").await;
    let (s, body) = sec.on_login(mem_id, action).await;
    assert_eq!(s, 200, "{body}");
    let (s, _) = mem.get("/api/v1/me").await;
    assert_eq!(s, 401, "the old session ended");
    (mem_id, body)
}

#[tokio::test]
async fn a_reset_password_forces_a_change_and_ends_old_sessions() {
    let (app, sec) = TestApp::spawn_as("sec").await;
    let (_, body) = sec_ends_mems_session(&app, &sec, "reset-password").await;
    let fresh = app
        .login_with("mem", body["initial_password"].as_str().unwrap())
        .await;
    let (_, me) = fresh.get("/api/v1/me").await;
    assert_eq!(me["must_change_password"], true);
}

#[tokio::test]
async fn a_secretary_cannot_reset_an_admin_nor_grant_a_role_above_their_own() {
    let (app, admin) = TestApp::spawn_as("admin").await;
    let (admin_id, mem_id) = (admin.user_id("admin").await, admin.user_id("mem").await);
    let sec = app.login("sec").await;
    // the admin's grant is on the root, outside the secretary's branch: not even visible
    let (s, _) = sec.on_login(admin_id, "reset-password").await;
    assert_eq!(s, 404);
    let (s, body) = sec.grant(mem_id, "org_admin", app.tree.branch_a).await;
    refused(s, &body, 403u16, "role_above_own");
    let (s, body) = sec.grant(mem_id, "staff", app.tree.branch_a).await;
    assert_eq!(s, 201, "{body}");
    let (s, _) = sec.delete(&format!("/api/v1/grants/{}", body["id"])).await;
    assert_eq!(s, 200);
}

#[tokio::test]
async fn a_disabled_login_cannot_log_in_and_its_sessions_end() {
    let (app, sec) = TestApp::spawn_as("sec").await;
    let (mem_id, _) = sec_ends_mems_session(&app, &sec, "disable").await;
    let (s, _) = app.client().try_login("mem", crate::helpers::PASSWORD).await;
    assert_eq!(s, 401);
    let (s, _) = sec.on_login(mem_id, "enable").await;
    assert_eq!(s, 200);
    app.login("mem").await;
}

#[tokio::test]
async fn a_branch_secretary_cannot_take_over_a_branch_member_who_holds_a_grant_over_the_committee() {
    for role in ["secretary", "org_admin"] {
        let app = TestApp::spawn().await;
        let t = app.tree;
        // a member of branch A (group A1) who is also secretary / org_admin of the whole committee
        let boss = format!("boss_{role}");
        let made = new_login(&boss)
            .for_member(t.a2)
            .grant("member", t.group_a1)
            .grant(role, t.root);
        let made = made.create(&app).await;
        let (boss_id, boss_pw) = (made.id, made.password);
        let member_grant = app
            .store
            .accounts()
            .grants(boss_id, Some(t.a2))
            .await
            .unwrap()
            .list()[0]
            .id;
        let sec = app.login("sec").await;
        // visible: the record is in the branch (listed, its page shown) …
        assert_eq!(sec.user_id(&boss).await, boss_id);
        // … but not the secretary's to manage: 403, one code for every action
        for action in ["reset-password", "disable", "enable"] {
            let (s, body) = sec.on_login(boss_id, action).await;
            assert_eq!(
                (s, code(&body)),
                (StatusCode::FORBIDDEN, "login_not_manageable"),
                "{role} {action}: {body}"
            );
        }
        let (s, body) = sec.grant(boss_id, "staff", t.branch_a).await;
        refused(s, &body, 403u16, "login_not_manageable");
        let (s, body) = sec.delete(&format!("/api/v1/grants/{member_grant}")).await;
        refused(s, &body, 403u16, "login_not_manageable");
        // the page forms share the check, and the page offers no action
        let (s, html) = sec.page(&format!("/accounts/{boss_id}")).await;
        assert_eq!(s, 200);
        assert!(
            !html.contains(&format!("/accounts/{boss_id}/reset"))
                && !html.contains(&format!("/accounts/grants/{member_grant}/revoke"))
                && html.contains("不能由您重置密码"),
            "{html}"
        );
        for action in ["reset", "disable", "enable"] {
            let (s, _, html) = post_form(&sec, &format!("/accounts/{boss_id}/{action}"), &[]).await;
            assert_eq!(s, 403, "page {action}");
            assert!(html.contains("不能由您管理"), "{html}");
        }
        let (s, _, _) = post_form(
            &sec,
            &format!("/accounts/{boss_id}/grants"),
            &[("role", "staff"), ("org_id", &t.branch_a.to_string())],
        )
        .await;
        assert_eq!(s, 403);
        let (s, _, _) = post_form(&sec, &format!("/accounts/grants/{member_grant}/revoke"), &[]).await;
        assert_eq!(s, 403);
        // nothing changed: the boss still logs in with their own password and holds their grants
        app.login_with(&boss, &boss_pw).await;
        assert_eq!(
            app.store
                .accounts()
                .grants(boss_id, Some(t.a2))
                .await
                .unwrap()
                .list()
                .len(),
            2
        );
        // and what the secretary may manage still works
        let mem = user_id_of(&app.store, "mem").await;
        let (s, body) = sec.on_login(mem, "reset-password").await;
        assert_eq!(s, 200, "{body}");
        // the committee's own admin may manage the boss
        let (s, _) = app.login("admin").await.on_login(boss_id, "disable").await;
        assert_eq!(s, 200);
    }
}

#[tokio::test]
async fn an_org_admin_of_a_branch_cannot_manage_the_org_admin_of_the_root() {
    let app = TestApp::spawn().await;
    let t = app.tree;
    let branch_admin = new_login("branch_admin")
        .grant("org_admin", t.branch_a)
        .create(&app)
        .await;
    // the root's org_admin whose member record is in branch A: visible to the branch's org_admin
    let root_admin = new_login("root_admin")
        .for_member(t.a2)
        .grant("org_admin", t.root)
        .create(&app)
        .await;
    // and one without a record there: outside, so not found
    let root_admin2 = new_login("root_admin2")
        .grant("org_admin", t.root)
        .create(&app)
        .await
        .id;
    // a peer: another org_admin of the same branch
    let peer = new_login("peer_admin")
        .grant("org_admin", t.branch_a)
        .create(&app)
        .await
        .id;
    let ba = set_own_password(&app, "branch_admin", &branch_admin.password).await;
    for (target, want, want_code) in [
        (root_admin.id, StatusCode::FORBIDDEN, "login_not_manageable"),
        (root_admin2, StatusCode::NOT_FOUND, "not_found"),
        (peer, StatusCode::FORBIDDEN, "login_not_manageable"),
    ] {
        for action in ["reset-password", "disable"] {
            let (s, body) = ba.on_login(target, action).await;
            assert_eq!((s, code(&body)), (want, want_code), "{target} {action}: {body}");
        }
    }
    // allowed: a lower role on the same org (the branch secretary), and from the root down
    let sec = user_id_of(&app.store, "sec").await;
    let (s, body) = ba.on_login(sec, "reset-password").await;
    assert_eq!(s, 200, "{body}");
    let ra = set_own_password(&app, "root_admin", &root_admin.password).await;
    let (s, body) = ra.on_login(branch_admin.id, "reset-password").await;
    assert_eq!(s, 200, "the same role on a strict ancestor outranks: {body}");
}

/// Polls a job until it has ended; returns the answer that ended it.
async fn job_result(c: &crate::helpers::Client, url: &str) -> Value {
    for _ in 0..1200 {
        let (s, body) = c.get(url).await;
        assert_eq!(s, 200, "{body}");
        if body["state"] != "running" {
            return body;
        }
        assert!(body["result"].is_null(), "no answer while running: {body}");
        assert!(body["hashed"].as_u64() <= body["total"].as_u64());
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the job did not end within a minute");
}

#[tokio::test]
async fn bulk_accounts_for_a_large_subtree_run_as_a_job_that_shows_the_passwords_once() {
    let app = TestApp::spawn().await;
    crate::helpers::add_members(&app.store, app.tree.branch_b, 40, 100).await;
    let admin = app.login("admin").await;
    let (s, started) = admin.bulk_accounts(app.tree.root).await;
    assert_eq!(s, StatusCode::ACCEPTED, "{started}");
    // the 40 new members and 李四 (the others have logins)
    assert_eq!(started["total"], 41);
    let url = started["url"].as_str().unwrap().to_owned();
    assert_eq!(
        url,
        format!("/api/v1/jobs/{}", started["job_id"].as_str().unwrap())
    );
    // only the login that started it sees it
    assert_eq!(app.login("sec").await.get(&url).await.0, 404);
    assert_eq!(app.client().get(&url).await.0, 401);
    let done = job_result(&admin, &url).await;
    assert_eq!(done["state"], "done", "{done}");
    assert_eq!(
        (done["hashed"].clone(), done["created"].clone()),
        (json!(41), json!(41))
    );
    let items = done["result"]["items"].as_array().unwrap();
    assert_eq!(items.len(), 41);
    assert!(done["finished_at"].is_string());
    // the passwords work, with a change forced at first login
    let first = &items[0];
    let c = app
        .login_with(
            first["username"].as_str().unwrap(),
            first["initial_password"].as_str().unwrap(),
        )
        .await;
    assert_eq!(c.get("/api/v1/me").await.1["must_change_password"], true);
    // shown once: then cleared
    let (_, again) = admin.get(&url).await;
    assert!(
        again["result"].is_null() && again["result_taken"] == true,
        "{again}"
    );
    // and never written to the database
    let passwords: Vec<String> = items
        .iter()
        .map(|i| i["initial_password"].as_str().unwrap().to_owned())
        .collect();
    let audit: Vec<String> = dangjian_store::with_db!(&app.store.db, p =>
        sqlx::query_scalar("SELECT COALESCE(after_json, '') FROM audit").fetch_all(p).await)
    .unwrap();
    assert!(!audit.is_empty());
    for pw in &passwords {
        assert!(!audit.iter().any(|a| a.contains(pw.as_str())));
    }
    // nothing left to make: answered at once
    let (s, body) = admin.bulk_accounts(app.tree.root).await;
    assert_eq!((s, body["total"].clone()), (StatusCode::CREATED, json!(0)));
}

#[tokio::test]
async fn the_bulk_accounts_page_shows_a_jobs_progress_then_the_slips_once() {
    // every batch runs as a job here, so the fixture's one member without a login will do
    let app = TestApp::spawn_with(dangjian_web::WebConfig {
        bulk_accounts_inline_max: 0,
        ..dangjian_web::WebConfig::default()
    })
    .await;
    let sec = app.login("sec").await;
    let (s, location, _) = post_form(&sec, &format!("/orgs/{}/accounts", app.tree.branch_a), &[]).await;
    assert_eq!(s, 303);
    assert!(location.starts_with("/accounts/jobs/"), "{location}");
    assert_eq!(
        app.login("staff").await.page(&location).await.0,
        404,
        "only its starter"
    );
    let mut slips = None;
    for _ in 0..1200 {
        let (s, html) = sec.page(&location).await;
        assert_eq!(s, 200);
        if html.contains("http-equiv=\"refresh\"") {
            assert!(html.contains("<progress"), "{html}");
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            continue;
        }
        slips = Some(html);
        break;
    }
    let html = slips.expect("the job ended");
    assert!(
        html.contains("李四") && html.contains("初始密码") && html.contains("新开通账号（1）"),
        "{html}"
    );
    let (_, html) = sec.page(&location).await;
    assert!(html.contains("已显示过一次") && !html.contains("李四"), "{html}");
}
