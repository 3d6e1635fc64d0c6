use dangjian_store::audit::{Verdict, verify};
use serde_json::json;

use crate::helpers::{TestApp, audit_count, exec};

#[tokio::test]
async fn every_change_writes_one_audit_row_in_its_transaction() {
    let app = TestApp::spawn().await;
    let sec = app.login("sec").await;
    let before = audit_count(&app.store).await;
    let (s, _) = sec
        .patch(
            &format!("/api/v1/members/{}", app.tree.a1),
            json!({"education": "硕士研究生"}),
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(audit_count(&app.store).await, before + 1);
    let (s, _) = sec
        .patch(
            &format!("/api/v1/members/{}", app.tree.a1),
            json!({"id_number": "110105198005060119"}),
        )
        .await;
    assert_eq!(s, 422, "a refused change writes no audit row");
    assert_eq!(audit_count(&app.store).await, before + 1);
    let (_, rows) = sec.get("/api/v1/audit?entity=person").await;
    let row = &rows["items"][0];
    assert_eq!(row["actor"], "sec");
    assert_eq!(row["action"], "update");
    let after: serde_json::Value = serde_json::from_str(row["after_json"].as_str().unwrap()).unwrap();
    assert_eq!(after["education"], "硕士研究生");
    assert!(
        after["id_number"].as_str().unwrap().contains('*'),
        "no clear-text ID numbers in the audit trail"
    );
}

#[tokio::test]
async fn verify_audit_finds_an_edited_row() {
    let app = TestApp::spawn().await;
    let sec = app.login("sec").await;
    sec.patch(
        &format!("/api/v1/members/{}", app.tree.a1),
        json!({"education": "大学专科"}),
    )
    .await;
    let n = audit_count(&app.store).await;
    assert_eq!(verify(&app.store.db).await.unwrap(), Verdict::Intact { rows: n });
    exec(
        &app.store,
        "UPDATE audit SET actor = 'someone else' WHERE seq = 3",
    )
    .await;
    assert_eq!(verify(&app.store.db).await.unwrap(), Verdict::Altered { seq: 3 });
}

#[tokio::test]
async fn verify_audit_finds_a_deleted_row() {
    let app = TestApp::spawn().await;
    let n = audit_count(&app.store).await;
    assert!(n > 5);
    exec(&app.store, "DELETE FROM audit WHERE seq = 4").await;
    assert_eq!(verify(&app.store.db).await.unwrap(), Verdict::Missing { seq: 4 });
}

#[tokio::test]
async fn verify_audit_finds_rows_cut_off_the_end() {
    let app = TestApp::spawn().await;
    let n = audit_count(&app.store).await;
    exec(
        &app.store,
        "DELETE FROM audit WHERE seq = (SELECT MAX(seq) FROM audit)",
    )
    .await;
    assert_eq!(verify(&app.store.db).await.unwrap(), Verdict::Missing { seq: n });
}

#[tokio::test]
async fn the_audit_log_shows_only_the_callers_subtree() {
    let app = TestApp::spawn().await;
    let secb = app.login("secb").await;
    let sec = app.login("sec").await;
    sec.patch(
        &format!("/api/v1/members/{}", app.tree.a1),
        json!({"education": "大学专科"}),
    )
    .await;
    let (_, rows) = secb.get("/api/v1/audit?entity=person").await;
    assert!(
        rows["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["entity_id"] != json!(app.tree.a1.to_string()))
    );
    let (s, _) = app.login("mem").await.get("/api/v1/audit").await;
    assert_eq!(s, 403, "members have no audit grant");
}
