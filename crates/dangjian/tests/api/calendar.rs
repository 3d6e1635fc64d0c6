//! The dates that break calendars (issue 10): a quarter's last and first day for the 三会一课
//! cadence, arrears that run across a year boundary, a committee term that began on 29 February,
//! and the late flag and the yearly ledger across midnight in UTC+8 — where the local date and
//! the UTC date differ. Each test pins its own clock.

use reqwest::StatusCode;
use serde_json::{Value, json};
use time::format_description::well_known::Rfc3339;
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

use crate::helpers::{Client, TestApp, entry, strs};

/// Plans a `kind` meeting of `org` from `starts` (RFC 3339) for `minutes`.
async fn meeting(c: &Client, org: i64, kind: &str, starts: &str, minutes: i64) -> i64 {
    let start = OffsetDateTime::parse(starts, &Rfc3339).unwrap_or_else(|e| panic!("{starts}: {e}"));
    crate::meetings::meeting(org)
        .kind(kind)
        .title(&format!("{kind} {starts}"))
        .starting_at(start)
        .lasting(Duration::minutes(minutes))
        .venue("活动室")
        .plan_as(c)
        .await
}

async fn check_in(c: &Client, meeting: i64, person: i64, at: &str) -> Value {
    let (s, b) = c
        .on_meeting(
            meeting,
            "checkins",
            json!({"event_id": format!("cal-{meeting}-{person}"), "person_id": person,
                   "method": "manual", "direction": "in", "at": at, "confirm": true}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    b
}

fn obligation<'a>(report: &'a Value, kind: &str) -> &'a Value {
    entry(&report["org"], "obligations", "kind", kind)
}

#[tokio::test]
async fn the_cadence_on_a_quarters_last_day_and_just_after_midnight_on_its_first() {
    // 23:30 on 31 March in Beijing (15:30 UTC): the quarter's 支部党员大会 is still due, today
    let app = TestApp::spawn_at(datetime!(2026-03-31 23:30 +8)).await;
    let sec = app.login("sec").await;
    let a = app.tree.branch_a;
    // last quarter's was held
    let q4 = meeting(&sec, a, "branch_congress", "2025-12-20T09:00:00+08:00", 120).await;
    check_in(&sec, q4, app.tree.a1, "2025-12-20T09:00:00+08:00").await;
    let (s, b) = sec.close_meeting(q4).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let (_, r) = sec.get(&format!("/api/v1/orgs/{a}/cadence")).await;
    assert_eq!(r["date"], "2026-03-31", "{r}");
    let congress = obligation(&r, "branch_congress");
    assert_eq!(congress["status"], "due_soon", "{congress}");
    assert_eq!(congress["period_end"], "2026-03-31");
    assert_eq!(congress["days_left"], 0);

    // 00:30 on 1 April in Beijing is still 31 March in UTC: the first quarter closed without one
    app.clock.set(datetime!(2026-03-31 16:30 UTC));
    let sec = app.login("sec").await;
    let (_, r) = sec.get(&format!("/api/v1/orgs/{a}/cadence")).await;
    assert_eq!(r["date"], "2026-04-01", "local date, not UTC: {r}");
    let congress = obligation(&r, "branch_congress");
    assert_eq!(congress["status"], "overdue", "{congress}");
    assert_eq!(congress["period_start"], "2026-04-01");
    assert_eq!(congress["previous"]["period_label"], "2026年第1季度");
    assert_eq!(congress["previous"]["missed"], true);

    // recorded afterwards: one held at 22:00 on 31 March counts for the first quarter; one at
    // 00:10 on 1 April (16:10 UTC on 31 March) counts for the second
    let q1 = meeting(&sec, a, "branch_congress", "2026-03-31T22:00:00+08:00", 60).await;
    check_in(&sec, q1, app.tree.a1, "2026-03-31T21:58:00+08:00").await;
    let q2 = meeting(&sec, a, "branch_congress", "2026-04-01T00:10:00+08:00", 10).await;
    check_in(&sec, q2, app.tree.a1, "2026-04-01T00:10:00+08:00").await;
    for id in [q1, q2] {
        let (s, b) = sec.close_meeting(id).await;
        assert_eq!(s, StatusCode::OK, "{b}");
    }
    let (_, r) = sec.get(&format!("/api/v1/orgs/{a}/cadence")).await;
    let congress = obligation(&r, "branch_congress");
    assert_eq!(congress["status"], "done", "{congress}");
    assert_eq!(congress["done"], 1, "only the one after midnight in this quarter");
    assert_eq!(congress["previous"]["done"], 1);
    assert_eq!(congress["previous"]["missed"], false);
}

