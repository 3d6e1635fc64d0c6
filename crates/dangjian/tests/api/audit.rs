use dangjian_store::audit::{Verdict, verify};
use serde_json::json;

use crate::helpers::{TestApp, audit_count, exec, require_postgres};

/// The chain of row `seq` and its number in that chain.
#[expect(clippy::unwrap_used, reason = "test: a failure is the test's failure")]
async fn place_of(store: &dangjian_store::Store, seq: i64) -> (i64, i64) {
    dangjian_store::with_db!(&store.db, p => sqlx::query_as("SELECT chain, chain_seq FROM audit WHERE seq = $1")
        .bind(seq).fetch_one(p).await)
    .unwrap()
}

/// Runs SQL with one bound value on the test database (tampering).
#[expect(clippy::unwrap_used, reason = "test: a failure is the test's failure")]
async fn exec_with(store: &dangjian_store::Store, sql: &'static str, v: i64) {
    dangjian_store::with_db!(&store.db, p => sqlx::query(sql).bind(v).execute(p).await.map(|_| ())).unwrap();
}

#[tokio::test]
async fn every_change_writes_one_audit_row_in_its_transaction() {
    let (app, sec) = TestApp::spawn_as("sec").await;
    let before = audit_count(&app.store).await;
    let (s, _) = sec
        .patch_member(app.tree.a1, json!({"education": "硕士研究生"}))
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
    let (app, sec) = TestApp::spawn_as("sec").await;
    sec.patch_member(app.tree.a1, json!({"education": "大学专科"}))
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
    let (chain, _) = place_of(&app.store, 3).await;
    assert_eq!(
        verify(&app.store.db, &app.store.keys).await.unwrap(),
        Verdict::Altered { chain, seq: 3 }
    );
}

#[tokio::test]
async fn verify_audit_finds_a_deleted_row() {
    let app = TestApp::spawn().await;
    let n = audit_count(&app.store).await;
    assert!(n > 5);
    app.breaks_the_audit_chain();
    let (chain, chain_seq) = place_of(&app.store, 4).await;
    exec(&app.store, "DELETE FROM audit WHERE seq = 4").await;
    assert_eq!(
        verify(&app.store.db, &app.store.keys).await.unwrap(),
        Verdict::Missing { chain, chain_seq }
    );
}

#[tokio::test]
async fn verify_audit_finds_rows_cut_off_the_end() {
    let app = TestApp::spawn().await;
    let n = audit_count(&app.store).await;
    app.breaks_the_audit_chain();
    let (chain, chain_seq) = place_of(&app.store, n).await;
    exec(
        &app.store,
        "DELETE FROM audit WHERE seq = (SELECT MAX(seq) FROM audit)",
    )
    .await;
    assert_eq!(
        verify(&app.store.db, &app.store.keys).await.unwrap(),
        Verdict::Missing { chain, chain_seq }
    );
}

