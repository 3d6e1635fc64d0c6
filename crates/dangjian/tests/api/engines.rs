use dangjian_store::{DbTarget, Keys};

use crate::helpers::{TestApp, TestDb, require_postgres};

#[tokio::test]
#[cfg_attr(not(test_engine_pg), ignore = "needs PostgreSQL: DANGJIAN_TEST_DB=postgres")]
async fn both_engines_have_the_same_tables_and_columns() {
    require_postgres();
    let lite = TestDb::sqlite();
    let pg = TestDb::postgres().await;
    let a = lite.open(Keys::generate()).await.unwrap();
    let b = pg.open(Keys::generate()).await.unwrap();
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
    let first = db.open(keys.clone()).await.unwrap();
    first.db.close().await;
    let again = db.open(keys).await;
    assert!(again.is_ok(), "the same keys open it again");
    again.unwrap().db.close().await;
    let err = db.open(Keys::generate()).await.err().expect("refused");
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

/// The route table's (METHOD, path) pairs, paths with their parameters as `{}`.
fn route_table() -> std::collections::BTreeSet<(String, String)> {
    dangjian_web::routes::build()
        .docs
        .iter()
        .map(|d| (d.method.to_uppercase(), generic_path(d.path)))
        .collect()
}

/// `/api/v1/meetings/{id}/invitees/{person_id}` → `/api/v1/meetings/{}/invitees/{}`.
fn generic_path(path: &str) -> String {
    let mut out = String::new();
    let mut in_param = false;
    for ch in path.chars() {
        match ch {
            '{' => in_param = true,
            '}' => {
                in_param = false;
                out.push_str("{}");
            }
            _ if !in_param => out.push(ch),
            _ => {}
        }
    }
    out
}

/// Every `` `METHOD /path` `` written in a markdown file (query strings cut off).
fn documented_routes(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for chunk in text.split('`').skip(1).step_by(2) {
        let Some((method, rest)) = chunk.split_once(' ') else {
            continue;
        };
        if !matches!(method, "GET" | "POST" | "PUT" | "PATCH" | "DELETE") || !rest.starts_with('/') {
            continue;
        }
        let path = rest
            .split(|c: char| c == '?' || c == '[' || c.is_whitespace())
            .next()
            .unwrap_or_default();
        out.push((method.to_owned(), generic_path(path)));
    }
    out
}

#[tokio::test]
async fn the_openapi_document_lists_every_route() {
    let app = TestApp::spawn().await;
    let (s, doc) = app.client().get("/api/openapi.json").await;
    assert_eq!(s, 200);
    let table = dangjian_web::routes::build().docs;
    assert!(table.len() > 100, "{} routes", table.len());
    let missing: Vec<String> = table
        .iter()
        .filter(|r| !doc["paths"][r.path][r.method].is_object())
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    assert!(
        missing.is_empty(),
        "missing from the served document: {missing:?}"
    );
    let mut served = 0;
    let mut extra = Vec::new();
    for (path, ops) in doc["paths"].as_object().unwrap() {
        for method in ops.as_object().unwrap().keys() {
            served += 1;
            if !table.iter().any(|r| r.path == path && r.method == method) {
                extra.push(format!("{method} {path}"));
            }
        }
    }
    assert!(
        extra.is_empty(),
        "in the document but not in the table: {extra:?}"
    );
    assert_eq!(served, table.len());
}

/// Every route the contract (shared/API.md beside the repository, and docs/API.md) names that
/// the server answers is in the route table — so it has its OpenAPI entry and its row in the
/// permission matrix. A documented route the server does not answer yet is left alone.
#[tokio::test]
async fn every_documented_route_the_server_answers_is_in_the_route_table() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let files = [root.join("../shared/API.md"), root.join("docs/API.md")];
    let texts: Vec<String> = files
        .iter()
        .filter_map(|f| std::fs::read_to_string(f).ok())
        .collect();
    assert!(!texts.is_empty(), "neither of {files:?} could be read");
    let documented: std::collections::BTreeSet<(String, String)> =
        texts.iter().flat_map(|t| documented_routes(t)).collect();
    assert!(documented.len() > 40, "{documented:?}");
    let table = route_table();
    let app = TestApp::spawn().await;
    let anon = app.client();
    let mut outside = Vec::new();
    for (method, path) in documented.difference(&table) {
        let concrete = path.replace("{}", "1");
        let url = format!("{}{concrete}", app.base);
        let req = match method.as_str() {
            "GET" => anon.http.get(url),
            "POST" => anon.http.post(url),
            "PUT" => anon.http.put(url),
            "PATCH" => anon.http.patch(url),
            _ => anon.http.delete(url),
        };
        let status = req.send().await.unwrap().status().as_u16();
        if status != 404 && status != 405 {
            outside.push(format!("{method} {path} (answers {status})"));
        }
    }
    assert!(
        outside.is_empty(),
        "documented and answered, but not in web::routes::build().docs: {outside:?}"
    );
}

