use serde_json::json;
use time::macros::datetime;

use super::org;
use crate::helpers::{TestApp, audit_count, message, refused, refused_on};

#[tokio::test]
async fn an_org_nests_only_where_the_tree_allows() {
    let (app, admin) = TestApp::spawn_as("admin").await;
    let (s, b) = org(app.tree.group_a1).named("错误支部").post(&admin).await;
    refused(s, &b, 422u16, "org_kind_nesting");
    assert!(message(&b).contains("党小组"));
    let joint = org(app.tree.root).named("联合党支部").branch_type("joint");
    let b = joint
        .clone()
        .with("joint_units", json!(3))
        .with("category", json!("企业"))
        .create_view(&admin)
        .await;
    assert_eq!(b["branch_type"], "joint");
    assert_eq!(b["category"], "enterprise");
    assert_eq!(b["term_years"], 3, "a branch's term defaults to 3 years");
    // a joint branch joins 2 to 5 units: 1, 0 and -1 are refused naming the field (-1 used to
    // come back as "当前 4294967295 个"), 6 is too many
    for (units, code) in [
        (1, "joint_branch_too_few_units"),
        (0, "joint_branch_too_few_units"),
        (-1, "joint_branch_too_few_units"),
        (6, "joint_branch_too_many_units"),
    ] {
        let (s, b) = joint.clone().with("joint_units", json!(units)).post(&admin).await;
        refused_on(s, &b, 422u16, code, "joint_units");
        assert!(!message(&b).contains("4294967295"), "{b}");
    }
    let (s, b) = org(app.tree.root).named("x").kind("tribe").post(&admin).await;
    assert_eq!((s.as_u16(), crate::helpers::field(&b)), (422, "kind"));
}

#[tokio::test]
async fn committee_terms_must_be_three_to_five_years() {
    let (app, sec) = TestApp::spawn_as("sec").await;
    let (s, b) = sec.patch_org(app.tree.branch_a, json!({"term_years": 6})).await;
    refused_on(s, &b, 422u16, "term_years_range", "term_years");
    assert!(message(&b).contains("3–5"), "{b}");
}

#[tokio::test]
async fn an_expired_term_shows_a_reminder_on_a_fixed_clock() {
    let app = TestApp::spawn().await;
    let branch = app.tree.branch_a;
    app.clock.set(datetime!(2026-06-01 02:00 UTC));
    let sec = app.login("sec").await;
    let (s, _) = sec
        .patch_org(branch, json!({"term_started_on": "2023-05-10", "term_years": 3}))
        .await;
    assert_eq!(s, 200);
    let codes = sec.warning_codes(branch).await;
    assert!(codes.iter().any(|c| c == "term_expired"), "{codes:?}");
    assert!(
        codes.iter().any(|c| c == "branch_too_few_formal"),
        "one formal member: {codes:?}"
    );
    app.clock.set(datetime!(2026-04-01 02:00 UTC));
    let codes = sec.warning_codes(branch).await;
    assert!(
        codes.iter().any(|c| c == "term_ending_soon") && !codes.iter().any(|c| c == "term_expired"),
        "{codes:?}"
    );
    let term = sec.org_change(branch, "new_term").await;
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
    let (app, admin) = TestApp::spawn_as("admin").await;
    let t = app.tree;
    let (s, b) = admin
        .patch_org(t.branch_a, json!({"parent_id": t.root, "reason": "机构调整"}))
        .await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["parent_id"], t.root);
    assert_eq!(b["depth"], 1);
    assert_eq!(admin.get_org(t.general).await["member_count"], 0);
    assert_eq!(admin.get_org(t.root).await["member_count"], 3);
    assert_eq!(
        admin.get_org(t.group_a1).await["depth"],
        2,
        "descendants moved too"
    );
    let (_, members) = admin
        .get(&format!("/api/v1/members?org={}&subtree=true", t.branch_a))
        .await;
    assert_eq!(members["total"], 2);
    assert_eq!(admin.org_change(t.branch_a, "move").await["reason"], "机构调整");
    // and cannot go under its own group
    let (s, b) = admin.patch_org(t.general, json!({"parent_id": t.general})).await;
    refused(s, &b, 422u16, "org_move_into_own_subtree");
}

