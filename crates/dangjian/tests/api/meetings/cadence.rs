//! 三会一课 cadence (domain-rules §3) on a fixed clock: done, due, due soon and overdue per
//! obligation, the subtree summary, and what counts as held.

use reqwest::StatusCode;
use serde_json::{Value, json};
use time::macros::datetime;

use crate::helpers::{Client, TestApp, entry, ids, ints, refused_on, strs};

/// Plans a meeting of `org` on a local date (09:00–11:00 +08:00); returns its id.
async fn meeting(c: &Client, org: i64, kind: &str, day: &str) -> i64 {
    super::meeting(org)
        .kind(kind)
        .title(&format!("{kind} {day}"))
        .between(&format!("{day}T09:00:00+08:00"), &format!("{day}T11:00:00+08:00"))
        .without_venue()
        .plan_as(c)
        .await
}

async fn close(c: &Client, id: i64) {
    let (s, b) = c.close_meeting(id).await;
    assert_eq!(s, StatusCode::OK, "{b}");
}

/// `person` checks in at meeting `id` at 09:00 local of `day` (a meeting counts once attended).
async fn attend(c: &Client, id: i64, person: i64, day: &str) {
    let (s, b) = c
        .check_in_at(
            id,
            &format!("att-{id}-{person}"),
            person,
            &format!("{day}T09:00:00+08:00"),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
}

/// Plans, attends (by `person`) and closes a meeting; returns its id.
async fn held(c: &Client, org: i64, kind: &str, day: &str, person: i64) -> i64 {
    let id = meeting(c, org, kind, day).await;
    attend(c, id, person, day).await;
    close(c, id).await;
    id
}

fn obligation<'a>(org: &'a Value, kind: &str) -> &'a Value {
    entry(org, "obligations", "kind", kind)
}

fn org_of(report: &Value, id: i64) -> &Value {
    entry(report, "orgs", "org_id", id)
}

#[tokio::test]
async fn a_branch_cadence_on_a_fixed_clock() {
    let app = TestApp::spawn().await;
    // 2026-05-20 10:00 in Beijing
    app.clock.set(datetime!(2026-05-20 02:00 UTC));
    let sec = app.login("sec").await;
    let (a, g) = (app.tree.branch_a, app.tree.group_a1);

    // April's 主题党日 happened (a check-in), this quarter's 支部党员大会 was held and closed,
    // a 党课 is planned for May but has not happened, the 党小组 met in May
    let theme = meeting(&sec, a, "theme_day", "2026-04-15").await;
    let (s, b) = sec
        .on_meeting(theme, "checkins", json!({"event_id": "c-1", "person_id": app.tree.a1, "method": "manual", "at": "2026-04-15T09:00:00+08:00"})).await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    held(&sec, a, "branch_congress", "2026-04-02", app.tree.a1).await;
    meeting(&sec, a, "party_lecture", "2026-05-28").await;
    held(&sec, g, "group", "2026-05-08", app.tree.a2).await;
    // a closed 支委会 does not count for a branch without a committee (1 正式党员 < 7)
    let committee = meeting(&sec, a, "committee", "2026-05-06").await;
    close(&sec, committee).await;

    // a cancelled 主题党日 in May does not count, neither as held nor as scheduled
    let cancelled = meeting(&sec, a, "theme_day", "2026-05-25").await;
    let (s, b) = sec.cancel_meeting(cancelled, "与区委中心组学习冲突").await;
    assert_eq!(s, StatusCode::OK, "{b}");

    let (s, r) = sec.get(&format!("/api/v1/orgs/{a}/cadence")).await;
    assert_eq!(s, StatusCode::OK, "{r}");
    assert_eq!(r["date"], "2026-05-20", "today by the fixed clock, local time");
    let org = &r["org"];
    let kinds = strs(org, "obligations", "kind");
    assert_eq!(
        kinds,
        [
            "branch_congress",
            "party_lecture",
            "theme_day",
            "life_meeting",
            "evaluation"
        ]
    );

    let congress = obligation(org, "branch_congress");
    assert_eq!(
        (congress["status"].as_str(), congress["done"].as_i64()),
        (Some("done"), Some(1))
    );
    assert_eq!(congress["period_start"], "2026-04-01");
    assert_eq!(congress["period_end"], "2026-06-30");
    // May's 主题党日 is still to come; April's was held
    let theme = obligation(org, "theme_day");
    assert_eq!(theme["status"], "due", "{theme}");
    assert_eq!(
        theme["scheduled"], 0,
        "a cancelled meeting is not scheduled either"
    );
    assert_eq!(theme["days_left"], 11);
    assert_eq!(theme["previous"]["done"], 1);
    assert_eq!(theme["previous"]["missed"], false);
    // 党课: planned in May (scheduled, not done), none last quarter → overdue
    let lecture = obligation(org, "party_lecture");
    assert_eq!(lecture["status"], "overdue", "{lecture}");
    assert_eq!(ints(lecture, ["done", "scheduled"]), [Some(0), Some(1)]);
    assert_eq!(lecture["previous"]["period_label"], "2026年第1季度");
    // 组织生活会 and 民主评议: none in 2025 → overdue
    assert_eq!(obligation(org, "life_meeting")["status"], "overdue");
    assert_eq!(
        org["counts"],
        json!({"done": 1, "due": 1, "due_soon": 0, "overdue": 3, "total": 5})
    );

    // the branch's 党小组 is listed below it, with its monthly 党小组会 done
    let group = org_of(&r, g);
    assert_eq!(obligation(group, "group")["status"], "done", "{r}");
    assert_eq!(r["counts"]["total"], 6);
    assert_eq!(r["counts"]["done"], 2);

    // within a week of the month's end the 主题党日 is flagged
    let (_, late) = sec
        .get(&format!("/api/v1/orgs/{a}/cadence?date=2026-05-26"))
        .await;
    assert_eq!(obligation(&late["org"], "theme_day")["status"], "due_soon");
    assert_eq!(obligation(&late["org"], "theme_day")["days_left"], 5);
    // in June, May closed without a 主题党日
    let (_, june) = sec
        .get(&format!("/api/v1/orgs/{a}/cadence?date=2026-06-02"))
        .await;
    let theme = obligation(&june["org"], "theme_day");
    assert_eq!(
        (theme["status"].as_str(), theme["previous"]["missed"].as_bool()),
        (Some("overdue"), Some(true))
    );

    // a bad date names the field
    let (s, b) = sec
        .get(&format!("/api/v1/orgs/{a}/cadence?date=2026-13-01"))
        .await;
    refused_on(s, &b, StatusCode::UNPROCESSABLE_ENTITY, "date_invalid", "date");
}

