//! The test harness: a real server on a random port over a fresh database (a temp SQLite file,
//! or a fresh PostgreSQL schema when DANGJIAN_TEST_DB=postgres), with a small org tree.
#![expect(
    clippy::expect_used,
    reason = "the test harness: a failed setup step should stop the test at once"
)]

use std::sync::Arc;

use dangjian_rules::member::{Gender, MemberStatus, PersonCategory};
use dangjian_rules::org::{BranchType, OrgCategory, OrgKind};
use dangjian_rules::{IdNumber, id_number::check_char};
use dangjian_store::org::NewOrg;
use dangjian_store::person::NewPerson;
use dangjian_store::{Actor, DbTarget, FixedClock, Keys, Role, Scope, Store};
use dangjian_web::WebConfig;
use reqwest::StatusCode;
use serde_json::{Value, json};
use time::macros::date;

pub const PASSWORD: &str = "testpass123";

pub fn pg_server_url() -> String {
    std::env::var("DANGJIAN_TEST_PG_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

pub fn on_postgres() -> bool {
    std::env::var("DANGJIAN_TEST_DB").as_deref() == Ok("postgres")
}

/// For a test marked `#[cfg_attr(not(test_engine_pg), ignore = …)]` (the cfg comes from
/// `crates/dangjian/build.rs`): a binary built for PostgreSQL but run without
/// `DANGJIAN_TEST_DB=postgres`, or run with `--ignored` on SQLite, fails here rather than pass.
pub fn require_postgres() {
    assert!(
        on_postgres(),
        "a PostgreSQL-only test: run it with DANGJIAN_TEST_DB=postgres"
    );
}

/// A fresh database: dropped when the test ends.
pub struct TestDb {
    pub target: DbTarget,
    _dir: Option<tempfile::TempDir>,
    pg_schema: Option<String>,
}

impl TestDb {
    /// A store over this database with `keys`, on the system clock (a node starting).
    pub async fn open(&self, keys: Keys) -> anyhow::Result<Store> {
        Store::open(&self.target, keys, Arc::new(dangjian_store::SystemClock)).await
    }

    pub async fn new() -> Self {
        if on_postgres() {
            Self::postgres().await
        } else {
            Self::sqlite()
        }
    }

    pub fn sqlite() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let target = DbTarget::SqliteFile(dir.path().join("test.db"));
        Self {
            target,
            _dir: Some(dir),
            pg_schema: None,
        }
    }

    pub async fn postgres() -> Self {
        let schema = format!("t_{}_{}", std::process::id(), hex_suffix());
        let base = pg_server_url();
        let pool = sqlx::PgPool::connect(&base)
            .await
            .expect("connect to PostgreSQL for tests");
        sweep_stale_schemas(&pool).await;
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
            .execute(&pool)
            .await
            .expect("create schema");
        pool.close().await;
        let sep = if base.contains('?') { '&' } else { '?' };
        let url = format!("{base}{sep}options=-c%20search_path%3D{schema}");
        Self {
            target: DbTarget::Postgres(url),
            _dir: None,
            pg_schema: Some(schema),
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some(schema) = self.pg_schema.take() {
            // Drop cannot await, and blocking here could stall the test's own runtime while the
            // server still holds a connection: drop from a detached thread; what a killed run
            // leaves behind is swept by the next run (`sweep_stale_schemas`).
            std::thread::spawn(move || drop_schema(&schema));
        }
    }
}

fn drop_schema(schema: &str) {
    let base = pg_server_url();
    let Ok(rt) = tokio::runtime::Builder::new_current_thread().enable_all().build() else {
        return;
    };
    rt.block_on(async {
        if let Ok(pool) = sqlx::PgPool::connect(&base).await {
            let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
                "DROP SCHEMA IF EXISTS {schema} CASCADE"
            )))
            .execute(&pool)
            .await;
            pool.close().await;
        }
    });
}