#[tokio::test]
async fn renaming_keeps_the_old_name_in_history() {
    let (app, sec) = TestApp::spawn_as("sec").await;
    let rename = json!({"name": "综合党支部"});
    assert_eq!(sec.patch_org(app.tree.branch_a, rename).await.0, 200);
    let rename = sec.org_change(app.tree.branch_a, "rename").await;
    assert_eq!(
        (rename["old_value"].as_str(), rename["new_value"].as_str()),
        (Some("第一党支部"), Some("综合党支部"))
    );
}

#[tokio::test]
async fn committee_posts_are_appointed_listed_and_ended() {
    let (app, sec) = TestApp::spawn_as("sec").await;
    let (s, p) = sec
        .appoint(app.tree.branch_a, app.tree.a1, "secretary", false)
        .await;
    assert_eq!(s, 201, "{p}");
    let list = sec.posts_of(app.tree.branch_a).await;
    assert_eq!(list["items"][0]["name"], "张三");
    assert_eq!(list["items"][0]["post_label"], "书记");
    let end = format!("/api/v1/posts/{}/end", p["id"]);
    let (s, _) = sec.post(&end, json!({})).await;
    assert_eq!(s, 200);
    assert_eq!(sec.posts_of(app.tree.branch_a).await["total"], 0);
    let (s, b) = sec.post(&end, json!({})).await;
    refused(s, &b, 409u16, "post_already_ended");
    let (s, _) = sec.appoint(app.tree.branch_a, app.tree.b1, "member", false).await;
    assert_eq!(s, 422, "someone outside the branch cannot be appointed");
}

/// Posts go to 正式党员 of the org, and end no earlier than they began (issue #20).
#[tokio::test]
async fn a_post_goes_to_a_full_member_of_the_org_and_ends_after_it_began() {
    let app = TestApp::spawn().await;
    let (t, admin, sec) = (&app.tree, app.login("admin").await, app.login("sec").await);
    // a member of branch B, seen by the root's admin, is not branch A's to appoint
    let (s, b) = admin.appoint(t.branch_a, t.b1, "member", true).await;
    refused_on(s, &b, 422u16, "post_holder_outside_org", "person_id");
    // a probationary member of a group under branch A has no right to stand
    let (s, b) = sec.appoint(t.branch_a, t.a2, "member", true).await;
    refused_on(s, &b, 422u16, "post_holder_not_formal", "person_id");
    assert!(message(&b).contains("正式党员"), "{b}");

    let (s, p) = sec
        .post(
            &format!("/api/v1/orgs/{}/posts", t.branch_a),
            json!({"person_id": t.a1, "post": "secretary", "started_on": "2026-06-01", "confirm": true}),
        )
        .await;
    assert_eq!(s, 201, "{p}");
    let end = format!("/api/v1/posts/{}/end", p["id"]);
    let (s, b) = sec.post(&end, json!({"ended_on": "2026-01-01"})).await;
    refused_on(s, &b, 422u16, "post_end_before_start", "ended_on");
    assert_eq!(
        sec.posts_of(t.branch_a).await["total"],
        1,
        "the refused end changed nothing"
    );
}

#[tokio::test]
async fn the_tree_endpoint_lists_the_subtree_in_order() {
    let app = TestApp::spawn().await;
    let (_, t) = app
        .login("admin")
        .await
        .get(&format!("/api/v1/orgs/{}/tree", app.tree.root))
        .await;
    let names: Vec<&str> = crate::helpers::items(&t)
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
    let (app, admin) = TestApp::spawn_as("admin").await;
    let t = org(app.tree.root)
        .named("项目临时党支部")
        .branch_type("temporary")
        .create_view(&admin)
        .await;
    assert!(t["term_years"].is_null(), "appointed leaders, no term");
    let (s, b) = admin
        .patch_org(
            &t["id"],
            json!({"term_started_on": "2026-01-01", "term_years": 3}),
        )
        .await;
    refused_on(s, &b, 422u16, "temporary_branch_forbidden", "term_started_on");
    assert!(message(&b).contains("换届选举"), "{b}");
}

