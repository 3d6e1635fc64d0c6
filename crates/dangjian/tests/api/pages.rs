use crate::helpers::{TestApp, post_form};

#[tokio::test]
async fn the_login_page_logs_in_and_the_secretary_sees_their_branch() {
    let app = TestApp::spawn().await;
    let c = app.client();
    let (s, html) = c.page("/").await;
    assert_eq!(s, 303);
    assert!(html.is_empty());
    let (s, html) = c.page("/login").await;
    assert_eq!(s, 200);
    assert!(html.contains("登录") && html.contains("/assets/app.css"));
    let resp = c
        .http
        .post(format!("{}/login", app.base))
        .form(&[("username", "sec"), ("password", crate::helpers::PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 303);
    let (s, html) = c.page("/").await;
    assert_eq!(s, 200);
    assert!(
        html.contains("第一党支部") && html.contains("张三") && html.contains("李四"),
        "{html}"
    );
    assert!(!html.contains("王五"), "nothing from another branch");
}

#[tokio::test]
async fn a_wrong_password_on_the_login_page_says_so_in_chinese() {
    let app = TestApp::spawn().await;
    let resp = app
        .client()
        .http
        .post(format!("{}/login", app.base))
        .form(&[("username", "sec"), ("password", "nope")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    assert!(resp.text().await.unwrap().contains("用户名或密码不正确"));
}

#[tokio::test]
async fn a_member_sees_their_own_record_on_the_phone_page() {
    let (_app, c) = TestApp::spawn_as("mem").await;
    let (s, html) = c.page("/").await;
    assert_eq!(s, 200);
    assert!(
        html.contains("张三") && html.contains(&crate::helpers::id_number("1980-05-06", 11)),
        "{html}"
    );
    assert!(html.contains("class=\"phone\""));
}

#[tokio::test]
async fn a_forced_password_change_redirects_every_page_to_the_form() {
    let (app, sec) = TestApp::spawn_as("sec").await;
    let (_, users) = sec.get("/api/v1/users").await;
    let mem_id = users["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["username"] == "mem")
        .unwrap()["id"]
        .clone();
    let (_, reset) = sec
        .post(
            &format!("/api/v1/users/{mem_id}/reset-password"),
            serde_json::json!({}),
        )
        .await;
    let c = app
        .login_with("mem", reset["initial_password"].as_str().unwrap())
        .await;
    let resp = c.raw_get("/").await;
    assert_eq!(resp.status(), 303);
    assert_eq!(resp.headers()["location"], "/password");
    let (s, html) = c.page("/password").await;
    assert_eq!(s, 200);
    assert!(html.contains("首次登录"));
}

#[tokio::test]
async fn assets_are_served_from_the_binary() {
    let app = TestApp::spawn().await;
    let resp = app.client().raw_get("/assets/app.css").await;
    assert_eq!(resp.status(), 200);
    assert!(
        resp.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/css")
    );
    let (s, _) = app.client().page("/assets/nope.js").await;
    assert_eq!(s, 404);
}

#[tokio::test]
async fn the_bulk_accounts_button_shows_the_initial_passwords_once_as_slips() {
    let (app, sec) = TestApp::spawn_as("sec").await;
    let url = format!("{}/orgs/{}/accounts", app.base, app.tree.branch_a);
    let resp = sec
        .http
        .post(&url)
        .form(&[("csrf_token", "forged")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);
    let csrf = sec.csrf.clone().unwrap();
    let resp = sec
        .http
        .post(&url)
        .form(&[("csrf_token", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let html = resp.text().await.unwrap();
    assert!(
        html.contains("李四") && html.contains("初始密码") && html.contains("新开通账号（1）"),
        "{html}"
    );
    let resp = sec
        .http
        .post(&url)
        .form(&[("csrf_token", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert!(resp.text().await.unwrap().contains("都已开通账号"));
}

#[tokio::test]
async fn pages_stay_chinese_whatever_the_browser_language_and_lists_mask_id_numbers() {
    let (app, sec) = TestApp::spawn_as("sec").await;
    sec.patch(
        &format!("/api/v1/orgs/{}", app.tree.branch_a),
        serde_json::json!({"term_started_on": "2020-01-01", "term_years": 3}),
    )
    .await;
    let html = sec
        .http
        .get(format!("{}/", app.base))
        .header("accept-language", "en-US")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("任期已于"), "the term reminder in Chinese: {html}");
    let full = crate::helpers::id_number("1990-02-03", 22);
    assert!(!html.contains(&full), "no full ID numbers in a list");
    assert!(html.contains(&format!("{}********{}", &full[..6], &full[14..])));
}

#[tokio::test]
async fn the_member_list_filters_pages_and_offers_the_excel_export() {
    let (app, sec) = TestApp::spawn_as("sec").await;
    let (s, html) = sec
        .page(&format!("/members?org={}&subtree=true", app.tree.branch_a))
        .await;
    assert_eq!(s, 200);
    assert!(
        html.contains("张三") && html.contains("李四") && !html.contains("王五"),
        "{html}"
    );
    assert!(
        html.contains(&format!(
            "/api/v1/members/export?org={}&#38;subtree=true",
            app.tree.branch_a
        )),
        "{html}"
    );
    let (_, html) = sec
        .page(&format!(
            "/members?org={}&subtree=true&status=probationary",
            app.tree.branch_a
        ))
        .await;
    assert!(html.contains("李四") && !html.contains("张三"));
    let (_, html) = sec.page("/members?q=zs").await;
    assert!(html.contains("张三") && !html.contains("李四"));
    let (s, _) = sec.page(&format!("/members?org={}", app.tree.branch_b)).await;
    assert_eq!(
        s, 404,
        "another branch's roster does not exist for this secretary"
    );
}

#[tokio::test]
async fn a_new_member_form_shows_the_error_next_to_the_field_and_keeps_the_input() {
    let (app, sec) = TestApp::spawn_as("sec").await;
    let org = app.tree.branch_a.to_string();
    let (s, html) = sec.page(&format!("/members/new?org={org}")).await;
    assert_eq!(s, 200);
    assert!(html.contains("name=\"id_number\""));
    let bad = crate::helpers::id_number("1991-01-01", 41);
    let bad = format!("{}{}", &bad[..17], if bad.ends_with('1') { '2' } else { '1' });
    let (s, _, html) = post_form(
        &sec,
        "/members/new",
        &[
            ("org_id", &org),
            ("name", "钱七"),
            ("id_number", &bad),
            ("status", "formal"),
            ("joined_on", "2015-01-01"),
            ("category", "in_service"),
        ],
    )
    .await;
    assert_eq!(s, 422);
    assert!(html.contains("field-error") && html.contains("校验码"), "{html}");
    assert!(html.contains("value=\"钱七\""), "the input is kept");
    let good = crate::helpers::id_number("1991-01-01", 41);
    let (s, location, _) = post_form(
        &sec,
        "/members/new",
        &[
            ("org_id", &org),
            ("name", "钱七"),
            ("id_number", &good),
            ("status", "formal"),
            ("joined_on", "2015-01-01"),
            ("category", "in_service"),
            ("gender", ""),
            ("birth_date", ""),
        ],
    )
    .await;
    assert_eq!(s, 303);
    let (s, html) = sec.page(&location).await;
    assert_eq!(s, 200);
    assert!(
        html.contains("钱七") && html.contains(&good),
        "the secretary sees the full number on the record"
    );
}

#[tokio::test]
async fn the_member_page_edits_and_records_status_changes() {
    let (app, sec) = TestApp::spawn_as("sec").await;
    let id = app.tree.a2.to_string();
    let (s, html) = sec.page(&format!("/members/{id}/edit")).await;
    assert_eq!(s, 200);
    assert!(html.contains("value=\"李四\""));
    let (s, _, _) = post_form(
        &sec,
        &format!("/members/{id}/edit"),
        &[
            ("name", "李四"),
            ("education", "硕士研究生"),
            ("id_number", &crate::helpers::id_number("1990-02-03", 22)),
            ("birth_date", "1990-02-03"),
            ("gender", "female"),
            ("phone", "13800000022"),
            ("category", "in_service"),
            ("joined_on", "2015-07-01"),
            ("regularized_on", ""),
            ("ethnicity", "汉族"),
            ("work_unit", "测试单位"),
            ("card_uid", ""),
        ],
    )
    .await;
    assert_eq!(s, 303);
    let today = app.store.today().to_string();
    let (s, _, html) = post_form(
        &sec,
        &format!("/members/{id}/events"),
        &[
            ("kind", "suspend"),
            ("date", &today),
            ("reason", ""),
            ("status", ""),
            ("org_id", ""),
        ],
    )
    .await;
    assert_eq!(s, 422, "a suspension without a reason");
    // the refusal's own message (the form's label "原因" is on the page whatever happens)
    assert!(html.contains("此类变更须填写原因"), "{html}");
    let (s, location, _) = post_form(
        &sec,
        &format!("/members/{id}/events"),
        &[
            ("kind", "regularize"),
            ("date", &today),
            ("reason", ""),
            ("status", ""),
            ("org_id", ""),
        ],
    )
    .await;
    assert_eq!((s, location.as_str()), (303, format!("/members/{id}").as_str()));
    let (_, html) = sec.page(&format!("/members/{id}")).await;
    // the event's row in the history (the form's own kind list names 转为正式党员 anyway)
    assert!(
        html.contains("<td>转为正式党员</td><td>正式党员</td>") && html.contains("硕士研究生"),
        "{html}"
    );
    // staff read the record masked and get no edit form
    let (s, html) = app.login("staff").await.page(&format!("/members/{id}")).await;
    assert_eq!(s, 200);
    assert!(html.contains("********") && !html.contains("/edit"));
}

#[tokio::test]
async fn the_org_tree_and_org_page_show_counts_committee_and_history() {
    let (app, admin) = TestApp::spawn_as("admin").await;
    let (s, html) = admin.page("/orgs").await;
    assert_eq!(s, 200);
    assert!(html.contains("测试党委") && html.contains("第一党小组") && html.contains("第二党支部"));
    admin
        .patch(
            &format!("/api/v1/orgs/{}", app.tree.branch_a),
            serde_json::json!({"name": "综合党支部"}),
        )
        .await;
    let (s, html) = admin.page(&format!("/orgs/{}", app.tree.branch_a)).await;
    assert_eq!(s, 200);
    assert!(
        html.contains("综合党支部") && html.contains("更名") && html.contains("第一党支部"),
        "{html}"
    );
    assert!(html.contains("机关党总支"), "the breadcrumb");
    let (s, _) = app
        .login("sec")
        .await
        .page(&format!("/orgs/{}", app.tree.branch_b))
        .await;
    assert_eq!(s, 404);
}

#[tokio::test]
async fn the_language_switch_turns_the_pages_english_and_it_sticks_to_the_user() {
    let (app, sec) = TestApp::spawn_as("sec").await;
    let (s, _, _) = post_form(&sec, "/settings/language", &[("locale", "en")]).await;
    assert_eq!(s, 303);
    let (_, html) = sec.page("/members").await;
    assert!(html.contains("Members") && html.contains("Full member"), "{html}");
    // a fresh login on another browser gets English too
    let other = app.client();
    let resp = other
        .http
        .post(format!("{}/login", app.base))
        .form(&[("username", "sec"), ("password", crate::helpers::PASSWORD)])
        .send()
        .await
        .unwrap();
    assert!(
        resp.headers()
            .get_all("set-cookie")
            .iter()
            .any(|c| c.to_str().unwrap().starts_with("dj_lang=en"))
    );
    let (_, html) = other.page("/").await;
    assert!(html.contains("Branch workbench"), "{html}");
}

/// Every page that shows an org or a person, as each role, on a target inside branch A and in
/// branch B: outside the subtree the page does not exist (404); without the capability, 403.
#[tokio::test]
async fn every_page_answers_each_role_by_the_subtree_of_its_grant() {
    let app = TestApp::spawn().await;
    let t = app.tree;
    // [sec in, sec out, staff in, staff out, mem in, mem out]
    #[rustfmt::skip]
    let pages: [(String, String, [u16; 6]); 7] = [
        (format!("/orgs/{}", t.branch_a), format!("/orgs/{}", t.branch_b), [200, 404, 200, 404, 200, 404]),
        (format!("/members?org={}", t.branch_a), format!("/members?org={}", t.branch_b), [200, 404, 200, 404, 404, 404]),
        (format!("/members/{}", t.a2), format!("/members/{}", t.b1), [200, 404, 200, 404, 404, 404]),
        (format!("/members/{}/edit", t.a2), format!("/members/{}/edit", t.b1), [200, 404, 403, 403, 403, 403]),
        (format!("/members/new?org={}", t.branch_a), format!("/members/new?org={}", t.branch_b), [200, 404, 403, 403, 403, 403]),
        (format!("/members/import?org={}", t.branch_a), format!("/members/import?org={}", t.branch_b), [200, 404, 403, 403, 403, 403]),
        ("/audit".to_owned(), "/accounts".to_owned(), [200, 200, 403, 403, 403, 403]),
    ];
    let clients = [
        app.login("sec").await,
        app.login("staff").await,
        app.login("mem").await,
    ];
    let mut failures = Vec::new();
    for (inside, outside, want) in &pages {
        for (ci, c) in clients.iter().enumerate() {
            for (oi, path) in [inside, outside].into_iter().enumerate() {
                let (s, _) = c.page(path).await;
                if s.as_u16() != want[ci * 2 + oi] {
                    failures.push(format!(
                        "{path} as {}: {} (want {})",
                        ["sec", "staff", "mem"][ci],
                        s.as_u16(),
                        want[ci * 2 + oi]
                    ));
                }
            }
        }
        let (s, _) = app.client().page(inside).await;
        if s != 303 {
            failures.push(format!(
                "{inside} without login: {s} (want 303 to the login page)"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