/// Schemas are named `t_<pid>_<random>`; those of processes no longer running are removed once
/// per test process.
async fn sweep_stale_schemas(pool: &sqlx::PgPool) {
    static SWEPT: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    if SWEPT.swap(true, std::sync::atomic::Ordering::SeqCst) {
        return;
    }
    let names: Vec<String> =
        sqlx::query_scalar("SELECT nspname::text FROM pg_namespace WHERE nspname LIKE 't\\_%'")
            .fetch_all(pool)
            .await
            .unwrap_or_default();
    for name in names {
        let pid = name.split('_').nth(1).and_then(|p| p.parse::<u32>().ok());
        let alive = pid.is_some_and(|p| std::path::Path::new(&format!("/proc/{p}")).exists());
        if !alive {
            let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
                "DROP SCHEMA IF EXISTS {name} CASCADE"
            )))
            .execute(pool)
            .await;
        }
    }
}

pub fn hex_suffix() -> String {
    let b = dangjian_store::keys::random_bytes::<6>();
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// The ids of the fixture tree.
#[derive(Debug, Clone, Copy)]
pub struct Tree {
    pub root: i64,
    pub general: i64,
    pub branch_a: i64,
    pub group_a1: i64,
    pub branch_b: i64,
    /// formal member of branch A (has the `mem` login)
    pub a1: i64,
    /// probationary member in group A1
    pub a2: i64,
    /// formal member of branch B
    pub b1: i64,
}

/// A second node's address (see `TestApp::spawn_second_node`).
pub struct TestApp2 {
    pub base: String,
}

/// A server over a fresh database. When the test is done (dropped without a panic), the audit
/// chain of its database must verify, or the test fails: a write that broke the chain is caught
/// by whichever test made it. A test that breaks the chain on purpose says so with
/// [`TestApp::breaks_the_audit_chain`].
pub struct TestApp {
    pub base: String,
    pub store: Store,
    pub clock: Arc<FixedClock>,
    pub tree: Tree,
    chain_broken_on_purpose: std::sync::atomic::AtomicBool,
    _db: TestDb,
    _stop: tokio::sync::oneshot::Sender<()>,
}

/// Whether the audit chain of `db` verifies under `keys`: `Ok(rows)` when intact, else what is
/// wrong. The one place the tests call `store::audit::verify` for an intact chain.
pub async fn verify_audit_chain(db: &dangjian_store::Db, keys: &Keys) -> Result<i64, String> {
    match dangjian_store::audit::verify(db, keys).await {
        Ok(dangjian_store::audit::Verdict::Intact { rows }) => Ok(rows),
        Ok(other) => Err(format!("{other:?}")),
        Err(e) => Err(format!("verify failed: {e}")),
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if std::thread::panicking()
            || self
                .chain_broken_on_purpose
                .load(std::sync::atomic::Ordering::SeqCst)
        {
            return;
        }
        // Drop cannot await, and the test's runtime is the one blocked here: verify on a thread
        // with its own runtime and its own connection. The server's tasks are parked on the
        // blocked runtime meanwhile; a write still under way on another runtime's thread could
        // land between reading the rows and the head, so a broken verdict is read again.
        let target = self._db.target.clone();
        let keys = (*self.store.keys).clone();
        let verdict = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| e.to_string())?;
            rt.block_on(async {
                let db = dangjian_store::Db::connect(&target)
                    .await
                    .map_err(|e| format!("connect: {e:#}"))?;
                let mut verdict = verify_audit_chain(&db, &keys).await;
                for _ in 0..2 {
                    if verdict.is_ok() {
                        break;
                    }
                    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
                    verdict = verify_audit_chain(&db, &keys).await;
                }
                db.close().await;
                verdict
            })
        })
        .join()
        .unwrap_or_else(|_| Err("the verifying thread panicked".into()));
        if let Err(why) = verdict {
            panic!("the audit chain does not verify at the end of the test: {why}");
        }
    }
}

