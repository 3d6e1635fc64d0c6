//! An acknowledged check-in is durable (API.md: "Answers come only after the event is durable"):
//! a real `dangjian serve` process is killed with SIGKILL in the middle of a burst of check-ins
//! and started again on the same database; every event it had answered 201 is there (its replay
//! is answered 200 with the same body).
#![expect(
    clippy::expect_used,
    reason = "test setup: a server that cannot start should stop the test at once"
)]

use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::{TestDb, on_postgres};

struct Server {
    child: Child,
    base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn start(data: &std::path::Path, db: Option<&str>) -> Server {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("durability test setup");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_dangjian"));
    cmd.args(["serve", "--demo", "--bind", &format!("127.0.0.1:{port}")])
        .arg("--data")
        .arg(data)
        .env_remove("DANGJIAN_DB")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    if let Some(db) = db {
        cmd.args(["--db", db]);
    }
    let server = Server {
        child: cmd.spawn().expect("durability test setup"),
        base: format!("http://127.0.0.1:{port}"),
    };
    let probe = reqwest::Client::new();
    for _ in 0..600 {
        if let Ok(r) = probe.get(format!("{}/healthz", server.base)).send().await
            && r.status().is_success()
        {
            return server;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the server did not come up");
}

/// The demo's admin logged in over plain HTTP (this server is a process of its own, not a
/// `TestApp`).
#[derive(Clone)]
struct Admin {
    http: reqwest::Client,
    csrf: String,
    base: String,
}

async fn admin(base: &str) -> Admin {
    let http = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .expect("durability test setup");
    let me: Value = http
        .post(format!("{base}/api/v1/login"))
        .json(&json!({"username": "admin", "password": "demo1234"}))
        .send()
        .await
        .expect("durability test setup")
        .json()
        .await
        .expect("durability test setup");
    let csrf = me["csrf_token"]
        .as_str()
        .expect("durability test setup")
        .to_owned();
    Admin {
        http,
        csrf,
        base: base.to_owned(),
    }
}

impl Admin {
    async fn get(&self, path: &str) -> Value {
        let r = self.http.get(format!("{}{path}", self.base)).send().await;
        let r = r.expect("durability test: the server answers");
        r.json().await.expect("durability test: a JSON answer")
    }

    async fn post(&self, path: &str, body: &Value) -> reqwest::Result<reqwest::Response> {
        let r = self.http.post(format!("{}{path}", self.base));
        r.header("x-csrf-token", &self.csrf).json(body).send().await
    }
}

fn body(k: usize, person: i64) -> Value {
    json!({"event_id": format!("burst-{k}"), "person_id": person, "method": "card", "direction": "in"})
}

#[tokio::test]
async fn every_acknowledged_check_in_survives_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    let pg = if on_postgres() {
        Some(TestDb::postgres().await)
    } else {
        None
    };
    let url = url_of(&pg);
    let server = start(dir.path(), url.as_deref()).await;
    let c = admin(&server.base).await;
    let me = c.get("/api/v1/me").await;
    let root = me["grants"][0]["org_id"].as_i64().unwrap();
    let now = dangjian_store::Clock::now_utc(&dangjian_store::SystemClock);
    let fmt = &time::format_description::well_known::Rfc3339;
    let m = json!({"org_id": root, "kind": "branch_congress", "title": "党员大会",
                   "starts_at": (now - time::Duration::minutes(5)).format(fmt).unwrap(),
                   "ends_at": (now + time::Duration::hours(2)).format(fmt).unwrap()});
    let m: Value = c
        .post("/api/v1/meetings", &m)
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let meeting = m["id"].as_i64().unwrap();
    let people = c
        .get(&format!(
            "/api/v1/members?org={root}&subtree=true&status=formal,probationary&limit=500"
        ))
        .await;
    let people: Arc<Vec<i64>> = Arc::new(
        people["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|p| p["id"].as_i64())
            .collect(),
    );
    assert!(people.len() > 100, "the demo tree has people");

    // 16 writers post one event per person until the server dies under them
    let acked: Arc<Mutex<Vec<(usize, Value)>>> = Arc::default();
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let path = format!("/api/v1/meetings/{meeting}/checkins");
    let mut tasks = Vec::new();
    for _ in 0..16 {
        let (c, path, people, acked, next) = (
            c.clone(),
            path.clone(),
            people.clone(),
            acked.clone(),
            next.clone(),
        );
        tasks.push(tokio::spawn(async move {
            loop {
                let k = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if k >= people.len() {
                    return;
                }
                let r = c.post(&path, &body(k, people[k])).await;
                match r {
                    Ok(r) if r.status() == 201 => {
                        let answer: Value = r.json().await.unwrap_or_default();
                        acked.lock().unwrap().push((k, answer));
                    }
                    Ok(r) => panic!("unexpected answer {}", r.status()),
                    Err(_) => return, // the server is gone
                }
            }
        }));
    }
    // kill once a good part of the burst is answered, with the rest in flight
    for _ in 0..200 {
        if acked.lock().unwrap().len() >= people.len() / 4 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let mut server = server;
    server.child.kill().unwrap(); // SIGKILL
    server.child.wait().unwrap();
    for t in tasks {
        let _ = t.await;
    }
    let acked = acked.lock().unwrap().clone();
    assert!(!acked.is_empty(), "some check-ins were answered before the kill");
    assert!(
        acked.len() < people.len(),
        "the kill came in the middle of the burst"
    );

    let server = start(dir.path(), url.as_deref()).await;
    let c = admin(&server.base).await;
    for (k, answer) in &acked {
        let r = c.post(&path, &body(*k, people[*k])).await.unwrap();
        assert_eq!(
            r.status(),
            200,
            "event burst-{k} was acknowledged, so it is stored: a replay"
        );
        let again: Value = r.json().await.unwrap();
        assert_eq!(&again, answer, "the replay answers what the first post did");
    }
    let att = c.get(&format!("/api/v1/meetings/{meeting}/attendance")).await;
    assert!(
        att["present"].as_u64().unwrap() >= acked.len() as u64,
        "{}",
        att["present"]
    );
}

fn url_of(pg: &Option<TestDb>) -> Option<String> {
    pg.as_ref().map(|d| match &d.target {
        dangjian_store::DbTarget::Postgres(u) => u.clone(),
        other => panic!("{other:?}"),
    })
}