#[tokio::test]
async fn the_late_flag_and_the_yearly_ledger_follow_local_time_across_midnight() {
    let app = TestApp::spawn_at(datetime!(2026-12-31 23:40 +8)).await;
    let sec = app.login("sec").await;
    let a = app.tree.branch_a;
    // one meeting from 23:50 on New Year's Eve, one from midnight
    let eve = meeting(&sec, a, "theme_day", "2026-12-31T23:50:00+08:00", 70).await;
    let night = meeting(&sec, a, "other", "2027-01-01T00:00:00+08:00", 60).await;

    // within the 5 minutes' grace of 23:50: not late; at 00:10 on 1 January: late
    app.clock.set(datetime!(2026-12-31 23:54 +8));
    let b = check_in(&sec, eve, app.tree.a1, "2026-12-31T23:54:00+08:00").await;
    assert_eq!(b["late"], false, "{b}");
    app.clock.set(datetime!(2026-12-31 23:58 +8));
    let b = check_in(&sec, night, app.tree.a1, "2026-12-31T23:58:00+08:00").await;
    assert_eq!(b["late"], false, "before midnight for a meeting at midnight: {b}");
    app.clock.set(datetime!(2027-01-01 00:10 +8));
    let sec = app.login("sec").await;
    let b = check_in(&sec, eve, app.tree.a2, "2027-01-01T00:10:00+08:00").await;
    assert_eq!(b["late"], true, "{b}");
    let b = check_in(&sec, night, app.tree.a2, "2027-01-01T00:04:00+08:00").await;
    assert_eq!(b["late"], false, "within the grace after midnight: {b}");

    // the ledger of each year holds the meeting that started in it, by the local date
    let titles = |b: &Value| -> Vec<i64> {
        b["items"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|m| m["id"].as_i64().or_else(|| m["meeting_id"].as_i64()))
            .collect()
    };
    let (s, y2026) = sec.get(&format!("/api/v1/orgs/{a}/ledger?year=2026")).await;
    assert_eq!(s, StatusCode::OK, "{y2026}");
    let (_, y2027) = sec.get(&format!("/api/v1/orgs/{a}/ledger?year=2027")).await;
    assert_eq!(titles(&y2026), vec![eve], "{y2026}");
    assert_eq!(titles(&y2027), vec![night], "{y2027}");
    // the default year is the local one (2027 already, though UTC is still in 2026)
    let (_, now) = sec.get(&format!("/api/v1/orgs/{a}/ledger")).await;
    assert_eq!(titles(&now), vec![night], "{now}");

    // the 主题党日 counts for December, not January
    let (_, r) = sec.get(&format!("/api/v1/orgs/{a}/cadence")).await;
    let theme = obligation(&r, "theme_day");
    assert_eq!(theme["period_start"], "2027-01-01", "{theme}");
    assert_eq!(theme["done"], 0, "{theme}");
    assert_eq!(theme["previous"]["done"], 1, "{theme}");
}

#[tokio::test]
async fn arrears_run_across_the_year_boundary() {
    let app = TestApp::spawn_at(datetime!(2026-07-01 10:00 +8)).await;
    let sec = app.login("sec").await;
    let a1 = app.tree.a1;
    for year in [2026, 2027] {
        crate::dues::set_base(&sec, a1, year, 450_000).await;
    }
    for (year, months) in [(2026, 7..=12), (2027, 1..=3)] {
        for month in months {
            crate::dues::generate_bills(&sec, app.tree.branch_a, year, Some(month)).await;
        }
    }
    let (s, b) = sec
        .post(
            &format!("/api/v1/members/{a1}/dues-payments"),
            json!({"method": "cash", "months": ["2026-07", "2026-08", "2026-09"], "paid_on": "2026-07-01"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");

    let line = |list: &Value| entry(list, "items", "person_id", a1).clone();
    // a1's months unpaid, stage and first unpaid month (nulls when a1 is not listed)
    let stage = |list: &Value| {
        let l = line(list);
        json!([l["months_unpaid"], l["stage"], l["first_unpaid"]])
    };
    let path = format!("/api/v1/orgs/{}/dues-arrears", app.tree.branch_a);
    // a month counts once it is over: at 23:59 on 31 December, October and November
    app.clock.set(datetime!(2026-12-31 23:59 +8));
    let sec = app.login("sec").await;
    let (_, list) = sec.get(&path).await;
    assert!(line(&list).is_null(), "two months: {list}");
    // a minute later (15:00 UTC, still 2026 there) December is over too: three, a reminder
    app.clock.set(datetime!(2026-12-31 16:00 UTC));
    let (_, list) = sec.get(&path).await;
    assert_eq!(stage(&list), json!([3, "reminder", "2026-10"]), "{list}");
    // on 1 April 2027, October to March: six months across the year boundary, a case
    app.clock.set(datetime!(2027-04-01 10:00 +8));
    let sec = app.login("sec").await;
    let (_, list) = sec.get(&path).await;
    assert_eq!(stage(&list), json!([6, "case", "2026-10"]), "{list}");
}

#[tokio::test]
async fn a_term_begun_on_29_february_ends_on_the_last_day_of_february() {
    let app = TestApp::spawn_at(datetime!(2026-11-30 10:00 +8)).await;
    let sec = app.login("sec").await;
    let a = app.tree.branch_a;
    let (s, b) = sec
        .patch(
            &format!("/api/v1/orgs/{a}"),
            json!({"term_started_on": "2024-02-29", "term_years": 3}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let codes = |w: &Value| -> Vec<String> {
        let codes = strs(w, "items", "code").into_iter();
        codes
            .filter(|c| c.starts_with("term_"))
            .map(str::to_owned)
            .collect()
    };
    let path = format!("/api/v1/orgs/{a}/warnings");
    // 2027 has no 29 February: the term ends on the 28th, and 90 days before is 30 November
    let (_, w) = sec.get(&path).await;
    assert_eq!(codes(&w), ["term_ending_soon"], "{w}");
    assert!(w.to_string().contains("2027-02-28"), "{w}");
    app.clock.set(datetime!(2026-11-29 10:00 +8));
    let sec = app.login("sec").await;
    let (_, w) = sec.get(&path).await;
    assert!(codes(&w).is_empty(), "91 days ahead: {w}");
    // at 00:30 on 28 February 2027 (still the 27th in UTC) the term is over today
    app.clock.set(datetime!(2027-02-27 16:30 UTC));
    let sec = app.login("sec").await;
    let (_, w) = sec.get(&path).await;
    assert_eq!(codes(&w), ["term_expired"], "{w}");
}
