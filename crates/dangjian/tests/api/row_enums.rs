//! Stored statuses and kinds are decoded into the rules' enums when rows are read: what a
//! meeting shows comes from its row, never from a fallback, and a value no enum knows fails the
//! read (500), on both engines.

use reqwest::StatusCode;
use serde_json::json;
use time::Duration;
use time::format_description::well_known::Rfc3339;

use dangjian_store::{Db, with_db};
use sqlx::AssertSqlSafe;

use crate::dues::{generate_bills, set_base};
use crate::helpers::{Client, TestApp, code};
use crate::meetings::{Planned, checkins, meeting};

#[tokio::test]
async fn a_cancelled_meeting_reads_as_cancelled_not_closed() {
    let (app, sec) = TestApp::spawn_as("sec").await;
    let m = meeting(app.tree.branch_a)
        .kind("committee")
        .starting_in(Duration::hours(24))
        .plan_answer(&app, &sec)
        .await;
    assert_eq!(
        (m["status"].as_str(), m["kind"].as_str()),
        (Some("planned"), Some("committee"))
    );
    let id = m["id"].as_i64().unwrap_or_default();

    let (s, c) = sec.cancel_meeting(id, "与上级会议冲突").await;
    assert_eq!(s, StatusCode::OK, "{c}");

    // stored `closed` with a cancellation time: both views say `cancelled`
    let (s, one) = sec.get(&format!("/api/v1/meetings/{id}")).await;
    assert_eq!(s, StatusCode::OK, "{one}");
    assert_eq!(one["status"].as_str(), Some("cancelled"), "{one}");
    assert_eq!(one["kind"].as_str(), Some("committee"));
    assert_eq!(one["kind_label"].as_str(), Some("支委会"));
    let (_, plan) = sec.get(&format!("/api/v1/meetings/{id}/plan")).await;
    assert_eq!(plan["status"].as_str(), Some("cancelled"), "{plan}");
}

#[tokio::test]
async fn a_closed_meeting_still_reads_as_closed() {
    let (app, sec) = TestApp::spawn_as("sec").await;
    let m = meeting(app.tree.branch_a)
        .kind("party_lecture")
        .starting_in(-Duration::hours(1))
        .plan_answer(&app, &sec)
        .await;
    let id = m["id"].as_i64().unwrap_or_default();
    // started an hour ago, nobody checked in: shown `open`
    assert_eq!(m["status"].as_str(), Some("open"), "{m}");
    let (s, c) = sec.close_meeting(id).await;
    assert_eq!(s, StatusCode::OK, "{c}");
    let (_, one) = sec.get(&format!("/api/v1/meetings/{id}")).await;
    assert_eq!(one["status"].as_str(), Some("closed"), "{one}");
}

/// Reads `read` as `c` (200), stores a value no enum knows in `table.column` of the rows `row`
/// selects — past the column's CHECK, as a newer schema or a hand edit would — and expects the
/// read to fail (500), then puts the value back and expects the read to answer again.
#[expect(clippy::expect_used, reason = "test: a failure is the test's failure")]
async fn an_unknown_value_fails_the_read(
    app: &TestApp,
    c: &Client,
    read: &str,
    table: &str,
    column: &str,
    row: &str,
) {
    let (s, b) = c.get(read).await;
    assert_eq!(s, StatusCode::OK, "{read} before: {b}");
    let select = format!("SELECT {column} FROM {table} WHERE {row}");
    let before: Vec<Option<String>> = with_db!(&app.store.db, p => sqlx::query_scalar(AssertSqlSafe(select))
        .fetch_all(p).await)
    .expect("the column's values");
    assert!(!before.is_empty(), "no {table} row where {row}");
    set_past_check(app, table, column, row, Some("no_such_value")).await;
    let (s, b) = c.get(read).await;
    assert_eq!(
        s,
        StatusCode::INTERNAL_SERVER_ERROR,
        "{table}.{column} unknown, {read}: {b}"
    );
    assert_eq!(code(&b), "internal_error", "{b}");
    for value in before {
        set_past_check(app, table, column, row, value.as_deref()).await;
    }
    let (s, b) = c.get(read).await;
    assert_eq!(s, StatusCode::OK, "{read} restored: {b}");
}

/// `UPDATE table SET column = value WHERE row`, the column's CHECK set aside.
#[expect(clippy::expect_used, reason = "test: a failure is the test's failure")]
async fn set_past_check(app: &TestApp, table: &str, column: &str, row: &str, value: Option<&str>) {
    let update = format!("UPDATE {table} SET {column} = $1 WHERE {row}");
    let updated = match &app.store.db {
        Db::Sqlite(p) => {
            // the pragma is per connection: one connection for all three
            let mut conn = p.acquire().await.expect("a connection");
            sqlx::query("PRAGMA ignore_check_constraints = ON")
                .execute(&mut *conn)
                .await
                .expect("pragma");
            let n = sqlx::query(AssertSqlSafe(update))
                .bind(value)
                .execute(&mut *conn)
                .await;
            sqlx::query("PRAGMA ignore_check_constraints = OFF")
                .execute(&mut *conn)
                .await
                .expect("pragma");
            n.map(|r| r.rows_affected())
        }
        Db::Postgres(p) => {
            // PostgreSQL names a column's CHECK `<table>_<column>_check`; this test's schema is its own
            let drop = format!("ALTER TABLE {table} DROP CONSTRAINT IF EXISTS {table}_{column}_check");
            sqlx::query(AssertSqlSafe(drop))
                .execute(p)
                .await
                .expect("dropping the CHECK");
            sqlx::query(AssertSqlSafe(update))
                .bind(value)
                .execute(p)
                .await
                .map(|r| r.rows_affected())
        }
    };
    assert!(updated.expect("update") > 0, "no {table} row where {row}");
}

