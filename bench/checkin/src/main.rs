//! bench/checkin: check-ins per second against a real `dangjian serve` (SQLite and PostgreSQL),
//! with, in the same run and against the same server and database, a hello-world endpoint and a
//! raw batched insert of the same rows (the disk's ceiling). See BENCHMARKS.md.
//!
//! What it does per engine: starts `dangjian serve --demo` on a fresh database, logs in as the
//! demo admin, registers an RFID gate (bearer token), plans one meeting of the whole demo tree
//! per concurrency level, and posts check-ins (person_id, alternating in/out) from C tasks for a
//! few seconds; then the same with `GET /healthz`; then the raw inserts at batch size C.

#[path = "../../shared.rs"]
mod shared;

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::Parser;
use serde_json::{Value, json};

#[derive(Parser, Debug)]
#[command(about = "Check-in load generator (issue 5): events/s, latency, CPU per event")]
struct Args {
    /// The server binary (build it first: cargo build --release).
    #[arg(long, default_value = "target/release/dangjian")]
    server: PathBuf,
    /// Also run on PostgreSQL: a URL of a database to create bench databases from.
    #[arg(long)]
    pg: Option<String>,
    /// Skip SQLite.
    #[arg(long)]
    no_sqlite: bool,
    /// Seconds of load per concurrency level.
    #[arg(long, default_value_t = 5.0)]
    seconds: f64,
    #[arg(long, value_delimiter = ',', default_value = "1,16,64,256")]
    concurrency: Vec<usize>,
    /// Write the results into BENCHMARKS.md (between the check-in markers).
    #[arg(long)]
    write: Option<PathBuf>,
}

