//! Organizations through the API: a fixture builder for new orgs, typed helpers for the org
//! requests tests make, and the tests.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{Client, Draft, items};

mod settings;
mod structure;

/// An org to create: `org(parent)` is a regular 党支部 named 新党支部; each setter changes one
/// thing, `create(&c)` posts it (asserting 201) and answers its id, `post(&c)` answers what the
/// server said.
#[derive(Clone, Debug)]
pub struct NewOrg(Draft);

pub fn org(parent: i64) -> NewOrg {
    NewOrg(Draft::new(
        "/api/v1/orgs",
        json!({"parent_id": parent, "name": "新党支部", "kind": "branch"}),
    ))
}

impl NewOrg {
    pub fn named(self, name: &str) -> Self {
        self.with("name", json!(name))
    }
    pub fn kind(self, kind: &str) -> Self {
        self.with("kind", json!(kind))
    }
    pub fn branch_type(self, branch_type: &str) -> Self {
        self.with("branch_type", json!(branch_type))
    }
    /// Past the warnings that need a confirmation.
    pub fn confirmed(self) -> Self {
        self.with("confirm", json!(true))
    }
    /// Any other field of the body.
    pub fn with(self, key: &str, value: Value) -> Self {
        Self(self.0.with(key, value))
    }
    pub async fn post(&self, c: &Client) -> (StatusCode, Value) {
        self.0.post(c).await
    }
    /// Creates it as `c`: 201 or the test fails; its answer.
    pub async fn create_view(&self, c: &Client) -> Value {
        self.0.created(c).await
    }
    /// Creates it as `c`: 201 or the test fails; its id.
    pub async fn create(&self, c: &Client) -> i64 {
        let b = self.create_view(c).await;
        b["id"].as_i64().unwrap_or_else(|| panic!("no id: {b}"))
    }
}

impl Client {
    /// `GET /api/v1/orgs/{id}`: 200 or the test fails.
    pub async fn get_org(&self, id: i64) -> Value {
        let (s, o) = self.get(&format!("/api/v1/orgs/{id}")).await;
        assert_eq!(s, StatusCode::OK, "org {id}: {o}");
        o
    }
    pub async fn patch_org(&self, id: impl std::fmt::Display, body: Value) -> (StatusCode, Value) {
        self.patch(&format!("/api/v1/orgs/{id}"), body).await
    }
    /// The first change of `kind` (`rename`, `move`, `new_term`) in an org's history, or the
    /// test fails.
    pub async fn org_change(&self, id: i64, kind: &str) -> Value {
        let (_, history) = self.get(&format!("/api/v1/orgs/{id}/history")).await;
        crate::helpers::item_where(&history, "change", kind).clone()
    }
    /// The codes of an org's warnings.
    pub async fn warning_codes(&self, id: i64) -> Vec<String> {
        let (_, w) = self.get(&format!("/api/v1/orgs/{id}/warnings")).await;
        items(&w)
            .iter()
            .map(|i| {
                i["code"]
                    .as_str()
                    .unwrap_or_else(|| panic!("a warning without a code: {w}"))
                    .to_owned()
            })
            .collect()
    }
    /// Appoints `person` to `post` in `org`'s committee (`?confirm=true` past the warnings).
    pub async fn appoint(&self, org: i64, person: i64, post: &str, confirm: bool) -> (StatusCode, Value) {
        let query = if confirm { "?confirm=true" } else { "" };
        let body = json!({"person_id": person, "post": post});
        self.post(&format!("/api/v1/orgs/{org}/posts{query}"), body).await
    }
    /// The committee posts of `org`.
    pub async fn posts_of(&self, org: i64) -> Value {
        self.get(&format!("/api/v1/orgs/{org}/posts")).await.1
    }
}
