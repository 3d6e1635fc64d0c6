use std::sync::Arc;

use dangjian_store::{DbTarget, Keys, Store, SystemClock};

use crate::helpers::{TestApp, TestDb, require_postgres};

#[tokio::test]
#[cfg_attr(not(test_engine_pg), ignore = "needs PostgreSQL: DANGJIAN_TEST_DB=postgres")]
async fn both_engines_have_the_same_tables_and_columns() {
    require_postgres();
    let lite = TestDb::sqlite();
    let pg = TestDb::postgres().await;
    let a = Store::open(&lite.target, Keys::generate(), Arc::new(SystemClock))
        .await
        .unwrap();
    let b = Store::open(&pg.target, Keys::generate(), Arc::new(SystemClock))
        .await
        .unwrap();
    let ca = dangjian_store::db::schema_columns(&a.db).await.unwrap();
    let cb = dangjian_store::db::schema_columns(&b.db).await.unwrap();
    assert!(ca.len() > 50);
    let only_sqlite: Vec<_> = ca.iter().filter(|c| !cb.contains(c)).collect();
    let only_pg: Vec<_> = cb.iter().filter(|c| !ca.contains(c)).collect();
    assert!(
        only_sqlite.is_empty() && only_pg.is_empty(),
        "only SQLite: {only_sqlite:?}; only PostgreSQL: {only_pg:?}"
    );
}

#[tokio::test]
async fn a_node_with_other_keys_refuses_to_start_and_says_why() {
    let db = TestDb::new().await;
    let keys = Keys::generate();
    let first = Store::open(&db.target, keys.clone(), Arc::new(SystemClock))
        .await
        .unwrap();
    first.db.close().await;
    let again = Store::open(&db.target, keys, Arc::new(SystemClock)).await;
    assert!(again.is_ok(), "the same keys open it again");
    again.unwrap().db.close().await;
    let err = Store::open(&db.target, Keys::generate(), Arc::new(SystemClock))
        .await
        .err()
        .expect("refused");
    let msg = format!("{err:#}");
    assert!(
        msg.contains("refusing to start") && msg.contains("fingerprint"),
        "{msg}"
    );
}

#[tokio::test]
async fn encrypted_fields_are_not_readable_in_the_database() {
    let app = TestApp::spawn().await;
    let raw: Vec<String> = dangjian_store::with_db!(&app.store.db, p =>
        sqlx::query_scalar("SELECT id_number_enc FROM person").fetch_all(p).await)
    .unwrap();
    assert_eq!(raw.len(), 3);
    for v in raw {
        assert!(!v.contains("110105"), "stored encrypted, not in clear");
    }
}

#[tokio::test]
async fn the_openapi_document_lists_every_route() {
    let app = TestApp::spawn().await;
    let (s, doc) = app.client().get("/api/openapi.json").await;
    assert_eq!(s, 200);
    for (method, path) in crate::permissions::ENDPOINTS.iter().map(|e| (e.0, e.1)) {
        assert!(
            doc["paths"][path][method.to_lowercase()].is_object(),
            "{method} {path} missing from the OpenAPI document"
        );
    }
    for (method, path) in [
        ("get", "/healthz"),
        ("post", "/api/v1/login"),
        ("get", "/api/v1/me"),
        ("post", "/api/v1/logout"),
    ] {
        assert!(doc["paths"][path][method].is_object(), "{method} {path}");
    }
}