struct Server {
    child: Child,
    base: String,
    pid: u32,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

async fn start(args: &Args, data: &std::path::Path, db: Option<&str>) -> anyhow::Result<Server> {
    let port = free_port()?;
    let mut cmd = Command::new(&args.server);
    cmd.args(["serve", "--demo", "--bind", &format!("127.0.0.1:{port}")])
        .arg("--data")
        .arg(data)
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    if let Some(db) = db {
        cmd.args(["--db", db]);
    }
    let child = cmd
        .spawn()
        .with_context(|| format!("starting {}", args.server.display()))?;
    let pid = child.id();
    let server = Server {
        child,
        base: format!("http://127.0.0.1:{port}"),
        pid,
    };
    let probe = reqwest::Client::new();
    for _ in 0..600 {
        if let Ok(r) = probe.get(format!("{}/healthz", server.base)).send().await
            && r.status().is_success()
        {
            return Ok(server);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    bail!("the server did not come up")
}

/// utime + stime of a process, in seconds.
fn cpu_seconds(pid: u32) -> f64 {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return 0.0;
    };
    let after = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|s| s.parse::<f64>().ok()).unwrap_or(0.0);
    // fields after ")" start at state (3rd field): utime is the 14th field, stime the 15th
    (ticks(11) + ticks(12)) / 100.0
}

struct Setup {
    admin: reqwest::Client,
    csrf: String,
    device: reqwest::Client,
    root: i64,
    people: Vec<i64>,
}

async fn setup(base: &str) -> anyhow::Result<Setup> {
    let admin = reqwest::Client::builder().cookie_store(true).build()?;
    let me: Value = admin
        .post(format!("{base}/api/v1/login"))
        .json(&json!({"username": "admin", "password": "demo1234"}))
        .send()
        .await?
        .json()
        .await?;
    let csrf = me["csrf_token"].as_str().context("login")?.to_owned();
    let me: Value = admin
        .get(format!("{base}/api/v1/me"))
        .send()
        .await?
        .json()
        .await?;
    let root = me["grants"][0]["org_id"].as_i64().context("admin grant")?;
    let dev: Value = admin
        .post(format!("{base}/api/v1/devices"))
        .header("x-csrf-token", &csrf)
        .json(&json!({"name": "bench gate", "kind": "rfid_gate", "org_id": root}))
        .send()
        .await?
        .json()
        .await?;
    let token = dev["token"].as_str().context("device token")?;
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(reqwest::header::AUTHORIZATION, format!("Bearer {token}").parse()?);
    let device = reqwest::Client::builder()
        .default_headers(headers)
        .pool_max_idle_per_host(512)
        .build()?;
    let mut people = Vec::new();
    loop {
        let page: Value = admin
            .get(format!(
                "{base}/api/v1/members?org={root}&subtree=true&status=formal,probationary&limit=500&offset={}",
                people.len()
            ))
            .send()
            .await?
            .json()
            .await?;
        let items = page["items"].as_array().context("members")?;
        if items.is_empty() {
            break;
        }
        people.extend(items.iter().filter_map(|m| m["id"].as_i64()));
    }
    Ok(Setup {
        admin,
        csrf,
        device,
        root,
        people,
    })
}

async fn new_meeting(base: &str, s: &Setup, title: &str) -> anyhow::Result<i64> {
    let now = dangjian_store::Clock::now_utc(&dangjian_store::SystemClock);
    let fmt = &time::format_description::well_known::Rfc3339;
    let m: Value = s
        .admin
        .post(format!("{base}/api/v1/meetings"))
        .header("x-csrf-token", &s.csrf)
        .json(&json!({
            "org_id": s.root, "kind": "branch_congress", "title": title,
            "starts_at": (now - time::Duration::minutes(10)).format(fmt)?,
            "ends_at": (now + time::Duration::hours(3)).format(fmt)?, "venue": "礼堂",
        }))
        .send()
        .await?
        .json()
        .await?;
    m["id"].as_i64().context("meeting id")
}

#[derive(Default, Clone)]
struct Figures {
    n: u64,
    errors: u64,
    secs: f64,
    p50_ms: f64,
    p99_ms: f64,
    cpu_ms_per: f64,
}

fn figures(mut lat: Vec<Duration>, errors: u64, secs: f64, cpu: f64) -> Figures {
    lat.sort_unstable();
    let pct = |p: f64| {
        lat.get(((lat.len() as f64 * p) as usize).min(lat.len().saturating_sub(1)))
            .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
    };
    let n = lat.len() as u64;
    Figures {
        n,
        errors,
        secs,
        p50_ms: pct(0.50),
        p99_ms: pct(0.99),
        cpu_ms_per: if n > 0 { cpu * 1000.0 / n as f64 } else { 0.0 },
    }
}

impl Figures {
    fn rate(&self) -> f64 {
        self.n as f64 / self.secs
    }
}

/// Posts check-ins from `c` tasks for `secs`; `sent` (when given) records each event's send time.
async fn load_checkins(
    server: &Server,
    s: &Setup,
    meetings: &[i64],
    c: usize,
    secs: f64,
    sent: Option<Arc<Mutex<HashMap<String, Instant>>>>,
    prefix: &'static str,
) -> Figures {
    let next = Arc::new(AtomicU64::new(0));
    let people = Arc::new(s.people.clone());
    let meetings = Arc::new(meetings.to_vec());
    let cpu0 = cpu_seconds(server.pid);
    let start = Instant::now();
    let deadline = start + Duration::from_secs_f64(secs);
    let mut tasks = Vec::new();
    for _ in 0..c {
        let (client, next, people, sent, meetings) = (
            s.device.clone(),
            next.clone(),
            people.clone(),
            sent.clone(),
            meetings.clone(),
        );
        let base = server.base.clone();
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            let mut errors = 0u64;
            while Instant::now() < deadline {
                let k = next.fetch_add(1, Ordering::Relaxed);
                let n = people.len() as u64;
                // like a door: each person in, then out, at one meeting after the other
                let person = people[(k % n) as usize];
                let direction = if (k / n).is_multiple_of(2) { "in" } else { "out" };
                let meeting = meetings[((k / (2 * n)) as usize) % meetings.len()];
                let url = format!("{base}/api/v1/meetings/{meeting}/checkins");
                let event_id = format!("{prefix}-{k}");
                let t = Instant::now();
                if let Some(sent) = &sent
                    && let Ok(mut m) = sent.lock()
                {
                    m.insert(event_id.clone(), t);
                }
                let r = client
                    .post(&url)
                    .json(&json!({"event_id": event_id, "person_id": person, "method": "card", "direction": direction}))
                    .send()
                    .await;
                match r {
                    Ok(r) if r.status() == 201 => lat.push(t.elapsed()),
                    _ => errors += 1,
                }
            }
            (lat, errors)
        }));
    }
    collect(tasks, start, server, cpu0).await
}