/// The instant tests whose data carry fixed dates (a 2025 joining date, a series in 2027) start
/// at, whatever `DANGJIAN_TEST_NOW` says: 10:00 on Wednesday 2026-06-10 in UTC+8.
pub const FIXED_NOW: time::OffsetDateTime = time::macros::datetime!(2026-06-10 02:00 UTC);

/// Where every test's clock starts, whatever the real date: `DANGJIAN_TEST_NOW` (YYYY-MM-DD for
/// 10:00 local time that day, or an RFC 3339 instant), else a fixed ordinary weekday. CI runs the
/// suite at several such instants (year's first and last day, 29 February, a quarter's end, just
/// before and after midnight in UTC+8), so no test may assume what today is.
pub fn test_start() -> time::OffsetDateTime {
    match std::env::var("DANGJIAN_TEST_NOW") {
        Ok(raw) if !raw.trim().is_empty() => {
            dangjian_store::clock::parse_start(&raw, dangjian_store::LocalTime::default())
                .unwrap_or_else(|e| panic!("DANGJIAN_TEST_NOW: {e}"))
        }
        _ => FIXED_NOW,
    }
}

/// A valid made-up ID number for a birth date and a sequence number.
pub fn id_number(birth: &str, seq: u32) -> String {
    let first17 = format!("110105{}{:03}", birth.replace('-', ""), seq % 1000);
    let c = check_char(first17.as_bytes()) as char;
    format!("{first17}{c}")
}

fn person(org_id: i64, name: &str, birth: time::Date, seq: u32, status: MemberStatus) -> NewPerson {
    let id = IdNumber::parse(&id_number(&birth.to_string(), seq)).expect("valid id");
    NewPerson {
        org_id,
        name: name.into(),
        gender: if id.is_male() {
            Gender::Male
        } else {
            Gender::Female
        },
        ethnicity: Some("汉族".into()),
        birth_date: birth,
        id_number: id,
        phone: Some(format!("1380000{:04}", seq)),
        education: Some("大学本科".into()),
        category: PersonCategory::InService,
        status,
        joined_on: Some(date!(2015 - 07 - 01)),
        regularized_on: (status == MemberStatus::Formal).then_some(date!(2016 - 07 - 01)),
        work_unit: Some("测试单位".into()),
        recorded_on: None,
        history: Vec::new(),
    }
}

impl TestApp {
    pub async fn spawn() -> Self {
        Self::spawn_with(WebConfig::default()).await
    }

    /// A fresh server and a client logged in as `username`: how most tests begin.
    pub async fn spawn_as(username: &str) -> (Self, Client) {
        let app = Self::spawn().await;
        let c = app.login(username).await;
        (app, c)
    }

    /// A server in demo mode (the fake payment provider exists only there) whose clock starts at
    /// `start`.
    pub async fn spawn_demo_at(start: time::OffsetDateTime) -> Self {
        let demo = WebConfig {
            demo: true,
            ..WebConfig::default()
        };
        Self::spawn_with_at(demo, start).await
    }

    /// A server whose clock starts at `t`: for tests whose data carry fixed dates.
    pub async fn spawn_at(t: time::OffsetDateTime) -> Self {
        Self::spawn_with_at(WebConfig::default(), t).await
    }

    pub async fn spawn_with(cfg: WebConfig) -> Self {
        Self::spawn_with_at(cfg, test_start()).await
    }

    pub async fn spawn_with_at(cfg: WebConfig, start: time::OffsetDateTime) -> Self {
        Self::spawn_with_settings(cfg, start, dangjian_store::Settings::default()).await
    }

