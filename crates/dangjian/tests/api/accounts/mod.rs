//! Logins through the API and the pages: a fixture builder for new logins, typed helpers for the
//! account requests tests make, and the tests: logins and grants, the admin pages, tokens, login
//! limits, sessions.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{Client, TestApp, items};

mod admin_pages;
mod auth;
mod login_limits;
mod logins;
mod tokens;

/// A login the admin makes through the API: `new_login(username)` has no member record and no
/// grant; `for_member` and `grant` add them, `create(&app)` posts it (asserting 201).
#[derive(Clone, Debug)]
pub struct NewLogin {
    username: String,
    person: Option<i64>,
    grants: Vec<Value>,
}

/// A login made by [`NewLogin::create`]: its id and initial password.
#[derive(Clone, Debug)]
pub struct MadeLogin {
    pub id: i64,
    pub password: String,
}

pub fn new_login(username: &str) -> NewLogin {
    NewLogin {
        username: username.into(),
        person: None,
        grants: Vec::new(),
    }
}

impl NewLogin {
    pub fn for_member(mut self, person: i64) -> Self {
        self.person = Some(person);
        self
    }
    /// A grant of `role` (`member`, `staff`, `secretary`, `org_admin`, …) on `org`'s subtree.
    pub fn grant(mut self, role: &str, org: i64) -> Self {
        self.grants.push(json!({"role": role, "org_id": org}));
        self
    }
    pub async fn create(&self, app: &TestApp) -> MadeLogin {
        let admin = app.login("admin").await;
        let body = json!({"username": self.username, "person_id": self.person, "grants": self.grants});
        let (s, b) = admin.post("/api/v1/users", body).await;
        assert_eq!(s, StatusCode::CREATED, "{b}");
        MadeLogin {
            id: b["id"].as_i64().unwrap_or_else(|| panic!("no id: {b}")),
            password: b["initial_password"]
                .as_str()
                .unwrap_or_else(|| panic!("no password: {b}"))
                .to_owned(),
        }
    }
}

/// Logs in with the initial password, sets a password of one's own, and logs in with it.
pub async fn set_own_password(app: &TestApp, name: &str, initial: &str) -> Client {
    let c = app.login_with(name, initial).await;
    let (s, _) = c.change_password(initial, "mine12345").await;
    assert_eq!(s, 200);
    app.login_with(name, "mine12345").await
}

impl Client {
    /// The id of a login this client lists in `/api/v1/users`, or the test fails.
    pub async fn user_id(&self, username: &str) -> i64 {
        let (_, users) = self.get("/api/v1/users?limit=500").await;
        items(&users)
            .iter()
            .find(|u| u["username"] == username)
            .and_then(|u| u["id"].as_i64())
            .unwrap_or_else(|| panic!("no login {username}: {users}"))
    }
    /// `POST /api/v1/users/{id}/{action}` (`reset-password`, `disable`, `enable`) with no body.
    pub async fn on_login(&self, id: impl std::fmt::Display, action: &str) -> (StatusCode, Value) {
        self.post(&format!("/api/v1/users/{id}/{action}"), json!({}))
            .await
    }
    /// Grants `role` on `org` to login `id`.
    pub async fn grant(&self, id: impl std::fmt::Display, role: &str, org: i64) -> (StatusCode, Value) {
        let body = json!({"role": role, "org_id": org});
        self.post(&format!("/api/v1/users/{id}/grants"), body).await
    }
    /// Logins for the members of `org`'s subtree that have none (`POST /orgs/{id}/accounts`).
    pub async fn bulk_accounts(&self, org: i64) -> (StatusCode, Value) {
        self.post(&format!("/api/v1/orgs/{org}/accounts"), json!({}))
            .await
    }
    /// `POST /api/v1/login` with a username and a password: status and answer (the session is
    /// kept by this client's cookies).
    pub async fn try_login(&self, username: &str, password: &str) -> (StatusCode, Value) {
        self.post(
            "/api/v1/login",
            json!({"username": username, "password": password}),
        )
        .await
    }
    /// `POST /api/v1/password` as this client.
    pub async fn change_password(&self, old: &str, new: &str) -> (StatusCode, Value) {
        let body = json!({"old_password": old, "new_password": new});
        self.post("/api/v1/password", body).await
    }
}
