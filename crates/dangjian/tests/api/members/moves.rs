//! Rows follow the tree (issue 11, item 8): every table with an `org_path` column is listed in
//! `store::paths`, an org move leaves nothing under the old path but the audit trail, and a
//! member's move takes their dues records along — the old subtree's collectors stop seeing them,
//! the new one's see them.

use reqwest::StatusCode;
use serde_json::json;
use time::macros::datetime;

use crate::helpers::{Client, FIXED_NOW, TestApp};

/// The tables of the live schema that have an `org_path` column.
#[expect(clippy::unwrap_used, reason = "test: a failure is the test's failure")]
async fn tables_with_org_path(app: &TestApp) -> Vec<String> {
    let mut tables: Vec<String> = match &app.store.db {
        dangjian_store::Db::Sqlite(p) => sqlx::query_scalar(
            "SELECT m.name FROM sqlite_master m, pragma_table_info(m.name) c \
             WHERE m.type = 'table' AND c.name = 'org_path'",
        )
        .fetch_all(p)
        .await
        .unwrap(),
        dangjian_store::Db::Postgres(p) => sqlx::query_scalar(
            "SELECT table_name::text FROM information_schema.columns \
             WHERE table_schema = current_schema() AND column_name = 'org_path'",
        )
        .fetch_all(p)
        .await
        .unwrap(),
    };
    tables.sort();
    tables
}

/// How many rows of `table` lie in the subtree of `path`.
#[expect(clippy::unwrap_used, reason = "test: a failure is the test's failure")]
async fn rows_under(app: &TestApp, table: &str, path: &str) -> i64 {
    let sql = format!("SELECT COUNT(*) FROM {table} WHERE org_path >= $1 AND org_path < $2");
    let upper = format!("{}0", &path[..path.len() - 1]);
    dangjian_store::with_db!(&app.store.db, p => sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(sql))
        .bind(path).bind(&upper).fetch_one(p).await)
    .unwrap()
}

#[expect(clippy::unwrap_used, reason = "test: a failure is the test's failure")]
async fn path_of(app: &TestApp, org: i64) -> String {
    app.store
        .orgs()
        .org(&dangjian_store::Scope::system(), org)
        .await
        .unwrap()
        .path
}

