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
    assert_eq!(
        verify(&app.store.db, &app.store.keys).await.unwrap(),
        Verdict::Intact { rows: n }
    );
    app.breaks_the_audit_chain();
    exec(
        &app.store,
        "UPDATE audit SET actor = 'someone else' WHERE seq = 3",
    )
    .await;
    assert_eq!(
        verify(&app.store.db, &app.store.keys).await.unwrap(),
        Verdict::Altered { seq: 3 }
    );
}

#[tokio::test]
async fn verify_audit_finds_a_deleted_row() {
    let app = TestApp::spawn().await;
    let n = audit_count(&app.store).await;
    assert!(n > 5);
    app.breaks_the_audit_chain();
    exec(&app.store, "DELETE FROM audit WHERE seq = 4").await;
    assert_eq!(
        verify(&app.store.db, &app.store.keys).await.unwrap(),
        Verdict::Missing { seq: 4 }
    );
}

#[tokio::test]
async fn verify_audit_finds_rows_cut_off_the_end() {
    let app = TestApp::spawn().await;
    let n = audit_count(&app.store).await;
    app.breaks_the_audit_chain();
    exec(
        &app.store,
        "DELETE FROM audit WHERE seq = (SELECT MAX(seq) FROM audit)",
    )
    .await;
    assert_eq!(
        verify(&app.store.db, &app.store.keys).await.unwrap(),
        Verdict::Missing { seq: n }
    );
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

/// The SHA-256 link the chain used before its links became HMACs: what anyone with write access
/// to the database can recompute.
fn sha_link(prev: &str, r: &dangjian_store::audit::AuditRow) -> String {
    use sha2::{Digest, Sha256};
    let at =
        r.at.format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default();
    let mut h = Sha256::new();
    for part in [
        prev,
        &r.seq.to_string(),
        &at,
        &r.user_id.map(|u| u.to_string()).unwrap_or_default(),
        &r.actor,
        &r.action,
        &r.entity,
        r.entity_id.as_deref().unwrap_or(""),
        r.org_path.as_deref().unwrap_or(""),
        r.before_json.as_deref().unwrap_or(""),
        r.after_json.as_deref().unwrap_or(""),
    ] {
        h.update(part.as_bytes());
        h.update([0x1f]);
    }
    hex::encode(h.finalize())
}

/// Rewrites every link from `from` on as plain SHA-256, as an attacker without the keys would,
/// and the head with it.
#[expect(clippy::unwrap_used, reason = "test: a failure is the test's failure")]
async fn recompute_as_sha256(store: &dangjian_store::Store, from: i64) {
    let rows: Vec<dangjian_store::audit::AuditRow> = dangjian_store::with_db!(&store.db, p => sqlx::query_as(
        "SELECT seq, at, user_id, actor, action, entity, entity_id, org_path, before_json, after_json, prev_hash, hash \
         FROM audit ORDER BY seq").fetch_all(p).await)
    .unwrap();
    let mut prev = rows
        .iter()
        .find(|r| r.seq == from)
        .map(|r| r.prev_hash.clone())
        .unwrap();
    for r in rows.iter().filter(|r| r.seq >= from) {
        let link = sha_link(&prev, r);
        dangjian_store::with_db!(&store.db, p => sqlx::query("UPDATE audit SET prev_hash = $1, hash = $2 WHERE seq = $3")
            .bind(&prev).bind(&link).bind(r.seq).execute(p).await.map(|_| ()))
        .unwrap();
        prev = link;
    }
    dangjian_store::with_db!(&store.db, p => sqlx::query("UPDATE audit_head SET hash = $1 WHERE id = 1")
        .bind(&prev).execute(p).await.map(|_| ()))
    .unwrap();
}

#[tokio::test]
async fn an_edit_with_a_recomputed_chain_is_caught_without_the_key() {
    let app = TestApp::spawn().await;
    let n = audit_count(&app.store).await;
    assert!(n > 4);
    app.breaks_the_audit_chain();
    exec(
        &app.store,
        "UPDATE audit SET actor = 'someone else' WHERE seq = 3",
    )
    .await;
    recompute_as_sha256(&app.store, 3).await;
    assert_eq!(
        verify(&app.store.db, &app.store.keys).await.unwrap(),
        Verdict::Altered { seq: 3 },
        "SHA-256 links are no longer enough: each link is an HMAC under the keys"
    );
    // nor does another key's chain pass
    let other = dangjian_store::Keys::generate();
    assert_ne!(
        verify(&app.store.db, &other).await.unwrap(),
        Verdict::Intact { rows: n }
    );
}

/// The store's own logins, one per name (each writes an audit record).
#[expect(clippy::unwrap_used, reason = "test: a failure is the test's failure")]
async fn add_logins(store: &dangjian_store::Store, names: &[&str]) {
    let hash = dangjian_web::auth::hash_password("demo1234").unwrap();
    for name in names {
        store
            .create_user(
                &dangjian_store::Actor::system("test"),
                name,
                &hash,
                None,
                false,
                &[],
            )
            .await
            .unwrap();
    }
}

/// A database as written before the HMAC (SHA-256 links, no conversion mark) with a login per
/// name, `tamper` run on it, then opened again (the start-up conversion runs).
#[expect(clippy::unwrap_used, reason = "test: a failure is the test's failure")]
async fn reopened_after_sha256(
    names: &[&str],
    tamper: Option<&'static str>,
) -> (
    crate::helpers::TestDb,
    dangjian_store::Keys,
    dangjian_store::Store,
    i64,
) {
    use std::sync::Arc;
    let db = crate::helpers::TestDb::new().await;
    let keys = dangjian_store::Keys::generate();
    let open =
        || dangjian_store::Store::open(&db.target, keys.clone(), Arc::new(dangjian_store::SystemClock));
    let store = open().await.unwrap();
    add_logins(&store, names).await;
    recompute_as_sha256(&store, 1).await;
    exec(&store, "DELETE FROM meta WHERE key = 'audit_hmac_from'").await;
    if let Some(sql) = tamper {
        exec(&store, sql).await;
    }
    let n = audit_count(&store).await;
    store.db.close().await;
    let store = open().await.unwrap();
    (db, keys, store, n)
}

#[tokio::test]
async fn an_old_sha256_chain_is_converted_once_at_start_if_it_verifies() {
    let (_db, keys, store, n) = reopened_after_sha256(&["root"], None).await;
    assert!(n >= 1);
    assert_eq!(
        verify(&store.db, &keys).await.unwrap(),
        Verdict::Intact { rows: n }
    );
    let (seq, link) = dangjian_store::audit::head(&store.db).await.unwrap();
    assert_eq!(seq, n);
    assert!(
        dangjian_store::audit::has_link(&store.db, seq, &link)
            .await
            .unwrap()
    );
    // converted: the SHA-256 recomputation no longer passes
    recompute_as_sha256(&store, 1).await;
    assert_eq!(
        verify(&store.db, &keys).await.unwrap(),
        Verdict::Altered { seq: 1 }
    );
    assert!(
        !dangjian_store::audit::has_link(&store.db, seq, &link)
            .await
            .unwrap()
    );
}

#[tokio::test]
async fn a_broken_old_chain_is_kept_broken_and_new_records_follow_it() {
    let (_db, keys, store, _) = reopened_after_sha256(
        &["one", "two"],
        Some("UPDATE audit SET actor = 'someone else' WHERE seq = 1"),
    )
    .await;
    add_logins(&store, &["three"]).await;
    assert_eq!(
        verify(&store.db, &keys).await.unwrap(),
        Verdict::Altered { seq: 1 },
        "the conversion did not launder the edit"
    );
}

/// The harness itself: a test that leaves a broken chain behind without saying so fails.
#[tokio::test]
#[should_panic(expected = "the audit chain does not verify at the end of the test")]
async fn a_test_that_leaves_the_chain_broken_fails_when_it_ends() {
    let app = TestApp::spawn().await;
    exec(
        &app.store,
        "UPDATE audit SET actor = 'someone else' WHERE seq = 2",
    )
    .await;
    drop(app);
}