#[tokio::test]
async fn a_committee_sees_each_org_below_it_and_others_see_nothing_outside_their_subtree() {
    let app = TestApp::spawn().await;
    app.clock.set(datetime!(2026-02-10 02:00 UTC));
    let admin = app.login("admin").await;
    let b = app.tree.branch_b;
    // branch B held January's 主题党日 and closed it; the 党委 gave its yearly 党课
    held(&admin, b, "theme_day", "2026-01-20", app.tree.b1).await;
    held(&admin, app.tree.root, "party_lecture", "2026-01-05", app.tree.a1).await;

    let (s, r) = admin
        .get(&format!("/api/v1/orgs/{}/cadence", app.tree.root))
        .await;
    assert_eq!(s, StatusCode::OK, "{r}");
    // the 党委's own obligation: the secretary's yearly 党课
    assert_eq!(obligation(&r["org"], "party_lecture")["status"], "done");
    assert_eq!(r["org"]["obligations"].as_array().map(Vec::len), Some(1));
    // listed in tree order: the 党总支 (no obligations of its own), branch A, its group, branch B
    assert_eq!(
        ids(&r, "orgs", "org_id"),
        [app.tree.general, app.tree.branch_a, app.tree.group_a1, b]
    );
    assert_eq!(
        org_of(&r, app.tree.general)["obligations"],
        json!([]),
        "a heading only"
    );
    // January's theme day is the previous month now: February's is due, January not missed
    let theme_b = obligation(org_of(&r, b), "theme_day");
    assert_eq!(
        (
            theme_b["status"].as_str(),
            theme_b["previous"]["missed"].as_bool()
        ),
        (Some("due"), Some(false))
    );
    let theme_a = obligation(org_of(&r, app.tree.branch_a), "theme_day");
    assert_eq!(theme_a["status"], "overdue");
    let sum: i64 = ["done", "due", "due_soon", "overdue"]
        .iter()
        .map(|k| r["counts"][k].as_i64().unwrap_or_default())
        .sum();
    assert_eq!(Some(sum), r["counts"]["total"].as_i64());
    // 1 (党委) + 5 (branch A) + 1 (group) + 5 (branch B)
    assert_eq!(sum, 12);

    // the secretary of branch B cannot see branch A's cadence, nor the 党委's
    let secb = app.login("secb").await;
    let (s, _) = secb
        .get(&format!("/api/v1/orgs/{}/cadence", app.tree.branch_a))
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _) = secb.get(&format!("/api/v1/orgs/{}/cadence", app.tree.root)).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _) = secb.get(&format!("/api/v1/orgs/{b}/cadence")).await;
    assert_eq!(s, StatusCode::OK);
    // anonymous
    let (s, _) = app.client().get(&format!("/api/v1/orgs/{b}/cadence")).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn the_secretary_home_page_sums_up_the_cadence_with_a_link() {
    let (app, sec) = TestApp::spawn_as("sec").await;
    let (s, html) = sec.page("/").await;
    assert_eq!(s, 200);
    assert!(html.contains("三会一课"), "{html}");
    assert!(
        html.contains(&format!("/orgs/{}/cadence", app.tree.branch_a)),
        "the summary links to the cadence page"
    );
    // nothing held in the fixture: every obligation is still to do
    assert!(html.contains("已完成 0"), "{html}");
}