/// Dues records of every kind for the members of branch A, a meeting, a series, a seat plan, a
/// dues setting and a remittance of branch A; as of 1 August 2026.
async fn fill_branch_a(app: &TestApp) {
    let t = &app.tree;
    let sec = app.login("sec").await;
    let admin = app.login("admin").await;
    let mem = app.login("mem").await;
    let a = t.branch_a;
    sec.post_ok(
        "/api/v1/meetings",
        json!({"org_id": a, "kind": "committee", "title": "支委会", "starts_at": "2026-06-11T09:00:00+08:00",
               "ends_at": "2026-06-11T10:00:00+08:00", "venue": "三楼会议室"}),
    )
    .await;
    sec.post_ok("/api/v1/meeting-series", json!({"org_id": a, "kind": "theme_day", "title": "主题党日", "starts_at": "2026-06-20T09:00:00+08:00",
               "ends_at": "2026-06-20T11:00:00+08:00", "venue": "活动室", "every": "month", "count": 2})).await;
    let (s, b) = sec
        .put(
            &format!("/api/v1/orgs/{a}/seat-plans"),
            json!({"venue": "三楼会议室", "rows": 3, "seats_per_row": 4}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let (s, b) = sec
        .put(
            &format!("/api/v1/orgs/{a}/dues-settings"),
            json!({"reminder_months": 4}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    for id in [t.a1, t.a2] {
        crate::dues::set_base(&sec, id, 2026, 450_000).await;
    }
    sec.post_ok(&format!("/api/v1/orgs/{a}/dues-bills"), json!({"year": 2026}))
        .await;
    sec.post_ok(
        &format!("/api/v1/members/{}/dues-payments", t.a1),
        json!({"method": "cash", "months": ["2026-01"], "paid_on": "2026-06-10"}),
    )
    .await;
    mem.post_ok(
        &format!("/api/v1/members/{}/dues-orders", t.a1),
        json!({"months": ["2026-02"]}),
    )
    .await;
    sec.post_ok(
        &format!("/api/v1/members/{}/dues-hardships", t.a2),
        json!({"from": "2026-07", "to": "2026-08", "reason": "大病住院，收入中断"}),
    )
    .await;
    admin
        .post_ok(
            &format!("/api/v1/orgs/{a}/dues-remittances"),
            json!({"year": 2026, "month": 1, "amount_fen": 4500, "remitted_on": "2026-06-10"}),
        )
        .await;
    // on 1 August, February to July unpaid: an arrears case
    app.clock.set(datetime!(2026-08-01 10:00 +8));
    let sec = app.login("sec").await;
    sec.post_ok(&format!("/api/v1/members/{}/dues-arrears-case", t.a1), json!({}))
        .await;
}

#[tokio::test]
async fn an_org_move_leaves_nothing_behind_but_the_audit_trail() {
    let app = TestApp::spawn_demo_at(FIXED_NOW).await;
    let listed: Vec<String> = dangjian_store::paths::PATH_TABLES
        .iter()
        .map(|(t, _)| (*t).to_owned())
        .collect();
    let mut listed_sorted = listed.clone();
    listed_sorted.sort();
    assert_eq!(
        tables_with_org_path(&app).await,
        listed_sorted,
        "every table with an org_path is in store::paths::PATH_TABLES, saying what it follows"
    );

    fill_branch_a(&app).await;
    let admin = app.login("admin").await;
    let old_path = path_of(&app, app.tree.branch_a).await;
    for table in &listed {
        assert!(
            rows_under(&app, table, &old_path).await > 0,
            "the test put no row of {table} under the moved branch: add one to fill_branch_a"
        );
    }
    let target = admin
        .post_ok(
            "/api/v1/orgs",
            json!({"parent_id": app.tree.root, "name": "第二党总支", "kind": "general_branch"}),
        )
        .await;
    let (s, b) = admin
        .patch(
            &format!("/api/v1/orgs/{}", app.tree.branch_a),
            json!({"parent_id": target["id"], "reason": "机构调整"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let new_path = path_of(&app, app.tree.branch_a).await;
    assert_ne!(new_path, old_path);
    for (table, follows) in dangjian_store::paths::PATH_TABLES {
        let left = rows_under(&app, table, &old_path).await;
        if *follows == dangjian_store::paths::Follows::History {
            assert!(left > 0, "the audit trail keeps where things happened");
        } else {
            assert_eq!(left, 0, "{table} rows left under the old path");
            assert!(rows_under(&app, table, &new_path).await > 0, "{table} moved");
        }
    }
    // the old general branch's report has none of branch A's money any more
    let (s, r) = admin.dues_report(app.tree.general, "year=2026").await;
    assert_eq!(s, StatusCode::OK, "{r}");
    assert_eq!(r["billed_fen"], 0, "{r}");
    let (_, r) = admin
        .get(&format!("/api/v1/orgs/{}/dues-report?year=2026", target["id"]))
        .await;
    assert!(r["billed_fen"].as_i64() > Some(0), "{r}");
}

#[tokio::test]
async fn a_members_dues_records_follow_them_to_the_new_branch() {
    let app = TestApp::spawn_at(FIXED_NOW).await;
    let t = &app.tree;
    let sec = app.login("sec").await;
    let (s, b) = sec
        .put(
            &format!("/api/v1/members/{}/dues-base/2026", t.a1),
            json!({"category": "in_service", "base_fen": 450_000}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    sec.post_ok(
        &format!("/api/v1/orgs/{}/dues-bills", t.branch_a),
        json!({"year": 2026, "month": 1}),
    )
    .await;
    sec.post_ok(
        &format!("/api/v1/members/{}/dues-payments", t.a1),
        json!({"method": "cash", "months": ["2026-01"], "paid_on": "2026-06-10"}),
    )
    .await;
    let bills_of = |c: Client, org: i64| async move {
        let (s, b) = c
            .get(&format!("/api/v1/orgs/{org}/dues-bills?year=2026&month=1"))
            .await;
        assert_eq!(s, StatusCode::OK, "{b}");
        b["items"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|i| i["person_id"].as_i64())
            .collect::<Vec<i64>>()
    };
    assert_eq!(bills_of(app.login("sec").await, t.branch_a).await, vec![t.a1]);

    // the admin moves a1 to branch B (a move within the tree)
    let admin = app.login("admin").await;
    admin
        .post_ok(
            &format!("/api/v1/members/{}/events", t.a1),
            json!({"kind": "move_within", "org_id": t.branch_b, "date": "2026-06-10"}),
        )
        .await;
    assert!(
        bills_of(app.login("sec").await, t.branch_a).await.is_empty(),
        "the old branch's collector no longer sees the member's bills"
    );
    assert_eq!(bills_of(app.login("secb").await, t.branch_b).await, vec![t.a1]);
    let secb = app.login("secb").await;
    let (s, d) = secb
        .get(&format!("/api/v1/members/{}/dues?year=2026", t.a1))
        .await;
    assert_eq!(s, StatusCode::OK, "{d}");
    assert_eq!(d["months"][0]["status"], "paid", "{d}");
    let (s, _) = app
        .login("sec")
        .await
        .get(&format!("/api/v1/members/{}/dues?year=2026", t.a1))
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}