#[test]
fn the_cli_verify_audit_reports_an_intact_and_an_altered_chain() {
    let dir = tempfile::tempdir().unwrap();
    let bin = env!("CARGO_BIN_EXE_dangjian");
    let run = |args: &[&str]| {
        std::process::Command::new(bin)
            .args(args)
            .arg("--data")
            .arg(dir.path())
            .env_remove("DANGJIAN_DB")
            .env("RUST_LOG", "warn")
            .output()
            .unwrap()
    };
    let out = run(&["demo"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("secretary"));
    let out = run(&["verify-audit"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(stdout.contains("intact"));
    // the printed head checks out later, and a made-up one does not
    let head = stdout
        .lines()
        .find_map(|l| {
            l.rsplit_once(' ')
                .map(|(_, h)| h.to_owned())
                .filter(|h| h.contains(':'))
        })
        .unwrap();
    let out = run(&["verify-audit", "--head", &head]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let (seq, _) = head.split_once(':').unwrap();
    let out = run(&["verify-audit", "--head", &format!("{seq}:{}", "0".repeat(64))]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("not the one recorded"));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let pool =
            sqlx::SqlitePool::connect(&format!("sqlite://{}", dir.path().join("dangjian.db").display()))
                .await
                .unwrap();
        sqlx::query("UPDATE audit SET after_json = '{}' WHERE seq = 2")
            .execute(&pool)
            .await
            .unwrap();
        pool.close().await;
    });
    let out = run(&["verify-audit"]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("audit record 2 was altered"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn the_cli_refuses_a_database_url_it_does_not_understand() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_dangjian"))
        .args(["migrate", "--db", "mysql://localhost/x"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("unsupported database URL"));
}

#[tokio::test]
async fn the_demo_tree_loads_and_its_logins_see_the_first_branch() {
    let db = TestDb::new().await;
    let store = Store::open(&db.target, Keys::generate(), Arc::new(SystemClock))
        .await
        .unwrap();
    let hash = dangjian_web::auth::hash_password("demo1234").unwrap();
    let tree = dangjian::demo::load::load(&store, &hash).await.unwrap();
    assert!((550..=650).contains(&tree.people.len()));
    let user = store.user_by_name("secretary").await.unwrap().unwrap();
    let grants = store.grants(user.id, user.person_id).await.unwrap();
    let first_branch = store
        .scope_roots(&grants.scope(dangjian_store::Cap::WriteMembers).unwrap())
        .await
        .unwrap();
    assert_eq!(first_branch.len(), 1);
    assert_eq!(first_branch[0].name, tree.orgs[tree.first_branch].name);
    assert_eq!(
        crate::helpers::verify_audit_chain(&store.db, &store.keys).await,
        Ok(crate::helpers::audit_count(&store).await)
    );
    let _ = DbTarget::parse("x.db").unwrap();
}

#[tokio::test]
async fn rotating_keys_re_encrypts_everything_and_the_old_keys_are_then_refused() {
    use dangjian_rules::member::{Gender, MemberStatus, PersonCategory};
    use dangjian_rules::org::{OrgCategory, OrgKind};
    let db = TestDb::new().await;
    let old = Keys::generate();
    let store = Store::open(&db.target, old.clone(), Arc::new(SystemClock))
        .await
        .unwrap();
    let (scope, actor) = (
        dangjian_store::Scope::system(),
        dangjian_store::Actor::system("test"),
    );
    let org = |parent, kind| dangjian_store::org::NewOrg {
        parent_id: parent,
        name: "党组织".into(),
        kind,
        branch_type: None,
        category: OrgCategory::Other,
        established_on: None,
        term_started_on: None,
        term_years: None,
        joint_units: None,
    };
    let root = store
        .create_org(&scope, &actor, org(None, OrgKind::Committee))
        .await
        .unwrap();
    let branch = store
        .create_org(&scope, &actor, org(Some(root.id), OrgKind::Branch))
        .await
        .unwrap();
    let idn = crate::helpers::id_number("1970-01-02", 7);
    let person = dangjian_store::person::NewPerson {
        org_id: branch.id,
        name: "周八".into(),
        gender: Gender::Male,
        ethnicity: None,
        birth_date: time::macros::date!(1970 - 01 - 02),
        id_number: dangjian_rules::IdNumber::parse(&idn).unwrap(),
        phone: Some("13700001111".into()),
        education: None,
        category: PersonCategory::Retired,
        status: MemberStatus::Formal,
        joined_on: Some(time::macros::date!(1995 - 01 - 01)),
        regularized_on: None,
        work_unit: None,
        recorded_on: None,
        history: Vec::new(),
    };
    let id = store.create_people(&scope, &actor, &[person]).await.unwrap()[0];
    let new = Keys::generate();
    assert_eq!(store.rotate_keys(&actor, &new).await.unwrap(), 1);
    store.db.close().await;
    let refused = Store::open(&db.target, old, Arc::new(SystemClock)).await;
    assert!(refused.is_err(), "the old keys no longer fit");
    let store = Store::open(&db.target, new, Arc::new(SystemClock)).await.unwrap();
    let p = store.person(&scope, id).await.unwrap();
    assert_eq!(
        (p.id_number.as_str(), p.phone.as_deref()),
        (idn.as_str(), Some("13700001111"))
    );
    let filter = dangjian_store::person::PersonFilter {
        q: Some(idn.clone()),
        limit: 10,
        ..Default::default()
    };
    assert_eq!(
        store.people(&scope, &filter).await.unwrap().1,
        1,
        "the blind index was recomputed"
    );
    let verdict = crate::helpers::verify_audit_chain(&store.db, &store.keys).await;
    assert!(verdict.is_ok(), "{verdict:?}");
}

#[test]
fn the_cli_backs_up_and_restores_a_sqlite_database() {
    let dir = tempfile::tempdir().unwrap();
    let bin = env!("CARGO_BIN_EXE_dangjian");
    let run = |args: &[&str]| {
        let out = std::process::Command::new(bin)
            .args(args)
            .arg("--data")
            .arg(dir.path())
            .env_remove("DANGJIAN_DB")
            .env("RUST_LOG", "warn")
            .output()
            .unwrap();
        (
            out.status.success(),
            format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ),
        )
    };
    assert!(run(&["demo"]).0);
    let backup = dir.path().join("backup.db");
    let (ok, out) = run(&["backup", backup.to_str().unwrap()]);
    assert!(ok, "{out}");
    let (ok, out) = run(&["backup", backup.to_str().unwrap()]);
    assert!(!ok && out.contains("exists already"), "{out}");
    // the database, its WAL, the backup and the key file: their owner's only, whatever the umask
    {
        use std::os::unix::fs::PermissionsExt;
        for name in ["dangjian.db", "dangjian.db-wal", "backup.db", "keys.json"] {
            let path = dir.path().join(name);
            if let Ok(meta) = std::fs::metadata(&path) {
                assert_eq!(meta.permissions().mode() & 0o777, 0o600, "{name}");
            } else {
                assert_eq!(name, "dangjian.db-wal", "{name} exists");
            }
        }
        // a key file others can read is refused, saying what to do
        let keys = dir.path().join("keys.json");
        std::fs::set_permissions(&keys, std::fs::Permissions::from_mode(0o644)).unwrap();
        let (ok, out) = run(&["verify-audit"]);
        assert!(!ok && out.contains("chmod 600"), "{out}");
        std::fs::set_permissions(&keys, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    // a change after the backup, then restore: the change is gone, the old file kept aside
    let (ok, _) = run(&["create-admin", "--username", "later", "--password", "later12345"]);
    assert!(ok);
    let (ok, out) = run(&["restore", backup.to_str().unwrap()]);
    assert!(ok, "{out}");
    assert!(dir.path().join("dangjian.db.before-restore").exists());
    let (ok, out) = run(&["create-admin", "--username", "later", "--password", "later12345"]);
    assert!(
        ok,
        "the admin made after the backup is gone after the restore: {out}"
    );
    let (ok, out) = run(&["verify-audit"]);
    assert!(ok, "{out}");
}