#[tokio::test]
async fn an_unknown_event_kind_status_or_branch_type_fails_the_member_history_or_org() {
    let app = TestApp::spawn().await;
    let sec = app.login("sec").await;
    let (a1, b) = (app.tree.a1, app.tree.branch_a);
    let events = format!("/api/v1/members/{a1}/events");
    let cases = [
        (events.as_str(), "person_event", "kind"),
        (&events, "person_event", "status_before"),
        (&events, "person_event", "status_after"),
    ];
    each_unknown_value_fails_its_read(&app, &sec, &cases, &format!("person_id = {a1}")).await;
    an_unknown_value_fails_the_read(
        &app,
        &sec,
        &format!("/api/v1/orgs/{b}"),
        "org",
        "branch_type",
        &format!("id = {b}"),
    )
    .await;
}

#[tokio::test]
async fn an_unknown_invitee_role_or_check_in_method_fails_the_meeting_reads() {
    let app = TestApp::spawn().await;
    let sec = app.login("sec").await;
    let Planned { id, starts_at } = meeting(app.tree.branch_a).plan(&app, &sec).await;
    let at = starts_at.format(&Rfc3339).unwrap_or_default();
    let manual = json!({"event_id": "e-1", "person_id": app.tree.a1, "method": "manual", "at": at});
    let (s, b) = sec.post(&checkins(id), manual).await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    let b1 = app.tree.b1;
    exec_owned(
        &app,
        format!("INSERT INTO meeting_invitee (meeting_id, person_id, role) VALUES ({id}, {b1}, 'guest')"),
    )
    .await;
    let (detail, invitees) = (
        format!("/api/v1/meetings/{id}/attendance/detail"),
        format!("/api/v1/meetings/{id}/invitees"),
    );
    let cases = [
        (detail.as_str(), "checkin_event", "method"),
        (&detail, "checkin_event", "direction"),
        (&invitees, "meeting_invitee", "role"),
    ];
    each_unknown_value_fails_its_read(&app, &sec, &cases, &format!("meeting_id = {id}")).await;
}

#[tokio::test]
async fn an_unknown_dues_value_fails_the_dues_reads() {
    let app = TestApp::spawn().await;
    let sec = app.login("sec").await;
    let (a1, branch) = (app.tree.a1, app.tree.branch_a);
    let year = app.store.today().year();
    set_base(&sec, a1, year, 500_000).await;
    generate_bills(&sec, branch, year, Some(1)).await;
    let voluntary = json!({"method": "transfer", "kind": "voluntary", "amount_fen": 100_000});
    let (s, p) = sec
        .post(&format!("/api/v1/members/{a1}/dues-payments"), voluntary)
        .await;
    assert_eq!(s, StatusCode::CREATED, "{p}");
    // no API writes these two without months of bills behind them: rows as the store keeps them
    let path = format!("(SELECT org_path FROM person WHERE id = {a1})");
    let now = app.store.now().format(&Rfc3339).unwrap_or_default();
    exec_owned(&app, format!(
        "INSERT INTO dues_hardship (person_id, org_path, branch_id, from_ym, to_ym, mode, reduced_fen, reason, retiree, \
         status, applied_by, applied_at) VALUES ({a1}, {path}, {branch}, 202601, 202602, 'waive', NULL, '大病住院', FALSE, \
         'applied', NULL, '{now}')")).await;
    exec_owned(&app, format!(
        "INSERT INTO dues_arrears_case (person_id, org_path, months_unpaid, first_unpaid_ym, status, opened_at) \
         VALUES ({a1}, {path}, 6, 202601, 'open', '{now}')")).await;

    let dues = format!("/api/v1/members/{a1}/dues?year={year}");
    let cases = [
        (dues.as_str(), "dues_base", "category"),
        (
            &format!("/api/v1/orgs/{branch}/dues-report?year={year}"),
            "dues_base",
            "category",
        ),
        (&dues, "dues_payment", "kind"),
        (&dues, "dues_payment", "method"),
        (
            &format!("/api/v1/orgs/{branch}/dues-hardships"),
            "dues_hardship",
            "mode",
        ),
        (
            &format!("/api/v1/orgs/{branch}/dues-arrears"),
            "dues_arrears_case",
            "status",
        ),
    ];
    each_unknown_value_fails_its_read(&app, &sec, &cases, &format!("person_id = {a1}")).await;
}

/// [`an_unknown_value_fails_the_read`] for each (read, table, column), on the same rows.
async fn each_unknown_value_fails_its_read(
    app: &TestApp,
    c: &Client,
    cases: &[(&str, &str, &str)],
    row: &str,
) {
    for (read, table, column) in cases {
        an_unknown_value_fails_the_read(app, c, read, table, column, row).await;
    }
}

/// Raw SQL built in the test (fixture rows no API writes this way).
#[expect(clippy::expect_used, reason = "test: a failure is the test's failure")]
async fn exec_owned(app: &TestApp, sql: String) {
    with_db!(&app.store.db, p => sqlx::query(AssertSqlSafe(sql)).execute(p).await.map(|_| ())).expect("exec");
}