#[tokio::test]
async fn a_subtree_that_drops_the_quarterly_lecture_custom_is_not_reminded_of_it() {
    let app = TestApp::spawn().await;
    app.clock.set(datetime!(2026-05-20 02:00 UTC));
    let (root, a, b) = (app.tree.root, app.tree.branch_a, app.tree.branch_b);
    let admin = app.login("admin").await;
    async fn report(c: &Client, root: i64) -> Value {
        let (s, r) = c
            .get(&format!("/api/v1/orgs/{root}/cadence?date=2026-05-20"))
            .await;
        assert_eq!(s, StatusCode::OK, "{r}");
        r
    }
    let before = report(&admin, root).await;
    for branch in [a, b] {
        let line = obligation(org_of(&before, branch), "party_lecture");
        assert_eq!(line["period"], "quarter", "{before}");
        assert!(
            line["rule"].as_str().unwrap_or_default().contains("[L]"),
            "{line}"
        );
    }

    // the custom is a setting of branch A's subtree (a boolean, as JSON or as text)
    let sec = app.login("sec").await;
    let (s, r) = sec
        .put(
            &format!("/api/v1/orgs/{a}/settings"),
            json!({"values": {"cadence.branch_lecture_quarterly": false}}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{r}");
    let after = report(&admin, root).await;
    assert_eq!(
        obligation(org_of(&after, a), "party_lecture"),
        &Value::Null,
        "{after}"
    );
    assert_eq!(
        obligation(org_of(&after, b), "party_lecture")["period"],
        "quarter"
    );
    // the regulations' lines of branch A stay
    assert_eq!(
        obligation(org_of(&after, a), "branch_congress")["period"],
        "quarter"
    );

    let (s, r) = sec
        .put(
            &format!("/api/v1/orgs/{a}/settings"),
            json!({"values": {"cadence.branch_lecture_quarterly": "sometimes"}}),
        )
        .await;
    refused_on(
        s,
        &r,
        StatusCode::UNPROCESSABLE_ENTITY,
        "setting_invalid",
        "cadence.branch_lecture_quarterly",
    );
}

#[tokio::test]
async fn a_meeting_counts_once_it_started_with_attendance_and_the_rest_is_listed_with_the_reason() {
    let app = TestApp::spawn().await;
    // 2026-05-20 10:00 in Beijing
    app.clock.set(datetime!(2026-05-20 02:00 UTC));
    let sec = app.login("sec").await;
    let t = &app.tree;
    let a = t.branch_a;
    async fn report(c: &Client, a: i64) -> Value {
        let (s, r) = c.get(&format!("/api/v1/orgs/{a}/cadence")).await;
        assert_eq!(s, StatusCode::OK, "{r}");
        r
    }
    // a 党课 of next quarter closed today: it had not started, it does not count for anything
    let ahead = meeting(&sec, a, "party_lecture", "2026-07-15").await;
    close(&sec, ahead).await;
    // a 主题党日 closed with nobody present does not count
    let empty = meeting(&sec, a, "theme_day", "2026-05-06").await;
    close(&sec, empty).await;
    // a 主题党日 under way with nobody checked in yet is scheduled, not done
    let under_way = meeting(&sec, a, "theme_day", "2026-05-20").await;
    let r = report(&sec, a).await;
    let theme = obligation(&r["org"], "theme_day");
    assert_eq!(ints(theme, ["done", "scheduled"]), [Some(0), Some(1)], "{theme}");
    let lecture = obligation(&r["org"], "party_lecture");
    assert_eq!(
        ints(lecture, ["done", "scheduled"]),
        [Some(0), Some(0)],
        "{lecture}"
    );
    let remarks = &r["org"]["not_counted"];
    assert_eq!(
        remarks,
        &json!([{"meeting_id": empty, "title": "theme_day 2026-05-06", "kind": "theme_day",
                 "date": "2026-05-06", "reason": "no_attendance", "reason_label": "没有出席记录",
                 "counted": false}]),
        "the 党课 of next quarter is not in a judged period: {r}"
    );
    // judged in July the early-closed 党课 is in its period, and listed as not started
    let (_, july) = sec
        .get(&format!("/api/v1/orgs/{a}/cadence?date=2026-07-20"))
        .await;
    let early = entry(&july["org"], "not_counted", "meeting_id", ahead);
    assert_eq!(early["reason"], "not_started", "{july}");
    assert_eq!(obligation(&july["org"], "party_lecture")["done"], 0);

    // once someone checks in, the meeting under way counts
    attend(&sec, under_way, t.a1, "2026-05-20").await;
    let theme = obligation(&report(&sec, a).await["org"], "theme_day").clone();
    assert_eq!(ints(&theme, ["done", "scheduled"]), [Some(1), Some(0)], "{theme}");

    // an amendment marking the absent member present makes the empty one count
    let (s, b) = sec
        .amend_meeting(empty, json!({"target": "attendance", "person_id": t.a1, "state": "present", "reason": "签到设备故障，会后补记"}))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    let r = report(&sec, a).await;
    assert_eq!(obligation(&r["org"], "theme_day")["done"], 2);
    assert_eq!(r["org"]["not_counted"], json!([]));

    // a 支部党员大会 where only the probationary member came is inquorate (1 formal member, none
    // present): by default it counts, flagged
    let congress = held(&sec, a, "branch_congress", "2026-04-09", t.a2).await;
    let r = report(&sec, a).await;
    let line = obligation(&r["org"], "branch_congress");
    assert_eq!(
        (
            line["done"].as_i64(),
            line["flagged"].as_i64(),
            line["status"].as_str()
        ),
        (Some(1), Some(1), Some("done")),
        "{line}"
    );
    let flagged = entry(&r["org"], "not_counted", "meeting_id", congress);
    assert_eq!(
        (flagged["reason"].as_str(), flagged["counted"].as_bool()),
        (Some("inquorate"), Some(true))
    );
    // the page says so too
    let (s, html) = sec.page(&format!("/orgs/{a}/cadence")).await;
    assert_eq!(s, 200);
    assert!(html.contains("到会有表决权的正式党员未过半数"), "{html}");
    assert!(html.contains(&format!("/meetings/{congress}")), "{html}");

    // the subtree may leave inquorate congresses out
    let (s, b) = sec
        .put(
            &format!("/api/v1/orgs/{a}/settings"),
            json!({"values": {"cadence.inquorate_congress": "not_counted"}}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let r = report(&sec, a).await;
    let line = obligation(&r["org"], "branch_congress");
    assert_eq!(ints(line, ["done", "flagged"]), [Some(0), Some(0)], "{line}");
    assert_eq!(
        entry(&r["org"], "not_counted", "meeting_id", congress)["counted"],
        false
    );
    let (s, b) = sec
        .put(
            &format!("/api/v1/orgs/{a}/settings"),
            json!({"values": {"cadence.inquorate_congress": "maybe"}}),
        )
        .await;
    refused_on(
        s,
        &b,
        StatusCode::UNPROCESSABLE_ENTITY,
        "setting_invalid",
        "cadence.inquorate_congress",
    );

    // correcting the attendance (the formal member was there) makes it quorate: the kept
    // judgement is cleared by the amendment
    let (s, b) = sec
        .amend_meeting(
            congress,
            json!({"target": "attendance", "person_id": t.a1, "state": "present", "reason": "漏记签到"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    let r = report(&sec, a).await;
    assert_eq!(obligation(&r["org"], "branch_congress")["done"], 1, "{r}");
    assert_eq!(r["org"]["not_counted"], json!([]));
}