    /// A server whose store is opened with `settings` (late grace, check-in window, …).
    pub async fn spawn_with_settings(
        cfg: WebConfig,
        start: time::OffsetDateTime,
        settings: dangjian_store::Settings,
    ) -> Self {
        if std::env::var("TEST_LOG").is_ok() {
            let _ = tracing_subscriber::fmt()
                .with_env_filter("info,sqlx=warn")
                .with_test_writer()
                .try_init();
        }
        let db = TestDb::new().await;
        let clock = Arc::new(FixedClock::new(start));
        let store = Store::open_with(&db.target, Keys::generate(), clock.clone(), settings)
            .await
            .expect("open store");
        let tree = fixture(&store).await;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let state = dangjian_web::AppState::new(store.clone(), cfg).expect("start the node");
        tokio::spawn(dangjian_web::serve(state, listener, async move {
            let _ = stopped.await;
        }));
        Self {
            base,
            store,
            clock,
            tree,
            chain_broken_on_purpose: std::sync::atomic::AtomicBool::new(false),
            _db: db,
            _stop: stop,
        }
    }

    /// For a test that alters the audit trail on purpose: the chain is not verified when it ends.
    pub fn breaks_the_audit_chain(&self) {
        self.chain_broken_on_purpose
            .store(true, std::sync::atomic::Ordering::SeqCst);
    }

    /// A second server (another node) on the same database with the same keys and clock: its own
    /// listener, Store and live hub. It stops when the returned sender is dropped.
    pub async fn spawn_second_node(&self) -> (TestApp2, tokio::sync::oneshot::Sender<()>) {
        let store = Store::open(&self._db.target, (*self.store.keys).clone(), self.clock.clone())
            .await
            .expect("open store for the second node");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let state = dangjian_web::AppState::new(store, WebConfig::default()).expect("start the second node");
        tokio::spawn(dangjian_web::serve(state, listener, async move {
            let _ = stopped.await;
        }));
        (TestApp2 { base }, stop)
    }

    pub fn client(&self) -> Client {
        Client {
            base: self.base.clone(),
            http: reqwest::Client::builder()
                .cookie_store(true)
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("client"),
            csrf: None,
            bearer: None,
        }
    }

    /// Moves the clock back to the start of the current minute (the same date, whatever the
    /// start instant): for tests whose steps must fall in one one-minute window.
    pub fn at_minute_start(&self) {
        let now = self.store.now();
        self.clock.set(
            now - time::Duration::seconds(i64::from(now.second()))
                - time::Duration::nanoseconds(i64::from(now.nanosecond())),
        );
    }

    /// A logged-in client (session cookie + CSRF token).
    pub async fn login(&self, username: &str) -> Client {
        self.login_with(username, PASSWORD).await
    }