#[tokio::test]
async fn appointments_follow_the_committee_rules_and_warnings_need_confirmation() {
    let (app, sec) = TestApp::spawn_as("sec").await;
    let t = app.tree;
    // a second 正式党员 of branch A, in its group, full for 100 days of the test's clock (posts
    // go to full members only; the clock's start depends on DANGJIAN_TEST_NOW)
    let regularized = app.store.today() - time::Duration::days(100);
    let joined = regularized - time::Duration::days(366);
    let second = crate::members::member(t.group_a1, &crate::helpers::id_number("1990-05-05", 301))
        .with("joined_on", json!(joined.to_string()))
        .with("regularized_on", json!(regularized.to_string()))
        .created(&sec)
        .await;
    let full = second["id"].as_i64().unwrap_or_default();
    let (s, _) = sec.appoint(t.branch_a, t.a1, "secretary", false).await;
    assert_eq!(s, 201);
    let (s, b) = sec.appoint(t.branch_a, full, "secretary", false).await;
    refused(s, &b, 422u16, "post_taken");
    // one formal member: a secretary and one deputy, no committee
    let (s, _) = sec.appoint(t.branch_a, full, "deputy_secretary", false).await;
    assert_eq!(s, 201);
    let (s, b) = sec.appoint(t.branch_a, full, "group_leader", false).await;
    refused(s, &b, 422u16, "post_not_for_org_kind");
    // the group's leader; a secretary with less than a year of full membership needs confirming
    let (s, _) = sec.appoint(t.group_a1, full, "group_leader", false).await;
    assert_eq!(s, 201);
    let admin = app.login("admin").await;
    let (s, b) = admin.appoint(t.general, full, "secretary", false).await;
    refused(s, &b, 409u16, "confirmation_required");
    assert_eq!(b["error"]["warnings"][0]["code"], "secretary_party_age");
    let before = audit_count(&app.store).await;
    let (s, _) = admin.appoint(t.general, full, "secretary", true).await;
    assert_eq!(s, 201);
    assert_eq!(audit_count(&app.store).await, before + 1);
    let (_, rows) = admin.get("/api/v1/audit?entity=committee_post&limit=1").await;
    assert!(
        rows["items"][0]["after_json"]
            .as_str()
            .unwrap()
            .contains("secretary_party_age"),
        "the confirmation is audited"
    );
}