/// Waits for the load tasks and sums what they measured: the figures of the run since `start`
/// (the server's CPU time since `cpu0`).
async fn collect(
    tasks: Vec<tokio::task::JoinHandle<(Vec<Duration>, u64)>>,
    start: Instant,
    server: &Server,
    cpu0: f64,
) -> Figures {
    let mut lat = Vec::new();
    let mut errors = 0;
    for t in tasks {
        if let Ok((l, e)) = t.await {
            lat.extend(l);
            errors += e;
        }
    }
    let secs = start.elapsed().as_secs_f64();
    figures(lat, errors, secs, cpu_seconds(server.pid) - cpu0)
}

async fn load_hello(server: &Server, c: usize, secs: f64) -> Figures {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(512)
        .build()
        .unwrap_or_default();
    let cpu0 = cpu_seconds(server.pid);
    let start = Instant::now();
    let deadline = start + Duration::from_secs_f64(secs);
    let url = format!("{}/healthz", server.base);
    let mut tasks = Vec::new();
    for _ in 0..c {
        let (client, url) = (client.clone(), url.clone());
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            let mut errors = 0u64;
            while Instant::now() < deadline {
                let t = Instant::now();
                match client.get(&url).send().await {
                    Ok(r) if r.status().is_success() => lat.push(t.elapsed()),
                    _ => errors += 1,
                }
            }
            (lat, errors)
        }));
    }
    collect(tasks, start, server, cpu0).await
}

