//! Deployment settings are given to each store at open: two servers in one process, with
//! different settings, judge by their own.

use dangjian_store::Settings;
use dangjian_web::WebConfig;
use reqwest::StatusCode;
use time::Duration;

use crate::helpers::{TestApp, entry, test_start};
use crate::meetings::{Planned, attendance, local, meeting};

/// Plans a meeting of branch A starting now, checks a1 in `minutes` after the start, returns
/// the answer's `late` and the attendance sheet's view of it.
async fn late_after(app: &TestApp, minutes: i64) -> (Option<bool>, Option<bool>) {
    let staff = app.login("staff").await;
    let Planned { id, starts_at } = meeting(app.tree.branch_a)
        .kind("group")
        .title("党小组会")
        .without_venue()
        .plan(app, &staff)
        .await;
    let at = local(starts_at + Duration::minutes(minutes));
    let (s, b) = staff.check_in_at(id, "g-1", app.tree.a1, &at).await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    let a = attendance(&staff, id).await;
    let sheet = entry(&a, "people", "person_id", app.tree.a1)["late"].as_bool();
    (b["late"].as_bool(), sheet)
}

#[tokio::test]
async fn two_servers_in_one_process_keep_their_own_late_grace() {
    let strict = TestApp::spawn().await;
    let lenient = TestApp::spawn_with_settings(
        WebConfig::default(),
        test_start(),
        Settings::default().with_checkin(15, 120, 120),
    )
    .await;
    assert_eq!(strict.store.grace(), Duration::minutes(5));
    assert_eq!(lenient.store.grace(), Duration::minutes(15));
    // ten minutes after the start: late under the default 5 minutes, on time under 15 — both
    // in the writer's answer and on the sheet read afterwards
    assert_eq!(late_after(&lenient, 10).await, (Some(false), Some(false)));
    assert_eq!(late_after(&strict, 10).await, (Some(true), Some(true)));
    // and the first server's setting did not leak into the second after the fact
    assert_eq!(late_after(&lenient, 10).await.0, Some(false));
}

#[tokio::test]
async fn a_store_has_one_check_in_writer_at_a_time() {
    let app = TestApp::spawn().await;
    // the server started the writer of this store: a second start is refused, not ignored
    assert!(app.store.checkins.running());
    assert!(app.store.start_checkin_writer(None).is_err());
    assert!(dangjian_web::AppState::new(app.store.clone(), WebConfig::default()).is_err());
}
