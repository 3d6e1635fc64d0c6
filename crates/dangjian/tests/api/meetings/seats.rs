//! Seats (issue 5 "Seat guidance"): plans per venue with blocks and reserved seats, automatic
//! seating by org and name pinyin, seats by hand, and the labels the check-in answers carry.

use reqwest::StatusCode;
use serde_json::{Value, json};

use super::records::{MEETING_DAY, plan};
use crate::helpers::{TestApp, refused, refused_on};

fn seat_of(s: &Value, person: i64) -> (i64, i64, String, bool) {
    let x = s["seats"]
        .as_array()
        .and_then(|a| a.iter().find(|x| x["person_id"] == person))
        .cloned()
        .unwrap_or_default();
    (
        x["row"].as_i64().unwrap_or(-1),
        x["seat"].as_i64().unwrap_or(-1),
        x["label"].as_str().unwrap_or("").to_owned(),
        x["by_hand"].as_bool().unwrap_or(false),
    )
}

#[tokio::test]
async fn seat_plans_automatic_and_hand_seating_and_the_labels_for_check_in() {
    let app = TestApp::spawn_at(MEETING_DAY).await;
    let t = app.tree;
    let sec = app.login("sec").await;
    let admin = app.login("admin").await;
    let id = plan(&app, &sec, t.branch_a).await;

    // no plan for the venue yet
    let (s, b) = sec
        .put(&format!("/api/v1/meetings/{id}/seats"), json!({"auto": true}))
        .await;
    refused(s, &b, StatusCode::UNPROCESSABLE_ENTITY, "seat_plan_missing");
    // a plan with a bad reservation names the item
    let (s, b) = sec
        .put(
            &format!("/api/v1/orgs/{}/seat-plans", t.branch_a),
            json!({"venue": "三楼会议室", "rows": 3, "seats_per_row": 4,
               "reserved": [{"row": 4, "from_seat": 1, "to_seat": 4, "purpose": "presidium"}]}),
        )
        .await;
    refused_on(
        s,
        &b,
        StatusCode::UNPROCESSABLE_ENTITY,
        "seat_reserved_invalid",
        "reserved",
    );
    // row 1 is the 主席台; seats 1–2 of every row are the 左区
    let (s, p) = sec
        .put(
            &format!("/api/v1/orgs/{}/seat-plans", t.branch_a),
            json!({"venue": "三楼会议室", "rows": 3, "seats_per_row": 4,
               "blocks": [{"name": "左区", "from_seat": 1, "to_seat": 2}],
               "reserved": [{"row": 1, "from_seat": 1, "to_seat": 4, "purpose": "presidium"}]}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{p}");
    // a 列席 guest from branch B
    let (s, b) = admin
        .on_meeting(
            id,
            "invitees",
            json!({"person_id": t.b1, "role": "attendee_extra"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");

    // automatic: members by org path (branch before its 党小组), then the guest
    let (s, seats) = sec
        .put(&format!("/api/v1/meetings/{id}/seats"), json!({"auto": true}))
        .await;
    assert_eq!(s, StatusCode::OK, "{seats}");
    assert_eq!(seat_of(&seats, t.a1), (2, 1, "左区第2排1座".into(), false));
    assert_eq!(seat_of(&seats, t.a2), (2, 2, "左区第2排2座".into(), false));
    assert_eq!(seat_of(&seats, t.b1), (2, 3, "第2排3座".into(), false));
    assert_eq!(seats["unseated"], json!([]));

    // by hand: 李四 to the 主席台; a new automatic round keeps hand seats
    let (s, b) = sec
        .put(
            &format!("/api/v1/meetings/{id}/seats"),
            json!({"assignments": [{"person_id": t.a2, "row": 1, "seat": 2}]}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let (_, seats) = sec
        .put(&format!("/api/v1/meetings/{id}/seats"), json!({"auto": true}))
        .await;
    assert_eq!(seat_of(&seats, t.a2), (1, 2, "左区第1排2座".into(), true));
    assert_eq!(seat_of(&seats, t.a1), (2, 1, "左区第2排1座".into(), false));
    assert_eq!(seat_of(&seats, t.b1), (2, 2, "左区第2排2座".into(), false));
    let (s, b) = sec
        .put(
            &format!("/api/v1/meetings/{id}/seats"),
            json!({"assignments": [{"person_id": t.a1, "row": 9, "seat": 1}]}),
        )
        .await;
    refused_on(
        s,
        &b,
        StatusCode::UNPROCESSABLE_ENTITY,
        "seat_outside_plan",
        "seat",
    );
    let (s, b) = sec.put(&format!("/api/v1/meetings/{id}/seats"),
        json!({"assignments": [{"person_id": t.a1, "row": 3, "seat": 1}, {"person_id": t.a2, "row": 3, "seat": 1}]}),
    )
    .await;
    refused(s, &b, StatusCode::CONFLICT, "seat_taken");

    // what the check-in writer reads for its answers
    let labels = app.store.meetings().seat_labels(id).await.unwrap_or_default();
    assert_eq!(labels.get(&t.a1).map(String::as_str), Some("左区第2排1座"));
    assert_eq!(labels.len(), 3);

    // outside the subtree: nothing
    let secb = app.login("secb").await;
    let (s, _) = secb.get(&format!("/api/v1/meetings/{id}/seats")).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}