    pub async fn login_with(&self, username: &str, password: &str) -> Client {
        let mut c = self.client();
        let (status, body) = c
            .post(
                "/api/v1/login",
                json!({"username": username, "password": password}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "login {username}: {body}");
        c.csrf = body["csrf_token"].as_str().map(str::to_owned);
        c
    }
}

async fn fixture(store: &Store) -> Tree {
    let s = Scope::system();
    let a = Actor::system("test");
    let org = |parent: Option<i64>, name: &str, kind: OrgKind| NewOrg {
        parent_id: parent,
        name: name.into(),
        kind,
        branch_type: (kind == OrgKind::Branch).then_some(BranchType::Regular),
        category: OrgCategory::Government,
        established_on: Some(date!(2010 - 01 - 01)),
        term_started_on: None,
        term_years: None,
        joint_units: None,
    };
    let create = |parent: Option<i64>, name: &'static str, kind: OrgKind| {
        let (store, s, a) = (store.clone(), s.clone(), a.clone());
        async move {
            store
                .orgs()
                .create_org(&s, &a, org(parent, name, kind))
                .await
                .expect(name)
                .id
        }
    };
    let root = create(None, "测试党委", OrgKind::Committee).await;
    let general = create(Some(root), "机关党总支", OrgKind::GeneralBranch).await;
    let branch_a = create(Some(general), "第一党支部", OrgKind::Branch).await;
    let group_a1 = create(Some(branch_a), "第一党小组", OrgKind::Group).await;
    let branch_b = create(Some(root), "第二党支部", OrgKind::Branch).await;
    let ids = store
        .members()
        .create_people(
            &s,
            &a,
            &[
                person(branch_a, "张三", date!(1980 - 05 - 06), 11, MemberStatus::Formal),
                person(
                    group_a1,
                    "李四",
                    date!(1990 - 02 - 03),
                    22,
                    MemberStatus::Probationary,
                ),
                person(branch_b, "王五", date!(1985 - 09 - 10), 33, MemberStatus::Formal),
            ],
        )
        .await
        .expect("people");
    let hash = dangjian_web::auth::hash_password(PASSWORD).expect("hash");
    type Login<'a> = (&'a str, Option<i64>, Vec<(Role, i64)>);
    let users: [Login; 5] = [
        ("admin", None, vec![(Role::Admin, root)]),
        ("sec", None, vec![(Role::Secretary, branch_a)]),
        ("mem", Some(ids[0]), vec![(Role::Member, branch_a)]),
        ("staff", None, vec![(Role::Staff, branch_a)]),
        ("secb", Some(ids[2]), vec![(Role::Secretary, branch_b)]),
    ];
    for (name, person, grants) in users {
        store
            .accounts()
            .create_user(&a, name, &hash, person, false, &grants)
            .await
            .expect("user");
    }
    Tree {
        root,
        general,
        branch_a,
        group_a1,
        branch_b,
        a1: ids[0],
        a2: ids[1],
        b1: ids[2],
    }
}

/// An HTTP client that keeps cookies and sends the CSRF token on unsafe requests (clones share
/// the session).
#[derive(Clone)]
pub struct Client {
    pub base: String,
    pub http: reqwest::Client,
    pub csrf: Option<String>,
    pub bearer: Option<String>,
}

impl Client {
    /// A hand-built multipart/form-data POST: text `fields`, then the `file` part (an .xlsx).
    pub async fn multipart(
        &self,
        path: &str,
        fields: &[(&str, &str)],
        filename: &str,
        file: &[u8],
    ) -> (StatusCode, Value) {
        let xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
        self.multipart_file(path, fields, filename, xlsx, file).await
    }