/// Runs `dangjian <args> --data <data>` with `DANGJIAN_DB` unset (the SQLite file in `data`).
#[expect(
    clippy::unwrap_used,
    reason = "test helper: a CLI that cannot run fails the test"
)]
fn cli(data: &std::path::Path, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_dangjian"))
        .args(args)
        .arg("--data")
        .arg(data)
        .env_remove("DANGJIAN_DB")
        .env("RUST_LOG", "warn")
        .output()
        .unwrap()
}

#[test]
fn the_cli_verify_audit_reports_an_intact_and_an_altered_chain() {
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| cli(dir.path(), args);
    let out = run(&["demo"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("secretary"));
    let out = run(&["verify-audit"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(stdout.contains("intact"));
    // the printed heads (one per chain) check out later, and a made-up one does not
    let heads: Vec<String> = stdout
        .lines()
        .filter_map(|l| {
            l.rsplit_once(' ')
                .map(|(_, h)| h.to_owned())
                .filter(|h| h.contains(':'))
        })
        .collect();
    assert!(!heads.is_empty(), "{stdout}");
    let mut args = vec!["verify-audit"];
    for h in &heads {
        args.extend(["--head", h.as_str()]);
    }
    let out = run(&args);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let (chain, rest) = heads[0].split_once(':').unwrap();
    let (seq, _) = rest.split_once(':').unwrap();
    let out = run(&[
        "verify-audit",
        "--head",
        &format!("{chain}:{seq}:{}", "0".repeat(64)),
    ]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("not the one recorded"));
    // a row's SEQ:LINK, the format of the single chain, is still taken
    let out = run(&["verify-audit", "--head", &format!("1:{}", "0".repeat(64))]);
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
    let store = db.open(Keys::generate()).await.unwrap();
    let hash = dangjian_web::auth::hash_password("demo1234").unwrap();
    let tree = dangjian::demo::load::load(&store, &hash).await.unwrap();
    assert!((550..=650).contains(&tree.people.len()));
    let user = store.accounts().user_by_name("secretary").await.unwrap().unwrap();
    let grants = store.accounts().grants(user.id, user.person_id).await.unwrap();
    let first_branch = store
        .orgs()
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
    let store = db.open(old.clone()).await.unwrap();
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
        .orgs()
        .create_org(&scope, &actor, org(None, OrgKind::Committee))
        .await
        .unwrap();
    let branch = store
        .orgs()
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
    let id = store
        .members()
        .create_people(&scope, &actor, &[person])
        .await
        .unwrap()[0];
    let new = Keys::generate();
    assert_eq!(store.rotate_keys(&actor, &new).await.unwrap(), 1);
    store.db.close().await;
    let refused = db.open(old).await;
    assert!(refused.is_err(), "the old keys no longer fit");
    let store = db.open(new).await.unwrap();
    let p = store.members().person(&scope, id).await.unwrap();
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
        store.members().people(&scope, &filter).await.unwrap().1,
        1,
        "the blind index was recomputed"
    );
    let verdict = crate::helpers::verify_audit_chain(&store.db, &store.keys).await;
    assert!(verdict.is_ok(), "{verdict:?}");
}

#[test]
fn the_cli_backs_up_and_restores_a_sqlite_database() {
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        let out = cli(dir.path(), args);
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