/// Reads the attendance every 20 ms while the load runs; latencies of the reads.
async fn read_attendance(
    base: String,
    admin: reqwest::Client,
    meeting: i64,
    until: Instant,
) -> Vec<Duration> {
    let mut lat = Vec::new();
    while Instant::now() < until {
        let t = Instant::now();
        if let Ok(r) = admin
            .get(format!("{base}/api/v1/meetings/{meeting}/attendance"))
            .send()
            .await
            && r.status().is_success()
            && r.bytes().await.is_ok()
        {
            lat.push(t.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    lat
}

/// Follows the meeting's stream; for each event, the time from its request being sent.
async fn follow_stream(
    base: String,
    admin: reqwest::Client,
    meeting: i64,
    sent: Arc<Mutex<HashMap<String, Instant>>>,
    until: Instant,
) -> Vec<Duration> {
    let mut lat = Vec::new();
    let Ok(mut r) = admin
        .get(format!("{base}/api/v1/meetings/{meeting}/stream"))
        .send()
        .await
    else {
        return lat;
    };
    let mut buf = String::new();
    loop {
        let left = until.saturating_duration_since(Instant::now()) + Duration::from_millis(500);
        let Ok(Ok(Some(chunk))) = tokio::time::timeout(left, r.chunk()).await else {
            break;
        };
        let now = Instant::now();
        buf.push_str(&String::from_utf8_lossy(&chunk));
        while let Some(i) = buf.find('\n') {
            let line: String = buf.drain(..=i).collect();
            if let Some(data) = line.strip_prefix("data:")
                && let Ok(v) = serde_json::from_str::<Value>(data.trim())
                && let Some(id) = v["event_id"].as_str()
                && let Ok(m) = sent.lock()
                && let Some(t) = m.get(id)
            {
                lat.push(now.duration_since(*t));
            }
        }
    }
    lat
}

/// Raw multi-row INSERTs of the same rows into the same table, `batch` rows a transaction, for
/// `secs`: what the disk allows at that batch size.
async fn raw_inserts(
    db: &dangjian_store::Db,
    meeting: i64,
    batch: usize,
    secs: f64,
) -> anyhow::Result<Figures> {
    let start = Instant::now();
    let deadline = start + Duration::from_secs_f64(secs);
    let mut n = 0u64;
    let mut lat = Vec::new();
    let now = dangjian_store::Clock::now_utc(&dangjian_store::SystemClock);
    while Instant::now() < deadline {
        let t = Instant::now();
        // the raw insert baseline: no audit row on purpose
        let mut tx = db.begin_unaudited("bench: the raw insert baseline").await?;
        for chunk_start in (0..batch).step_by(32) {
            let rows = (batch - chunk_start).min(32);
            let mut sql = String::from(
                "INSERT INTO checkin_event (meeting_id, event_id, body_hash, person_id, card_uid, method, direction, \
                 device_at, received_at, reason, recorded_by, answer_json) VALUES ",
            );
            for k in 0..rows {
                let b = k * 5;
                if k > 0 {
                    sql.push_str(", ");
                }
                sql.push_str(&format!(
                    "(${}, ${}, 'h', NULL, NULL, 'card', 'in', ${}, ${}, NULL, NULL, ${})",
                    b + 1,
                    b + 2,
                    b + 3,
                    b + 4,
                    b + 5
                ));
            }
            dangjian_store::with_tx!(tx, c => {
                let mut q = sqlx::query(sqlx::AssertSqlSafe(sql.clone()));
                for k in 0..rows {
                    q = q
                        .bind(meeting)
                        .bind(format!("raw-{}", n + k as u64))
                        .bind(now)
                        .bind(now)
                        .bind(r#"{"state":"present"}"#);
                }
                q.execute(c).await?;
            });
            n += rows as u64;
        }
        tx.commit().await?;
        lat.push(t.elapsed());
    }
    let secs = start.elapsed().as_secs_f64();
    let mut f = figures(lat, 0, secs, 0.0);
    f.n = n;
    Ok(f)
}

/// Meetings planned per concurrency level; events go round them, two per person each.
const MEETINGS_PER_LEVEL: usize = 60;

struct Level {
    c: usize,
    checkin: Figures,
    hello: Figures,
    raw: Figures,
    attendance: Option<Figures>,
    stream: Option<Figures>,
}

async fn run_engine(args: &Args, engine: &str, pg_db: Option<&str>) -> anyhow::Result<(Vec<Level>, usize)> {
    let dir = tempfile::tempdir()?;
    let server = start(args, dir.path(), pg_db).await?;
    let s = setup(&server.base).await?;
    eprintln!("{engine}: {} people expected per meeting", s.people.len());
    let target = match pg_db {
        Some(url) => dangjian_store::DbTarget::parse(url)?,
        None => dangjian_store::DbTarget::SqliteFile(dir.path().join("dangjian.db")),
    };
    let raw_db = dangjian_store::Db::connect(&target).await?;
    let mut levels = Vec::new();
    for &c in &args.concurrency {
        // enough meetings for two events per person each at the expected rate
        let mut meetings = Vec::new();
        for i in 0..MEETINGS_PER_LEVEL {
            meetings.push(new_meeting(&server.base, &s, &format!("压测 c={c} #{i}")).await?);
        }
        let watched = meetings[0];
        let watch = c == 64 || args.concurrency.len() == 1;
        let (checkin, attendance, stream) = if watch {
            let sent = Arc::new(Mutex::new(HashMap::new()));
            let until = Instant::now() + Duration::from_secs_f64(args.seconds);
            let reader = tokio::spawn(read_attendance(
                server.base.clone(),
                s.admin.clone(),
                watched,
                until,
            ));
            let follower = tokio::spawn(follow_stream(
                server.base.clone(),
                s.admin.clone(),
                watched,
                sent.clone(),
                until,
            ));
            tokio::time::sleep(Duration::from_millis(200)).await;
            let f = load_checkins(&server, &s, &meetings, c, args.seconds, Some(sent), "run").await;
            let att = reader.await.unwrap_or_default();
            let st = follower.await.unwrap_or_default();
            (
                f,
                Some(figures(att, 0, args.seconds, 0.0)),
                Some(figures(st, 0, args.seconds, 0.0)),
            )
        } else {
            (
                load_checkins(&server, &s, &meetings, c, args.seconds, None, "run").await,
                None,
                None,
            )
        };
        let hello = load_hello(&server, c, args.seconds / 2.0).await;
        let raw = raw_inserts(&raw_db, watched, c, args.seconds / 2.0).await?;
        eprintln!(
            "{engine} c={c}: {:.0} check-ins/s (p50 {:.2} ms, p99 {:.2} ms, {} errors, {:.3} ms CPU each); \
             hello {:.0}/s; raw batched insert {:.0} rows/s",
            checkin.rate(),
            checkin.p50_ms,
            checkin.p99_ms,
            checkin.errors,
            checkin.cpu_ms_per,
            hello.rate(),
            raw.rate()
        );
        levels.push(Level {
            c,
            checkin,
            hello,
            raw,
            attendance,
            stream,
        });
    }
    raw_db.close().await;
    Ok((levels, s.people.len()))
}

fn table(engine: &str, people: usize, levels: &[Level]) -> String {
    let mut out = format!(
        "\n**{engine}** ({people} people expected per meeting; each person in, then out, at one meeting after the other; 60 meetings per level)\n\n\
         | c | check-ins/s | p50 | p99 | errors | server CPU / check-in | hello-world req/s (p99, server CPU / req) | raw batched insert rows/s (batch = c) | check-ins ÷ raw | check-ins ÷ hello |\n\
         |---|---|---|---|---|---|---|---|---|---|\n"
    );
    for l in levels {
        out.push_str(&format!(
            "| {} | {:.0} | {:.2} ms | {:.2} ms | {} | {:.3} ms | {:.0} ({:.2} ms, {:.3} ms) | {:.0} | {:.2} | {:.2} |\n",
            l.c,
            l.checkin.rate(),
            l.checkin.p50_ms,
            l.checkin.p99_ms,
            l.checkin.errors,
            l.checkin.cpu_ms_per,
            l.hello.rate(),
            l.hello.p99_ms,
            l.hello.cpu_ms_per,
            l.raw.rate(),
            l.checkin.rate() / l.raw.rate().max(1.0),
            l.checkin.rate() / l.hello.rate().max(1.0),
        ));
    }
    for l in levels {
        if let (Some(a), Some(s)) = (&l.attendance, &l.stream) {
            out.push_str(&format!(
                "\nDuring the c={} burst: attendance reads ({} of them, every 20 ms) p50 {:.1} ms, p99 {:.1} ms; \
                 stream: {} events seen, request-sent → SSE-received p50 {:.1} ms, p99 {:.1} ms \
                 (an upper bound of commit → SSE: it includes the queue and the commit).\n",
                l.c, a.n, a.p50_ms, a.p99_ms, s.n, s.p50_ms, s.p99_ms
            ));
        }
    }
    out
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let mut report = String::new();
    if !args.no_sqlite {
        let (levels, people) = run_engine(&args, "SQLite", None).await?;
        report.push_str(&table("SQLite (WAL, synchronous=FULL)", people, &levels));
    }
    if let Some(pg) = &args.pg {
        let (levels, people) = shared::on_scratch_db(pg, "dangjian_bench", async |url| {
            run_engine(&args, "PostgreSQL", Some(&url)).await
        })
        .await?;
        report.push_str(&table("PostgreSQL", people, &levels));
    }
    println!("{report}");
    if let Some(path) = &args.write {
        shared::write_results(path, "checkin", &report)?;
    }
    Ok(())
}