    /// The same with the file part's content type given.
    #[expect(
        clippy::unwrap_used,
        reason = "a test helper: a failed request should stop the test at once"
    )]
    pub async fn multipart_file(
        &self,
        path: &str,
        fields: &[(&str, &str)],
        filename: &str,
        content_type: &str,
        file: &[u8],
    ) -> (StatusCode, Value) {
        let boundary = "----dangjian-test-boundary-7d3f";
        let mut body = Vec::new();
        for (name, value) in fields {
            body.extend_from_slice(
                format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n")
                    .as_bytes(),
            );
        }
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{filename}\"\r\n\
                 Content-Type: {content_type}\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(file);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        let mut req = self
            .http
            .post(format!("{}{path}", self.base))
            .header(
                "content-type",
                format!("multipart/form-data; boundary={boundary}"),
            )
            .body(body);
        if let Some(t) = &self.csrf {
            req = req.header("X-CSRF-Token", t);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status();
        let text = resp.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
    }

    async fn send(&self, req: reqwest::RequestBuilder) -> (StatusCode, Value) {
        let req = match &self.bearer {
            Some(t) => req.bearer_auth(t),
            None => req,
        };
        let resp = req.send().await.expect("request");
        let status = resp.status();
        let text = resp.text().await.expect("body");
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        (status, body)
    }

    fn unsafe_req(&self, req: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match &self.csrf {
            Some(t) => req.header("X-CSRF-Token", t),
            None => req,
        }
    }

    pub async fn get(&self, path: &str) -> (StatusCode, Value) {
        self.send(self.http.get(format!("{}{path}", self.base))).await
    }
    pub async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.send(self.unsafe_req(self.http.post(format!("{}{path}", self.base)).json(&body)))
            .await
    }
    pub async fn post_raw(&self, path: &str, body: &'static str) -> (StatusCode, Value) {
        let req = self
            .http
            .post(format!("{}{path}", self.base))
            .header("content-type", "application/json")
            .body(body);
        self.send(self.unsafe_req(req)).await
    }
    pub async fn patch(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.send(self.unsafe_req(self.http.patch(format!("{}{path}", self.base)).json(&body)))
            .await
    }
    pub async fn put(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.send(self.unsafe_req(self.http.put(format!("{}{path}", self.base)).json(&body)))
            .await
    }
    /// A POST that must succeed (any 2xx) or the test fails: its answer.
    pub async fn post_ok(&self, path: &str, body: Value) -> Value {
        let (s, b) = self.post(path, body).await;
        assert!(s.is_success(), "{path}: {s} {b}");
        b
    }
    /// A GET answered with a body that does not end (a stream): its status only.
    pub async fn status_only(&self, path: &str) -> StatusCode {
        let req = self.http.get(format!("{}{path}", self.base));
        let req = match &self.bearer {
            Some(t) => req.bearer_auth(t),
            None => req,
        };
        req.send().await.expect("request").status()
    }
    pub async fn delete(&self, path: &str) -> (StatusCode, Value) {
        self.send(self.unsafe_req(self.http.delete(format!("{}{path}", self.base))))
            .await
    }
    pub async fn page(&self, path: &str) -> (StatusCode, String) {
        let resp = self.raw_get(path).await;
        (resp.status(), resp.text().await.expect("body"))
    }
    /// A GET with this client's cookies, the response as it came (headers, streams, bytes).
    pub async fn raw_get(&self, path: &str) -> reqwest::Response {
        self.http
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .expect("request")
    }
}

/// A body a fixture builder is filling in (see `orgs::org`, `members::member`): any field set
/// with `with`, posted to `path` as it stands.
#[derive(Clone, Debug)]
pub struct Draft {
    path: &'static str,
    body: Value,
}

impl Draft {
    pub fn new(path: &'static str, body: Value) -> Self {
        Self { path, body }
    }
    /// Any field of the body.
    pub fn with(mut self, key: &str, value: Value) -> Self {
        self.body[key] = value;
        self
    }
    pub async fn post(&self, c: &Client) -> (StatusCode, Value) {
        c.post(self.path, self.body.clone()).await
    }
    /// Posts it as `c`: 201 or the test fails; the answer.
    pub async fn created(&self, c: &Client) -> Value {
        let (s, b) = self.post(c).await;
        assert_eq!(s, StatusCode::CREATED, "{}: {b}", self.path);
        b
    }
}

/// The number of audit rows, read straight from the database.
pub async fn audit_count(store: &Store) -> i64 {
    dangjian_store::with_db!(&store.db, p => sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM audit").fetch_one(p).await)
        .expect("count")
}

/// Runs raw SQL on the test database (to tamper with it as an attacker would).
pub async fn exec(store: &Store, sql: &'static str) {
    dangjian_store::with_db!(&store.db, p => sqlx::query(sql).execute(p).await.map(|_| ())).expect("exec");
}

/// The check every refusal makes: the status and the error code, with the body when they differ.
#[track_caller]
pub fn refused(status: StatusCode, body: &Value, want: impl Into<u16>, want_code: &str) {
    assert_eq!((status.as_u16(), code(body)), (want.into(), want_code), "{body}");
}

/// The same, and the field the error names.
#[track_caller]
pub fn refused_on(status: StatusCode, body: &Value, want: impl Into<u16>, want_code: &str, want_field: &str) {
    assert_eq!(
        (status.as_u16(), code(body), field(body)),
        (want.into(), want_code, want_field),
        "{body}"
    );
}

/// The items of a list answer (`{"items": [...]}`); none when it has no list.
pub fn items(list: &Value) -> &[Value] {
    entries(list, "items")
}

/// The entries of the list `value[list]` (`people`, `orgs`, `seats`, …); none when it has none.
pub fn entries<'a>(value: &'a Value, list: &str) -> &'a [Value] {
    value[list].as_array().map(Vec::as_slice).unwrap_or_default()
}

