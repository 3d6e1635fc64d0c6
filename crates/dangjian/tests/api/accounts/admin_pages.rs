//! The administration pages through the real server: accounts and grants (`/accounts`), the
//! audit log viewer (`/audit`) and the offline API reference (`/api/docs`).

use serde_json::json;

use crate::helpers::{Client, PASSWORD, TestApp, audit_count, post_form};

/// The ids of the fixture's logins, by username.
async fn user_id(app: &TestApp, username: &str) -> i64 {
    app.login("admin").await.user_id(username).await
}

/// The id of a login and its page `/accounts/{id}` as `c` sees it.
async fn login_page(app: &TestApp, c: &Client, username: &str) -> (i64, (reqwest::StatusCode, String)) {
    let id = user_id(app, username).await;
    (id, c.page(&format!("/accounts/{id}")).await)
}

/// How many grants login `user` (with member record `person`) holds, read from the store.
#[expect(
    clippy::unwrap_used,
    reason = "a test helper: a failed step should stop the test at once"
)]
async fn grant_count(app: &TestApp, user: i64, person: i64) -> usize {
    app.store
        .accounts()
        .grants(user, Some(person))
        .await
        .unwrap()
        .list()
        .len()
}

/// Posts the form of `/accounts/new` with a username, a person, a role and an org.
async fn new_login_form(c: &Client, [username, person, role, org]: [&str; 4]) -> (u16, String, String) {
    let fields = [
        ("username", username),
        ("person_id", person),
        ("role", role),
        ("org_id", org),
    ];
    post_form(c, "/accounts/new", &fields).await
}

/// Posts the grant form of `/accounts/{user}`: status, Location and page.
async fn grant_form(c: &Client, user: i64, role: &str, org: &str) -> (u16, String, String) {
    post_form(
        c,
        &format!("/accounts/{user}/grants"),
        &[("role", role), ("org_id", org)],
    )
    .await
}