#[tokio::test]
async fn postponing_a_branchs_election_needs_the_higher_orgs_approval_for_at_most_a_year() {
    let app = TestApp::spawn().await;
    // edge case 25: a term from 2021-06-01 for 3 years ended on 2024-06-01; it is now July
    app.clock.set(datetime!(2024-07-01 02:00 UTC));
    let branch = app.tree.branch_a;
    let sec = app.login("sec").await;
    let (s, b) = sec
        .patch_org(branch, json!({"term_started_on": "2021-06-01", "term_years": 3}))
        .await;
    assert_eq!(s, 200, "{b}");
    // lengthening the expired term is postponing the 换届 with nothing asked: refused
    let (s, b) = sec.patch_org(branch, json!({"term_years": 5})).await;
    refused_on(s, &b, 422u16, "term_postpone_needs_approval", "term_years");
    assert!(message(&b).contains("上级党组织批准"), "{b}");
    // the branch's own secretary cannot postpone it, approval or not
    let approval = "区委组织部 组通〔2024〕12号";
    let (s, b) = sec
        .patch_org(
            branch,
            json!({"term_extended_to": "2025-04-01", "term_extension_approval": approval}),
        )
        .await;
    refused_on(s, &b, 422u16, "term_extension_by_higher_org", "term_extended_to");
    // the higher organization: the approval named, at most a year after 届满
    let admin = app.login("admin").await;
    let (s, b) = admin
        .patch_org(branch, json!({"term_extended_to": "2025-04-01"}))
        .await;
    refused_on(
        s,
        &b,
        422u16,
        "term_extension_approval_required",
        "term_extension_approval",
    );
    let (s, b) = admin
        .patch_org(
            branch,
            json!({"term_extended_to": "2025-06-02", "term_extension_approval": approval}),
        )
        .await;
    refused_on(s, &b, 422u16, "term_extension_over_one_year", "term_extended_to");
    assert!(message(&b).contains("2025-06-01"), "{b}");
    let (s, b) = admin
        .patch_org(
            branch,
            json!({"term_extended_to": "2024-05-01", "term_extension_approval": approval}),
        )
        .await;
    refused_on(s, &b, 422u16, "term_extension_not_later", "term_extended_to");
    let before = audit_count(&app.store).await;
    let (s, b) = admin
        .patch_org(
            branch,
            json!({"term_extended_to": "2025-04-01", "term_extension_approval": approval}),
        )
        .await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(
        (
            b["term_ends_on"].as_str(),
            b["term_extended_to"].as_str(),
            b["term_extension_approval"].as_str()
        ),
        (Some("2024-06-01"), Some("2025-04-01"), Some(approval))
    );
    assert_eq!(audit_count(&app.store).await, before + 1);
    let change = admin.org_change(branch, "postpone_term").await;
    assert_eq!(
        (
            change["old_value"].as_str(),
            change["new_value"].as_str(),
            change["reason"].as_str()
        ),
        (Some("2024-06-01"), Some("2025-04-01"), Some(approval)),
        "{change}"
    );
    // postponed, the term is no longer expired (it ends within the warning days in 2025)
    let codes = admin.warning_codes(branch).await;
    assert!(!codes.iter().any(|c| c.starts_with("term_")), "{codes:?}");
    app.clock.set(datetime!(2025-04-02 02:00 UTC));
    // (nine months on, the sessions have expired)
    let (admin, sec) = (app.login("admin").await, app.login("sec").await);
    assert!(
        admin
            .warning_codes(branch)
            .await
            .iter()
            .any(|c| c == "term_expired")
    );
    // the 换届 held: a new term, and the postponement is over
    let (s, b) = sec
        .patch_org(branch, json!({"term_started_on": "2025-03-28", "term_years": 3}))
        .await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(
        (b["term_extended_to"].clone(), b["term_ends_on"].as_str()),
        (json!(null), Some("2028-03-28"))
    );
}

#[tokio::test]
async fn a_village_or_community_org_has_a_five_year_term_by_default() {
    let (app, admin) = TestApp::spawn_as("admin").await;
    for (category, years) in [("rural", 5), ("社区", 5), ("enterprise", 3)] {
        let b = org(app.tree.root)
            .named(&format!("{category}党支部"))
            .with("category", json!(category))
            .create_view(&admin)
            .await;
        assert_eq!(b["term_years"], years, "{category}: {b}");
    }
}

#[tokio::test]
async fn a_branch_of_seven_full_members_without_a_committee_is_flagged() {
    let (app, sec) = TestApp::spawn_as("sec").await;
    let t = &app.tree;
    // branch A has one 正式党员; six more make seven
    let mut full = vec![t.a1];
    for seq in 0..6 {
        let m = crate::members::member(t.branch_a, &crate::helpers::id_number("1985-03-03", 310 + seq))
            .created(&sec)
            .await;
        full.push(m["id"].as_i64().unwrap_or_default());
    }
    let codes = sec.warning_codes(t.branch_a).await;
    assert!(codes.iter().any(|c| c == "committee_expected"), "{codes:?}");
    let (_, w) = sec.get(&format!("/api/v1/orgs/{}/warnings", t.branch_a)).await;
    assert!(w.to_string().contains("应设支部委员会"), "{w}");
    // a committee of three: the secretary and two 委员
    for (person, post) in [(full[0], "secretary"), (full[1], "member"), (full[2], "member")] {
        let (s, b) = sec.appoint(t.branch_a, person, post, true).await;
        assert_eq!(s, 201, "{b}");
    }
    let codes = sec.warning_codes(t.branch_a).await;
    assert!(!codes.iter().any(|c| c == "committee_expected"), "{codes:?}");
}