/// The first entry of `value[list]` whose `key` is `want`; `Null` when there is none (so the
/// checks on it fail, showing what is missing).
pub fn entry<'a, T>(value: &'a Value, list: &str, key: &str, want: T) -> &'a Value
where
    Value: PartialEq<T>,
{
    entries(value, list)
        .iter()
        .find(|e| e[key] == want)
        .unwrap_or(&Value::Null)
}

/// The number `key` of each entry of `value[list]` that has one, in order.
pub fn ids(value: &Value, list: &str, key: &str) -> Vec<i64> {
    entries(value, list)
        .iter()
        .filter_map(|e| e[key].as_i64())
        .collect()
}

/// The text `key` of each entry of `value[list]` that has one, in order.
pub fn strs<'a>(value: &'a Value, list: &str, key: &str) -> Vec<&'a str> {
    entries(value, list)
        .iter()
        .filter_map(|e| e[key].as_str())
        .collect()
}

/// Number fields of an answer, to compare several at once: `ints(&r, ["paid", "due"])`.
pub fn ints<const N: usize>(value: &Value, keys: [&str; N]) -> [Option<i64>; N] {
    keys.map(|k| value[k].as_i64())
}

/// The first item of a list answer whose `key` is `value`, or the test fails.
#[track_caller]
pub fn item_where<'a>(list: &'a Value, key: &str, value: &str) -> &'a Value {
    items(list)
        .iter()
        .find(|i| i[key] == value)
        .unwrap_or_else(|| panic!("no item with {key} = {value}: {list}"))
}

/// The error's message, "" when there is none.
pub fn message(body: &Value) -> &str {
    body["error"]["message"].as_str().unwrap_or("")
}

pub fn code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or("")
}
pub fn field(body: &Value) -> &str {
    body["error"]["field"].as_str().unwrap_or("")
}

/// Posts a page form with the session's CSRF token; returns status, Location and body.
pub async fn post_form(c: &Client, path: &str, fields: &[(&str, &str)]) -> (u16, String, String) {
    let csrf = c.csrf.clone().expect("a logged-in client");
    let mut form: Vec<(&str, &str)> = vec![("csrf_token", csrf.as_str())];
    form.extend_from_slice(fields);
    let resp = c
        .http
        .post(format!("{}{path}", c.base))
        .form(&form)
        .send()
        .await
        .expect("request");
    let status = resp.status().as_u16();
    let location = resp
        .headers()
        .get("location")
        .and_then(|l| l.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    (status, location, resp.text().await.expect("body"))
}

/// The id of a login, read straight from the database.
pub async fn user_id_of(store: &Store, username: &str) -> i64 {
    store
        .accounts()
        .user_by_name(username)
        .await
        .expect("read user")
        .unwrap_or_else(|| panic!("no login {username}"))
        .id
}

/// `n` more formal members of `org` (ID numbers and phones from `first_seq` on), straight into
/// the store; their ids.
pub async fn add_members(store: &Store, org: i64, n: u32, first_seq: u32) -> Vec<i64> {
    let people: Vec<NewPerson> = (first_seq..first_seq + n)
        .map(|seq| {
            let birth = date!(1970 - 01 - 01) + time::Duration::days(i64::from(seq));
            person(org, &format!("党员{seq}"), birth, seq, MemberStatus::Formal)
        })
        .collect();
    store
        .members()
        .create_people(&Scope::system(), &Actor::system("test"), &people)
        .await
        .expect("people")
}
