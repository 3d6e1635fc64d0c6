//! Members through the API: a fixture builder for new member records, typed helpers for the
//! member requests tests make, and the tests: records, moves, the roster files, privacy.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{Client, Draft};

mod events;
mod moves;
mod privacy;
mod records;
pub mod roster;

/// A member record to create: `member(org, id_number)` is 赵六, a formal in-service member who
/// joined on 2018-06-30; `with` changes one field, `post(&c)` answers what the server said,
/// `created(&c)` asserts 201 and answers the record.
pub fn member(org: i64, id_number: &str) -> Draft {
    Draft::new(
        "/api/v1/members",
        json!({"org_id": org, "name": "赵六", "id_number": id_number, "status": "formal",
               "joined_on": "2018-06-30", "regularized_on": "2019-06-30", "phone": "13912345678",
               "category": "in_service", "ethnicity": "汉族"}),
    )
}

impl Client {
    /// `GET /api/v1/members/{id}` as this client: status and record.
    pub async fn get_member(&self, id: impl std::fmt::Display) -> (StatusCode, Value) {
        self.get(&format!("/api/v1/members/{id}")).await
    }
    pub async fn patch_member(&self, id: impl std::fmt::Display, body: Value) -> (StatusCode, Value) {
        self.patch(&format!("/api/v1/members/{id}"), body).await
    }
    /// Records a status event (`{"kind": …, "date": …}`) of a member.
    pub async fn member_event(&self, id: i64, body: Value) -> (StatusCode, Value) {
        self.post(&format!("/api/v1/members/{id}/events"), body).await
    }
    /// `GET /api/v1/members?{query}`: the list answer.
    pub async fn members_where(&self, query: &str) -> Value {
        let (s, b) = self.get(&format!("/api/v1/members?{query}")).await;
        assert_eq!(s, StatusCode::OK, "{query}: {b}");
        b
    }
}
