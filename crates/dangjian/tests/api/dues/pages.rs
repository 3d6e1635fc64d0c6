//! The dues pages: the collector's page (bills, a payment recorded, hardship discussed) and the
//! member's phone page with online payment through the fake provider (demo mode).

use serde_json::json;

use super::payments::{app_with_bills, statuses};
use crate::helpers::ints;

#[tokio::test]
async fn the_collector_and_member_pages_render() {
    let app = app_with_bills().await;
    let sec = app.login("sec").await;
    let (s, html) = sec
        .page(&format!("/dues?org={}&year=2026&month=3", app.tree.branch_a))
        .await;
    assert_eq!(s, 200, "{html}");
    assert!(
        html.contains("dues-bills") && html.contains("张三") && html.contains("¥45.00"),
        "{html}"
    );
    let (s, _, _) = crate::helpers::post_form(
        &sec,
        "/dues/payments",
        &[
            ("org", &app.tree.branch_a.to_string()),
            ("year", "2026"),
            ("month", "3"),
            ("person_id", &app.tree.a1.to_string()),
            ("method", "cash"),
            ("months", ""),
        ],
    )
    .await;
    assert_eq!(s, 303);
    assert_eq!(statuses(&sec, app.tree.a1).await[2], "paid");
    let mem = app.login("mem").await;
    let (s, html) = mem.page("/dues/me?year=2026").await;
    assert_eq!(s, 200);
    assert!(
        html.contains("dues-months") && html.contains("name=\"m1\""),
        "{html}"
    );
    assert!(!html.contains("name=\"m3\""), "March is paid: {html}");
    let (s, location, _) =
        crate::helpers::post_form(&mem, "/dues/me/pay", &[("year", "2026"), ("m1", "1")]).await;
    assert_eq!(s, 303);
    assert!(location.starts_with("/dues/pay/DJ"), "{location}");
    // a member without a dues grant is sent to their own page
    let (s, _) = mem.page("/dues").await;
    assert_eq!(s, 303);
    // hardship and arrears decisions from the collector's page
    let (_, h) = mem
        .apply_hardship(
            app.tree.a1,
            json!({"from": "2026-05", "to": "2026-06", "reason": "失业"}),
        )
        .await;
    let back = [
        ("org", app.tree.branch_a.to_string()),
        ("year", "2026".to_owned()),
        ("month", "3".to_owned()),
    ];
    let form = |extra: &[(&'static str, &'static str)]| {
        let mut f: Vec<(&str, String)> = back.to_vec();
        f.extend(extra.iter().map(|(k, v)| (*k, (*v).to_owned())));
        f
    };
    let (_, html) = sec
        .page(&format!("/dues?org={}&year=2026&month=3", app.tree.branch_a))
        .await;
    assert!(
        html.contains("dues-hardships") && html.contains("待支部讨论"),
        "{html}"
    );
    let discuss = format!("/dues/hardships/{}/discuss", h["id"]);
    let f = form(&[("yes", "1")]);
    let refs: Vec<(&str, &str)> = f.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (s, _, html) = crate::helpers::post_form(&sec, &discuss, &refs).await;
    assert_eq!(s, 422, "no meeting date");
    assert!(html.contains("会议日期"), "the refusal names the field: {html}");
    let f = form(&[("yes", "1"), ("meeting_on", "2026-03-09")]);
    let refs: Vec<(&str, &str)> = f.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (s, _, _) = crate::helpers::post_form(&sec, &discuss, &refs).await;
    assert_eq!(s, 303);
    let (_, html) = sec
        .page(&format!("/dues?org={}&year=2026&month=3", app.tree.branch_a))
        .await;
    assert!(html.contains("支部同意，待党委审批"), "{html}");
}

#[tokio::test]
async fn a_member_applies_for_hardship_from_the_phone_page() {
    let app = app_with_bills().await;
    let mem = app.login("mem").await;
    let (s, html) = mem.page("/dues/me").await;
    assert_eq!(s, 200);
    assert!(html.contains("dues-hardship-form"), "{html}");
    let (s, _, html) = crate::helpers::post_form(
        &mem,
        "/dues/me/hardship",
        &[("from", "2026-06"), ("to", "2026-05"), ("reason", "失业")],
    )
    .await;
    assert_eq!(s, 422);
    assert!(html.contains("截止月份早于起始月份"), "{html}");
    let (s, location, _) = crate::helpers::post_form(
        &mem,
        "/dues/me/hardship",
        &[
            ("from", "2026-05"),
            ("to", "2026-06"),
            ("reduced_to_yuan", "10"),
            ("reason", "失业"),
        ],
    )
    .await;
    assert_eq!((s, location.as_str()), (303, "/dues/me?applied=1"));
    let sec = app.login("sec").await;
    let (_, list) = sec
        .get(&format!("/api/v1/orgs/{}/dues-hardships", app.tree.branch_a))
        .await;
    assert_eq!(list["total"], 1, "{list}");
    let h = &list["items"][0];
    assert_eq!(
        (
            h["person_name"].as_str(),
            h["reduced_fen"].as_i64(),
            h["status"].as_str()
        ),
        (Some("张三"), Some(1000), Some("applied"))
    );
    assert_eq!(ints(h, ["from_ym", "to_ym"]), [Some(202605), Some(202606)]);
}
