//! The meeting pages: the plan form, the meeting page's actions, the member's phone pages, and
//! who may open which page.

use time::Duration;

use super::{attendance, cst};
use crate::helpers::{TestApp, post_form};

#[tokio::test]
async fn the_meeting_pages_plan_decide_and_serve_each_role() {
    let (app, sec) = TestApp::spawn_as("sec").await;
    let mem = app.login("mem").await;
    let staff = app.login("staff").await;

    // the plan form: one meeting, with its notice sent
    let start = (app.store.now() + Duration::days(3)).to_offset(cst());
    let day = start.date();
    let (s, location, body) = post_form(
        &sec,
        "/meetings/new",
        &[
            ("org_id", &app.tree.branch_a.to_string()),
            ("kind", "theme_day"),
            ("title", "页面计划的主题党日"),
            ("starts_at", &format!("{day}T14:30")),
            ("ends_at", "16:30"),
            ("venue", "活动室"),
            ("every", ""),
            ("count", ""),
            ("notify", "on"),
        ],
    )
    .await;
    assert_eq!(s, 303, "{body}");
    let id: i64 = location
        .trim_start_matches("/meetings/")
        .parse()
        .unwrap_or_default();
    let (_, m) = sec.get(&format!("/api/v1/meetings/{id}/plan")).await;
    assert_eq!(m["starts_at"], format!("{day}T14:30:00+08:00"), "{m}");
    // a refusal comes back on the form in words
    let (s, _, body) = post_form(
        &sec,
        "/meetings/new",
        &[
            ("org_id", &app.tree.branch_a.to_string()),
            ("kind", "theme_day"),
            ("title", "x"),
            ("starts_at", &format!("{day}T14:30")),
            ("ends_at", "13:00"),
        ],
    )
    .await;
    assert_eq!(s, 422);
    assert!(body.contains("结束时间须晚于开始时间"), "{body}");

    // pages by role: meeting staff see the meeting pages; a member gets 403 there
    for path in [
        format!("/meetings?org={}", app.tree.branch_a),
        format!("/meetings/{id}"),
        format!("/meetings/{id}/checkin"),
        format!("/meetings/{id}/wall"),
    ] {
        let (s, html) = sec.page(&path).await;
        assert_eq!(s, 200, "{path}");
        assert!(html.contains("页面计划的主题党日"), "{path}");
        assert_eq!(staff.page(&path).await.0, 200, "{path} as staff");
        assert_eq!(mem.page(&path).await.0, 403, "{path} as a member");
        assert_eq!(app.client().page(&path).await.0, 303, "{path} without login");
    }
    let secb = app.login("secb").await;
    assert_eq!(secb.page(&format!("/meetings/{id}")).await.0, 404);

    // the member's phone pages: the notice, the meeting, the leave request
    let (s, html) = mem.page("/my/meetings").await;
    assert_eq!(s, 200);
    assert!(html.contains("会议通知：页面计划的主题党日"), "{html}");
    let (s, html) = mem.page(&format!("/my/meetings/{id}?t=abc")).await;
    assert_eq!(s, 200);
    assert!(html.contains("确认签到") && html.contains("data-token=\"abc\""));
    assert_eq!(
        secb.page(&format!("/my/meetings/{id}")).await.0,
        404,
        "not their meeting"
    );
    let (s, _, body) = post_form(&mem, &format!("/my/meetings/{id}/leave"), &[("reason", "")]).await;
    assert_eq!(s, 422);
    assert!(body.contains("请假须填写事由"));
    let (s, location, _) = post_form(
        &mem,
        &format!("/my/meetings/{id}/leave"),
        &[("reason", "外出学习")],
    )
    .await;
    assert_eq!((s, location.as_str()), (303, "/my/meetings"));

    // the secretary approves it on the meeting page
    let (_, l) = sec.get(&format!("/api/v1/meetings/{id}/leave-requests")).await;
    let rid = l["items"][0]["id"].as_i64().unwrap_or_default();
    let (_, html) = sec.page(&format!("/meetings/{id}")).await;
    assert!(html.contains("外出学习") && html.contains(&format!("/leave-requests/{rid}/approve")));
    let (s, _, _) = post_form(
        &sec,
        &format!("/meetings/{id}/leave-requests/{rid}/approve"),
        &[("note", "")],
    )
    .await;
    assert_eq!(s, 303);
    assert_eq!(attendance(&sec, id).await["leave"], 1);
    // or records one directly, once
    let leave_form = format!("/meetings/{id}/leave");
    let a2 = app.tree.a2.to_string();
    let leave = [("person_id", a2.as_str()), ("reason", "住院")];
    let (s, _, _) = post_form(&sec, &leave_form, &leave).await;
    assert_eq!(s, 303);
    assert_eq!(attendance(&sec, id).await["leave"], 2);
    let (s, _, body) = post_form(&sec, &leave_form, &leave).await;
    assert_eq!(s, 409);
    assert!(body.contains("请假已登记"), "{body}");

    // cancelling without a reason is refused on the page; with one it is cancelled
    let (s, _, body) = post_form(&sec, &format!("/meetings/{id}/cancel"), &[("reason", " ")]).await;
    assert_eq!(s, 422);
    assert!(body.contains("取消会议须填写原因"));
    let (s, _, _) = post_form(&sec, &format!("/meetings/{id}/cancel"), &[("reason", "天气原因")]).await;
    assert_eq!(s, 303);
    let (_, html) = mem.page("/my/meetings").await;
    assert!(html.contains("已取消") && html.contains("天气原因"));

    // QR codes are drawn for logged-in users only
    let resp = mem.raw_get("/qr.svg?text=hello").await;
    assert_eq!(resp.status(), 200);
    assert_eq!(
        resp.headers().get("content-type").and_then(|v| v.to_str().ok()),
        Some("image/svg+xml")
    );
    assert!(resp.text().await.unwrap_or_default().starts_with("<?xml"));
    assert_eq!(app.client().page("/qr.svg?text=hello").await.0, 303);
}