/// The initial password on a "shown once" page ("" if none).
fn shown_password(html: &str) -> String {
    html.split("class=\"mono password\">")
        .nth(1)
        .and_then(|rest| rest.split('<').next())
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn the_secretary_lists_the_logins_of_their_branch_and_not_of_branch_b() {
    let app = TestApp::spawn().await;
    let (mem, staff, secb) = (
        user_id(&app, "mem").await,
        user_id(&app, "staff").await,
        user_id(&app, "secb").await,
    );
    let sec = app.login("sec").await;
    let (s, html) = sec.page("/accounts").await;
    assert_eq!(s, 200);
    assert!(
        html.contains(&format!("href=\"/accounts/{mem}\""))
            && html.contains(&format!("href=\"/accounts/{staff}\"")),
        "{html}"
    );
    assert!(
        html.contains(&format!("href=\"/members/{}\">张三</a>", app.tree.a1)),
        "the member's name links to the record"
    );
    assert!(
        html.contains("会务人员 · 第一党支部"),
        "roles with their org: {html}"
    );
    assert!(
        !html.contains(&format!("/accounts/{secb}\"")) && !html.contains("secb") && !html.contains("王五")
    );
    let (s, html) = app.login("mem").await.page("/accounts").await;
    assert_eq!(s, 403, "a member has no account grant");
    assert!(html.contains("无权访问"));
}

#[tokio::test]
async fn a_reset_shows_a_new_initial_password_once_that_logs_in_with_a_forced_change() {
    let app = TestApp::spawn().await;
    let mem = user_id(&app, "mem").await;
    let sec = app.login("sec").await;
    let resp = sec
        .http
        .post(format!("{}/accounts/{mem}/reset", app.base))
        .form(&[("csrf_token", "forged")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403, "no reset without the session's CSRF token");
    let (s, _, html) = post_form(&sec, &format!("/accounts/{mem}/reset"), &[]).await;
    assert_eq!(s, 200);
    assert!(
        html.contains("密码已重置") && html.contains("只显示这一次") && html.contains("张三"),
        "{html}"
    );
    let password = shown_password(&html);
    assert_eq!(password.len(), 10);
    let c = app.login_with("mem", &password).await;
    let resp = c.raw_get("/").await;
    assert_eq!(resp.status(), 303);
    assert_eq!(resp.headers()["location"], "/password");
    let (_, html) = sec.page("/accounts").await;
    assert!(html.contains("待修改初始密码"));
    // the password is not shown again anywhere
    let (_, html) = sec.page(&format!("/accounts/{mem}")).await;
    assert!(!html.contains(&password));
}

#[tokio::test]
async fn the_secretary_disables_and_enables_a_login_but_not_their_own() {
    let (app, sec) = TestApp::spawn_as("sec").await;
    let (mem, me) = (user_id(&app, "mem").await, user_id(&app, "sec").await);
    let disable = format!("/accounts/{mem}/disable");
    let (s, location, _) = post_form(&sec, &disable, &[("next", "/accounts")]).await;
    assert_eq!((s, location.as_str()), (303, "/accounts"));
    let (_, html) = sec.page("/accounts").await;
    assert!(html.contains("已停用") && html.contains(&format!("/accounts/{mem}/enable")));
    let (s, _) = app.client().try_login("mem", PASSWORD).await;
    assert_eq!(s, 401, "a disabled login cannot log in");
    // somewhere else than our own pages is not a place to go back to
    let (s, location, _) = post_form(
        &sec,
        &format!("/accounts/{mem}/enable"),
        &[("next", "https://example.com/")],
    )
    .await;
    assert_eq!((s, location), (303, format!("/accounts/{mem}")));
    app.login("mem").await;
    let (s, _, html) = post_form(&sec, &format!("/accounts/{me}/disable"), &[("next", "/accounts")]).await;
    assert_eq!(s, 422);
    assert!(html.contains("不能停用自己的账号"), "{html}");
}

#[tokio::test]
async fn the_secretary_grants_staff_on_their_branch_and_revokes_it() {
    let (app, sec) = TestApp::spawn_as("sec").await;
    let (mem, (s, html)) = login_page(&app, &sec, "mem").await;
    assert_eq!(s, 200);
    assert!(html.contains("value=\"staff\"") && html.contains("value=\"secretary\""));
    assert!(
        !html.contains("value=\"org_admin\"") && !html.contains("value=\"admin\""),
        "no role above one's own is offered"
    );
    assert!(html.contains("\u{3000}第一党小组"), "orgs are indented by depth");
    let branch = app.tree.branch_a.to_string();
    let (s, location, _) = grant_form(&sec, mem, "staff", &branch).await;
    assert_eq!((s, location), (303, format!("/accounts/{mem}")));
    let grants = app.store.accounts().grants(mem, Some(app.tree.a1)).await.unwrap();
    let staff = grants
        .list()
        .iter()
        .find(|g| g.role == dangjian_store::Role::Staff)
        .expect("the new grant");
    let revoke = format!("/accounts/grants/{}/revoke", staff.id);
    let (_, html) = sec.page(&format!("/accounts/{mem}")).await;
    assert!(html.contains(&revoke), "{html}");
    let (s, location, _) = post_form(&sec, &revoke, &[]).await;
    assert_eq!((s, location), (303, format!("/accounts/{mem}")));
    let (_, html) = sec.page(&format!("/accounts/{mem}")).await;
    assert!(!html.contains(&revoke));
    assert_eq!(grant_count(&app, mem, app.tree.a1).await, 1);
}

#[tokio::test]
async fn the_secretary_cannot_grant_org_admin_and_the_form_says_why() {
    let app = TestApp::spawn().await;
    let mem = user_id(&app, "mem").await;
    let sec = app.login("sec").await;
    let branch = app.tree.branch_a.to_string();
    let (s, _, html) = grant_form(&sec, mem, "org_admin", &branch).await;
    assert_eq!(s, 403);
    assert!(
        html.contains("field-error") && html.contains("不能授予或重置高于本人权限的角色"),
        "{html}"
    );
    let (s, _, html) = grant_form(&sec, mem, "staff", "").await;
    assert_eq!(s, 422);
    assert!(
        html.contains("field-error") && html.contains("请填写“所在组织”"),
        "{html}"
    );
    assert_eq!(grant_count(&app, mem, app.tree.a1).await, 1, "nothing granted");
}

#[tokio::test]
async fn a_login_outside_the_subtree_is_not_found() {
    let (app, sec) = TestApp::spawn_as("sec").await;
    let (secb, (s, html)) = login_page(&app, &sec, "secb").await;
    assert_eq!(s, 404);
    assert!(html.contains("未找到"));
    for action in ["reset", "disable", "enable"] {
        let (s, _, _) = post_form(&sec, &format!("/accounts/{secb}/{action}"), &[]).await;
        assert_eq!(s, 404, "{action}");
    }
    let grant = app
        .store
        .accounts()
        .grants(secb, Some(app.tree.b1))
        .await
        .unwrap()
        .list()[0]
        .id;
    let (s, _, _) = post_form(&sec, &format!("/accounts/grants/{grant}/revoke"), &[]).await;
    assert_eq!(s, 404);
    let (s, _, _) = grant_form(&sec, secb, "staff", &app.tree.branch_a.to_string()).await;
    assert_eq!(s, 404);
}

#[tokio::test]
async fn a_login_for_a_member_shows_its_initial_password_once_and_errors_next_to_fields() {
    let (app, sec) = TestApp::spawn_as("sec").await;
    let (s, html) = sec.page(&format!("/accounts/new?person={}", app.tree.a2)).await;
    assert_eq!(s, 200);
    assert!(
        html.contains(&format!(
            "name=\"person_id\" type=\"number\" min=\"1\" inputmode=\"numeric\" value=\"{}\"",
            app.tree.a2
        )),
        "{html}"
    );
    let (s, _) = sec.page(&format!("/accounts/new?person={}", app.tree.b1)).await;
    assert_eq!(s, 404, "a member of branch B is not found");
    let (a2, b1, a1) = (
        app.tree.a2.to_string(),
        app.tree.b1.to_string(),
        app.tree.a1.to_string(),
    );
    let group = app.tree.group_a1.to_string();
    // (username, person, role): the status and what the page says
    let refusals = [
        (("sec", &a2, "member"), 409, "用户名已被使用"),
        (("wangwu", &b1, "member"), 422, "人员不存在或不在您的管辖范围内"),
        (("zhangsan", &a1, "member"), 409, "该党员已有登录账号"),
        (
            ("lisi", &a2, "org_admin"),
            403,
            "不能授予或重置高于本人权限的角色",
        ),
    ];
    for ((username, person, role), want, says) in refusals {
        let (s, _, html) = new_login_form(&sec, [username, person, role, &group]).await;
        assert_eq!(s, want, "{username}: {html}");
        assert!(html.contains(says), "{html}");
        if username == "sec" {
            assert!(
                html.contains("field-error") && html.contains("value=\"sec\""),
                "{html}"
            );
        }
    }
    let (s, _, html) = new_login_form(&sec, ["lisi", &a2, "member", &group]).await;
    assert_eq!(s, 200, "{html}");
    assert!(html.contains("账号已开通") && html.contains("李四") && html.contains("lisi"));
    let c = app.login_with("lisi", &shown_password(&html)).await;
    let (_, me) = c.get("/api/v1/me").await;
    assert_eq!(me["must_change_password"], true);
    assert_eq!(me["grants"][0]["role"], "member");
    assert_eq!(me["person_id"], app.tree.a2);
}

#[tokio::test]
async fn the_audit_page_shows_a_change_just_made_and_filters_by_entity_actor_and_date() {
    let (app, sec) = TestApp::spawn_as("sec").await;
    let education = json!({"education": "硕士研究生"});
    let (s, _) = sec.patch_member(app.tree.a1, education).await;
    assert_eq!(s, 200);
    let (s, html) = sec.page("/audit").await;
    assert_eq!(s, 200);
    assert!(
        html.contains("大学本科</span> → <span class=\"new\">硕士研究生"),
        "only what changed: {html}"
    );
    assert!(html.contains(&format!("href=\"/members/{}\"", app.tree.a1)));
    assert!(!html.contains("校验审计链"), "the chain check is for admins");
    let (_, html) = sec.page("/audit?entity=org").await;
    assert!(!html.contains("硕士研究生") && html.contains("selected"));
    let (_, html) = sec.page("/audit?entity=person&actor=sec").await;
    assert!(html.contains("硕士研究生"));
    let (_, html) = sec.page("/audit?actor=system%3Atest").await;
    assert!(!html.contains("硕士研究生"));
    let today = app.store.today();
    let (_, html) = sec.page(&format!("/audit?from={today}&to={today}")).await;
    assert!(html.contains("硕士研究生"), "today (local) holds the change");
    let tomorrow = today.next_day().unwrap();
    let (_, html) = sec.page(&format!("/audit?from={tomorrow}")).await;
    assert!(!html.contains("硕士研究生") && html.contains("没有符合条件的审计记录"));
    let (s, html) = sec.page("/audit?from=2024-13-01").await;
    assert_eq!(s, 422);
    // the refusal names the field (开始日期 alone is the filter's own label)
    assert!(
        html.contains("field-error") && html.contains("“开始日期”须为 YYYY-MM-DD 格式的有效日期"),
        "{html}"
    );
    // the JSON API takes the same filters
    let (s, body) = sec
        .get(&format!("/api/v1/audit?actor=sec&from={today}&to={today}"))
        .await;
    assert_eq!(s, 200, "{body}");
    let items = body["items"].as_array().unwrap();
    assert!(
        !items.is_empty() && items.iter().all(|r| r["actor"] == "sec"),
        "{body}"
    );
    let (_, body) = sec
        .get(&format!("/api/v1/audit?to={}", today.previous_day().unwrap()))
        .await;
    assert_eq!(body["total"], 0, "{body}");
    let (s, _) = sec.get("/api/v1/audit?from=yesterday").await;
    assert_eq!(s, 422);
    let (s, _) = app.login("mem").await.page("/audit").await;
    assert_eq!(s, 403);
}

#[tokio::test]
async fn the_admin_verify_button_reports_the_chain_intact() {
    let (app, admin) = TestApp::spawn_as("admin").await;
    let (_, html) = admin.page("/audit").await;
    assert!(html.contains("校验审计链"));
    let (s, _, html) = post_form(&admin, "/audit/verify", &[]).await;
    assert_eq!(s, 200);
    let n = audit_count(&app.store).await;
    assert!(html.contains(&format!("审计链完整：共 {n} 条记录")), "{html}");
    let (s, _, _) = post_form(&app.login("sec").await, "/audit/verify", &[]).await;
    assert_eq!(s, 403, "only admins run the check");
    app.breaks_the_audit_chain();
    crate::helpers::exec(
        &app.store,
        "UPDATE audit SET actor = 'someone else' WHERE seq = 2",
    )
    .await;
    let (_, _, html) = post_form(&admin, "/audit/verify", &[]).await;
    assert!(html.contains("第 2 条记录被改动"), "{html}");
}

#[tokio::test]
async fn the_api_docs_list_the_member_routes_without_logging_in() {
    let app = TestApp::spawn().await;
    let (s, html) = app.client().page("/api/docs").await;
    assert_eq!(s, 200);
    assert!(
        html.contains("/api/v1/members") && html.contains("/api/v1/members/{id}"),
        "{html}"
    );
    assert!(html.contains("href=\"/api/openapi.json\"") && html.contains("X-CSRF-Token"));
    assert!(html.contains("class=\"method patch\""));
    assert!(
        !html.contains("src=\"http") && !html.contains("href=\"http"),
        "no external assets"
    );
}