#[tokio::test]
async fn the_audit_log_shows_only_the_callers_subtree() {
    let (app, secb) = TestApp::spawn_as("secb").await;
    let sec = app.login("sec").await;
    sec.patch_member(app.tree.a1, json!({"education": "大学专科"}))
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

/// Rewrites the links of row `from`'s chain from that row on as plain SHA-256, as an attacker
/// without the keys would, and the chain's head with them.
#[expect(clippy::unwrap_used, reason = "test: a failure is the test's failure")]
async fn recompute_as_sha256(store: &dangjian_store::Store, from: i64) {
    let (chain, chain_seq) = place_of(store, from).await;
    let rows: Vec<dangjian_store::audit::AuditRow> = dangjian_store::with_db!(&store.db, p => sqlx::query_as(
        "SELECT seq, at, user_id, actor, action, entity, entity_id, org_path, before_json, after_json, prev_hash, hash \
         FROM audit WHERE chain = $1 AND chain_seq >= $2 ORDER BY chain_seq").bind(chain).bind(chain_seq).fetch_all(p).await)
    .unwrap();
    let mut prev = rows[0].prev_hash.clone();
    for r in &rows {
        let link = sha_link(&prev, r);
        dangjian_store::with_db!(&store.db, p => sqlx::query("UPDATE audit SET prev_hash = $1, hash = $2 WHERE seq = $3")
            .bind(&prev).bind(&link).bind(r.seq).execute(p).await.map(|_| ()))
        .unwrap();
        prev = link;
    }
    dangjian_store::with_db!(&store.db, p => sqlx::query("UPDATE audit_chain_head SET hash = $1 WHERE chain = $2")
        .bind(&prev).bind(chain).execute(p).await.map(|_| ()))
    .unwrap();
}

/// Turns the trail back into what a database from before the HMAC held: one chain of SHA-256
/// links in row order, its head in `audit_head`, no per-org chains, no conversion marks.
#[expect(clippy::unwrap_used, reason = "test: a failure is the test's failure")]
async fn make_single_sha256_chain(store: &dangjian_store::Store) {
    let rows: Vec<dangjian_store::audit::AuditRow> = dangjian_store::with_db!(&store.db, p => sqlx::query_as(
        "SELECT seq, at, user_id, actor, action, entity, entity_id, org_path, before_json, after_json, prev_hash, hash \
         FROM audit ORDER BY seq").fetch_all(p).await)
    .unwrap();
    let mut prev = "0".repeat(64);
    for r in &rows {
        let link = sha_link(&prev, r);
        dangjian_store::with_db!(&store.db, p => sqlx::query(
            "UPDATE audit SET prev_hash = $1, hash = $2, chain = NULL, chain_seq = NULL WHERE seq = $3")
            .bind(&prev).bind(&link).bind(r.seq).execute(p).await.map(|_| ()))
        .unwrap();
        prev = link;
    }
    let last = rows.last().map_or(0, |r| r.seq);
    dangjian_store::with_db!(&store.db, p => sqlx::query("UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1")
        .bind(last).bind(&prev).execute(p).await.map(|_| ()))
    .unwrap();
    exec(store, "DELETE FROM audit_chain_head").await;
    exec(
        store,
        "DELETE FROM meta WHERE key IN ('audit_hmac_from', 'audit_chains_from')",
    )
    .await;
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
    let (chain, _) = place_of(&app.store, 3).await;
    assert_eq!(
        verify(&app.store.db, &app.store.keys).await.unwrap(),
        Verdict::Altered { chain, seq: 3 },
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
            .accounts()
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

/// A database as written before the HMAC (one chain of SHA-256 links, no conversion mark) with
/// a second top-level org and a login per name (rows of two chains once converted), `tamper`
/// run on it, then opened again (the start-up conversions run).
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
    add_top_org(&store, "旧党委").await;
    add_logins(&store, names).await;
    make_single_sha256_chain(&store).await;
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
    assert!(n >= 2);
    assert_eq!(
        verify(&store.db, &keys).await.unwrap(),
        Verdict::Intact { rows: n }
    );
    let heads = dangjian_store::audit::heads(&store.db).await.unwrap();
    assert_eq!(
        heads.iter().map(|h| h.chain).collect::<Vec<_>>(),
        vec![0, place_of(&store, 1).await.0],
        "split into the global chain (the login) and the org's"
    );
    assert_eq!(heads.iter().map(|h| h.chain_seq).sum::<i64>(), n);
    for h in &heads {
        assert!(dangjian_store::audit::has_head(&store.db, h).await.unwrap());
    }
    // converted: the SHA-256 recomputation no longer passes
    recompute_as_sha256(&store, 1).await;
    let (chain, _) = place_of(&store, 1).await;
    assert_eq!(
        verify(&store.db, &keys).await.unwrap(),
        Verdict::Altered { chain, seq: 1 }
    );
    let org_head = heads.iter().find(|h| h.chain == chain).unwrap();
    assert!(
        !dangjian_store::audit::has_head(&store.db, org_head)
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
        Verdict::Altered {
            chain: dangjian_store::audit::LEGACY_CHAIN,
            seq: 1
        },
        "the conversions did not launder the edit"
    );
    // the new record starts a chain of its own after the old trail
    let heads = dangjian_store::audit::heads(&store.db).await.unwrap();
    assert_eq!(
        heads.iter().map(|h| (h.chain, h.chain_seq)).collect::<Vec<_>>(),
        vec![(0, 1)]
    );
}

/// A top-level org of its own (a chain of its own).
#[expect(clippy::unwrap_used, reason = "test: a failure is the test's failure")]
async fn add_top_org(store: &dangjian_store::Store, name: &str) -> dangjian_store::org::OrgRow {
    use dangjian_rules::org::{OrgCategory, OrgKind};
    store
        .orgs()
        .create_org(
            &dangjian_store::Scope::system(),
            &dangjian_store::Actor::system("test"),
            dangjian_store::org::NewOrg {
                parent_id: None,
                name: name.into(),
                kind: OrgKind::Committee,
                branch_type: None,
                category: OrgCategory::Government,
                established_on: Some(time::macros::date!(2010 - 01 - 01)),
                term_started_on: None,
                term_years: None,
                joint_units: None,
            },
        )
        .await
        .unwrap()
}

#[tokio::test]
async fn rows_of_two_top_level_orgs_form_two_chains_that_each_verify() {
    let app = TestApp::spawn().await;
    app.breaks_the_audit_chain();
    let other = add_top_org(&app.store, "第二党委").await;
    let sec = app.login("sec").await;
    let (s, _) = sec
        .patch_member(app.tree.a1, json!({"education": "大学专科"}))
        .await;
    assert_eq!(s, 200);
    let n = audit_count(&app.store).await;
    assert_eq!(
        verify(&app.store.db, &app.store.keys).await.unwrap(),
        Verdict::Intact { rows: n }
    );
    let chains: Vec<(i64, i64)> = dangjian_store::with_db!(&app.store.db, p => sqlx::query_as(
        "SELECT chain, COUNT(*) FROM audit GROUP BY chain ORDER BY chain").fetch_all(p).await)
    .unwrap();
    assert!(
        chains.contains(&(app.tree.root, n - 1)) && chains.contains(&(other.id, 1)),
        "{chains:?}"
    );
    let heads = dangjian_store::audit::heads(&app.store.db).await.unwrap();
    assert_eq!(
        heads.iter().map(|h| (h.chain, h.chain_seq)).collect::<Vec<_>>(),
        chains
    );
    // an edit in the second chain is named with its chain, the first chain is not blamed
    exec_with(
        &app.store,
        "UPDATE audit SET actor = 'someone else' WHERE chain = $1",
        other.id,
    )
    .await;
    let seq: i64 = dangjian_store::with_db!(&app.store.db, p => sqlx::query_scalar(
        "SELECT seq FROM audit WHERE chain = $1").bind(other.id).fetch_one(p).await)
    .unwrap();
    assert_eq!(
        verify(&app.store.db, &app.store.keys).await.unwrap(),
        Verdict::Altered { chain: other.id, seq }
    );
}

#[tokio::test]
async fn the_last_row_of_one_chain_deleted_is_caught_by_its_head() {
    let app = TestApp::spawn().await;
    app.breaks_the_audit_chain();
    let other = add_top_org(&app.store, "第二党委").await;
    let recorded = dangjian_store::audit::heads(&app.store.db).await.unwrap();
    // a later row of the first chain: the cut row is not the newest of the trail
    let sec = app.login("sec").await;
    sec.patch_member(app.tree.a1, json!({"education": "大学专科"}))
        .await;
    exec_with(&app.store, "DELETE FROM audit WHERE chain = $1", other.id).await;
    assert_eq!(
        verify(&app.store.db, &app.store.keys).await.unwrap(),
        Verdict::Missing {
            chain: other.id,
            chain_seq: 1
        }
    );
    // and with its head rewritten to hide the cut, the recorded head still tells
    exec_with(
        &app.store,
        "DELETE FROM audit_chain_head WHERE chain = $1",
        other.id,
    )
    .await;
    assert!(matches!(
        verify(&app.store.db, &app.store.keys).await.unwrap(),
        Verdict::Intact { .. }
    ));
    let cut = recorded.iter().find(|h| h.chain == other.id).unwrap();
    assert!(!dangjian_store::audit::has_head(&app.store.db, cut).await.unwrap());
    let kept = recorded.iter().find(|h| h.chain == app.tree.root).unwrap();
    assert!(
        dangjian_store::audit::has_head(&app.store.db, kept)
            .await
            .unwrap()
    );
}

#[tokio::test]
async fn an_audited_transaction_without_its_audit_row_cannot_commit() {
    let app = TestApp::spawn().await;
    let mut tx = app.store.begin().await.unwrap();
    dangjian_store::with_tx!(&mut tx, c => sqlx::query("INSERT INTO meta (key, value) VALUES ('probe', 'x')")
        .execute(c).await.map(|_| ()))
    .unwrap();
    assert_eq!(tx.appended(), 0);
    let refused = tx.commit().await;
    assert!(refused.is_err(), "no audit row, no commit");
    let left: i64 = dangjian_store::with_db!(&app.store.db, p => sqlx::query_scalar(
        "SELECT COUNT(*) FROM meta WHERE key = 'probe'").fetch_one(p).await)
    .unwrap();
    assert_eq!(left, 0, "and the change was rolled back");
    // an unaudited transaction says why, and cannot write audit rows at all
    let mut tx = app.store.begin_unaudited("test").await.unwrap();
    let actor = dangjian_store::Actor::system("test");
    let appended = tx
        .audit(&actor, app.store.now())
        .act("probe", "meta")
        .append()
        .await;
    assert!(appended.is_err());
    drop(tx);
    // and with its row, the same change commits
    let n = audit_count(&app.store).await;
    let mut tx = app.store.begin().await.unwrap();
    dangjian_store::with_tx!(&mut tx, c => sqlx::query("INSERT INTO meta (key, value) VALUES ('probe', 'x')")
        .execute(c).await.map(|_| ()))
    .unwrap();
    tx.audit(&actor, app.store.now())
        .act("probe", "meta")
        .after(json!({"key": "probe"}))
        .append()
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(audit_count(&app.store).await, n + 1);
}

#[tokio::test]
async fn key_rotation_keeps_every_chain_verifying() {
    let app = TestApp::spawn().await;
    // the chain is re-linked under keys the app does not hold: the end-of-test check cannot verify it
    app.breaks_the_audit_chain();
    add_top_org(&app.store, "第二党委").await;
    let before = dangjian_store::audit::heads(&app.store.db).await.unwrap();
    assert!(before.len() >= 2);
    let new = dangjian_store::Keys::generate();
    app.store
        .rotate_keys(&dangjian_store::Actor::system("test"), &new)
        .await
        .unwrap();
    let n = audit_count(&app.store).await;
    assert_eq!(
        verify(&app.store.db, &new).await.unwrap(),
        Verdict::Intact { rows: n }
    );
    let after = dangjian_store::audit::heads(&app.store.db).await.unwrap();
    for h in &before {
        let now = after.iter().find(|a| a.chain == h.chain).unwrap();
        assert_ne!(now.hash, h.hash, "chain {} re-linked under the new keys", h.chain);
    }
    assert_ne!(
        verify(&app.store.db, &app.store.keys).await.unwrap(),
        Verdict::Intact { rows: n },
        "the old keys no longer verify"
    );
}

/// PostgreSQL: appenders lock only their chain's head, so a write in one top-level org does not
/// wait for an open write in another (SQLite serializes all writers anyway).
#[tokio::test]
#[cfg_attr(
    not(test_engine_pg),
    ignore = "PostgreSQL only: SQLite has one writer at a time by design"
)]
async fn appends_in_two_top_level_orgs_do_not_wait_on_each_other() {
    require_postgres();
    let app = TestApp::spawn().await;
    let other = add_top_org(&app.store, "第二党委").await;
    let actor = dangjian_store::Actor::system("test");
    let root_path = format!("/{}/", app.tree.root);
    let other_path = other.path.clone();
    let mut first = app.store.begin().await.unwrap();
    first
        .audit(&actor, app.store.now())
        .act("probe", "org")
        .org(root_path.clone())
        .append()
        .await
        .unwrap();
    // while `first` is open: another chain proceeds at once…
    let mut second = app.store.begin().await.unwrap();
    dangjian_store::with_tx!(&mut second, c => sqlx::query("SET LOCAL lock_timeout = '1s'").execute(c).await.map(|_| ()))
    .unwrap();
    second
        .audit(&actor, app.store.now())
        .act("probe", "org")
        .org(other_path)
        .append()
        .await
        .expect("another top-level org's append does not wait");
    second.commit().await.unwrap();
    // …while the same chain waits (and gives up here)
    let mut third = app.store.begin().await.unwrap();
    dangjian_store::with_tx!(&mut third, c => sqlx::query("SET LOCAL lock_timeout = '200ms'").execute(c).await.map(|_| ()))
    .unwrap();
    let waited = third
        .audit(&actor, app.store.now())
        .act("probe", "org")
        .org(root_path.clone())
        .append()
        .await;
    assert!(
        waited.is_err(),
        "the same chain's head is locked by the open write"
    );
    drop(third);
    first.commit().await.unwrap();
    // a write to both chains takes both heads first, in chain order
    let mut both = app.store.begin().await.unwrap();
    both.lock_audit_chains([Some(other.path.as_str()), Some(root_path.as_str())])
        .await
        .unwrap();
    for path in [&other.path, &root_path] {
        both.audit(&actor, app.store.now())
            .act("probe", "org")
            .org(path.clone())
            .append()
            .await
            .unwrap();
    }
    both.commit().await.unwrap();
    let n = audit_count(&app.store).await;
    assert_eq!(
        verify(&app.store.db, &app.store.keys).await.unwrap(),
        Verdict::Intact { rows: n }
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
