//! The permission matrix: every endpoint, as each role, on a target inside the caller's branch
//! (branch A) and outside it (branch B). Outside the subtree is 404 — in lists too; a role
//! without the capability is 403 before the body is looked at; no login is 401.

use serde_json::{Value, json};

use crate::helpers::{TestApp, Tree, id_number};

#[derive(Clone, Copy)]
pub enum Body {
    None,
    PatchOrg,
    NewGroup,
    Post,
    PatchMember,
    BadEvent,
    NewMember,
    Grant,
    NewUser,
}

/// (method, OpenAPI path, concrete path template, body, expected status for
/// [admin in, admin out, sec in, sec out, staff in, staff out, mem in, mem out]).
/// Templates: {org} the target org, {person} a member of it (never the caller's own record),
/// {user} a login whose member record is in it (`secb` for branch B, a fresh one for branch A),
/// {token} a fresh bearer token of that login, {job} a bulk-accounts job the admin started (the
/// same one inside and outside: a job is its starter's alone).
pub type Endpoint = (&'static str, &'static str, &'static str, Body, [u16; 8]);

#[rustfmt::skip]
pub const ENDPOINTS: &[Endpoint] = &[
    ("GET", "/api/v1/orgs/{id}", "/api/v1/orgs/{org}", Body::None, [200, 200, 200, 404, 200, 404, 200, 404]),
    ("GET", "/api/v1/orgs/{id}/children", "/api/v1/orgs/{org}/children", Body::None, [200, 200, 200, 404, 200, 404, 200, 404]),
    ("GET", "/api/v1/orgs/{id}/tree", "/api/v1/orgs/{org}/tree", Body::None, [200, 200, 200, 404, 200, 404, 200, 404]),
    ("GET", "/api/v1/orgs/{id}/history", "/api/v1/orgs/{org}/history", Body::None, [200, 200, 200, 404, 200, 404, 200, 404]),
    ("GET", "/api/v1/orgs/{id}/warnings", "/api/v1/orgs/{org}/warnings", Body::None, [200, 200, 200, 404, 200, 404, 200, 404]),
    ("GET", "/api/v1/orgs/{id}/posts", "/api/v1/orgs/{org}/posts", Body::None, [200, 200, 200, 404, 200, 404, 200, 404]),
    ("PATCH", "/api/v1/orgs/{id}", "/api/v1/orgs/{org}", Body::PatchOrg, [200, 200, 200, 404, 403, 403, 403, 403]),
    ("POST", "/api/v1/orgs", "/api/v1/orgs", Body::NewGroup, [201, 201, 201, 404, 403, 403, 403, 403]),
    ("POST", "/api/v1/orgs/{id}/posts", "/api/v1/orgs/{org}/posts", Body::Post, [201, 201, 201, 404, 403, 403, 403, 403]),
    ("POST", "/api/v1/orgs/{id}/accounts", "/api/v1/orgs/{org}/accounts", Body::None, [201, 201, 201, 404, 403, 403, 403, 403]),
    ("GET", "/api/v1/members", "/api/v1/members?org={org}&subtree=true", Body::None, [200, 200, 200, 404, 200, 404, 404, 404]),
    ("GET", "/api/v1/members/{id}", "/api/v1/members/{person}", Body::None, [200, 200, 200, 404, 200, 404, 404, 404]),
    ("GET", "/api/v1/members/{id}/events", "/api/v1/members/{person}/events", Body::None, [200, 200, 200, 404, 200, 404, 404, 404]),
    ("PATCH", "/api/v1/members/{id}", "/api/v1/members/{person}", Body::PatchMember, [200, 200, 200, 404, 403, 403, 403, 403]),
    ("POST", "/api/v1/members/{id}/events", "/api/v1/members/{person}/events", Body::BadEvent, [422, 422, 422, 404, 403, 403, 403, 403]),
    ("POST", "/api/v1/members", "/api/v1/members", Body::NewMember, [201, 201, 201, 404, 403, 403, 403, 403]),
    ("POST", "/api/v1/users", "/api/v1/users", Body::NewUser, [201, 201, 201, 404, 403, 403, 403, 403]),
    ("POST", "/api/v1/users/{id}/grants", "/api/v1/users/{user}/grants", Body::Grant, [201, 201, 201, 404, 403, 403, 403, 403]),
    ("POST", "/api/v1/users/{id}/reset-password", "/api/v1/users/{user}/reset-password", Body::None, [200, 200, 200, 404, 403, 403, 403, 403]),
    ("POST", "/api/v1/users/{id}/enable", "/api/v1/users/{user}/enable", Body::None, [200, 200, 200, 404, 403, 403, 403, 403]),
    ("GET", "/api/v1/users", "/api/v1/users", Body::None, [200, 200, 200, 200, 403, 403, 403, 403]),
    ("GET", "/api/v1/users/{id}/tokens", "/api/v1/users/{user}/tokens", Body::None, [200, 200, 403, 403, 403, 403, 403, 403]),
    ("GET", "/api/v1/tokens", "/api/v1/tokens", Body::None, [200, 200, 200, 200, 200, 200, 200, 200]),
    ("DELETE", "/api/v1/tokens/{id}", "/api/v1/tokens/{token}", Body::None, [200, 200, 404, 404, 404, 404, 404, 404]),
    ("GET", "/api/v1/audit", "/api/v1/audit", Body::None, [200, 200, 200, 200, 403, 403, 403, 403]),
    // last: starting its job adds members to branch B
    ("GET", "/api/v1/jobs/{id}", "/api/v1/jobs/{job}", Body::None, [200, 200, 404, 404, 404, 404, 404, 404]),
];

const POSTS: [&str; 4] = ["secretary", "deputy_secretary", "propaganda", "organization"];

/// `caller` picks a different post per caller, so one appointment does not block the next.
fn body(kind: Body, org: i64, person: i64, seq: u32, today: &str, caller: usize) -> Value {
    match kind {
        Body::None => json!({}),
        Body::PatchOrg => json!({"category": "government"}),
        Body::NewGroup => json!({"parent_id": org, "name": format!("新党小组{seq}"), "kind": "group"}),
        Body::Post => {
            json!({"person_id": person, "post": POSTS[caller], "confirm": true})
        }
        Body::PatchMember => json!({"education": "大学本科"}),
        // valid for nobody (a probationary member cannot be restored): proves the request got past the guard
        Body::BadEvent => json!({"kind": "restore", "date": today, "reason": "测试"}),
        Body::Grant => json!({"role": "staff", "org_id": org}),
        Body::NewUser => json!({"username": format!("u{seq}"), "grants": [{"role": "staff", "org_id": org}]}),
        Body::NewMember => {
            json!({"org_id": org, "name": format!("新党员{seq}"), "id_number": id_number("1995-03-04", seq),
                                  "status": "formal", "joined_on": "2020-01-01"})
        }
    }
}

fn person_in(tree: &Tree, org: i64) -> i64 {
    if org == tree.branch_a { tree.a2 } else { tree.b1 }
}

#[tokio::test]
async fn every_endpoint_answers_each_role_by_the_subtree_of_its_grant() {
    let app = TestApp::spawn().await;
    let today = app.store.today().to_string();
    let clients = [
        app.login("admin").await,
        app.login("sec").await,
        app.login("staff").await,
        app.login("mem").await,
    ];
    let names = ["admin", "sec", "staff", "mem"];
    let anon = app.client();
    let mut seq = 100;
    let mut failures = Vec::new();
    // a login in branch A that is none of the callers (so resets log nobody out)
    let (_, made) = clients[0]
        .post(
            "/api/v1/users",
            json!({"username": "a2login", "person_id": app.tree.a2, "grants": [{"role": "member", "org_id": app.tree.group_a1}]}),
        )
        .await;
    let (_, users) = clients[0].get("/api/v1/users?limit=500").await;
    let secb = users["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["username"] == "secb")
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    let user_in = |org: i64| {
        if org == app.tree.branch_a {
            made["id"].as_i64().unwrap()
        } else {
            secb
        }
    };
    let mut job = String::new();
    for (method, _, template, kind, expected) in ENDPOINTS {
        if template.contains("{job}") && job.is_empty() {
            crate::helpers::add_members(&app.store, app.tree.branch_b, 30, 500).await;
            let (s, started) = clients[0]
                .post(&format!("/api/v1/orgs/{}/accounts", app.tree.root), json!({}))
                .await;
            assert_eq!(s, 202, "{started}");
            job = started["job_id"].as_str().unwrap().to_owned();
        }
        for (ci, client) in clients.iter().enumerate() {
            for (oi, org) in [app.tree.branch_a, app.tree.branch_b].into_iter().enumerate() {
                seq += 1;
                let person = person_in(&app.tree, org);
                let token = if template.contains("{token}") {
                    app.store
                        .create_api_token(
                            &dangjian_store::Actor::system("test"),
                            user_in(org),
                            "matrix",
                            &format!("matrix-token-{seq}"),
                            None,
                        )
                        .await
                        .unwrap()
                } else {
                    0
                };
                let path = template
                    .replace("{token}", &token.to_string())
                    .replace("{job}", &job)
                    .replace("{org}", &org.to_string())
                    .replace("{person}", &person.to_string())
                    .replace("{user}", &user_in(org).to_string());
                let b = body(*kind, org, person, seq, &today, ci);
                let (status, resp) = match *method {
                    "GET" => client.get(&path).await,
                    "POST" => client.post(&path, b.clone()).await,
                    "PATCH" => client.patch(&path, b.clone()).await,
                    "DELETE" => client.delete(&path).await,
                    _ => unreachable!(),
                };
                let want = expected[ci * 2 + oi];
                if status.as_u16() != want {
                    failures.push(format!(
                        "{method} {path} as {}: {} (want {want}) {resp}",
                        names[ci],
                        status.as_u16()
                    ));
                }
                if oi == 0 && ci == 0 {
                    let (s, _) = match *method {
                        "GET" => anon.get(&path).await,
                        "POST" => anon.post(&path, b).await,
                        "DELETE" => anon.delete(&path).await,
                        _ => anon.patch(&path, b).await,
                    };
                    if s != 401 {
                        failures.push(format!("{method} {path} without login: {s} (want 401)"));
                    }
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[tokio::test]
async fn searches_never_return_people_outside_the_subtree() {
    let app = TestApp::spawn().await;
    let sec = app.login("sec").await;
    let (s, body) = sec.get("/api/v1/members?limit=500").await;
    assert_eq!(s, 200);
    let ids: Vec<i64> = body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_i64().unwrap())
        .collect();
    assert_eq!(body["total"], 2);
    assert!(ids.contains(&app.tree.a1) && ids.contains(&app.tree.a2) && !ids.contains(&app.tree.b1));
    // exact ID-number search finds nobody outside either
    let (_, body) = sec
        .get(&format!("/api/v1/members?q={}", id_number("1985-09-10", 33)))
        .await;
    assert_eq!(body["total"], 0);
    let (_, body) = app
        .login("admin")
        .await
        .get(&format!("/api/v1/members?q={}", id_number("1985-09-10", 33)))
        .await;
    assert_eq!(body["total"], 1);
}

#[tokio::test]
async fn a_member_reads_only_their_own_record_in_full() {
    let app = TestApp::spawn().await;
    let mem = app.login("mem").await;
    let (s, me) = mem.get(&format!("/api/v1/members/{}", app.tree.a1)).await;
    assert_eq!(s, 200);
    assert_eq!(me["id_number"], id_number("1980-05-06", 11));
    assert_eq!(me["phone"], "13800000011");
    let (s, _) = mem.get(&format!("/api/v1/members/{}", app.tree.a2)).await;
    assert_eq!(s, 404);
    let (_, list) = mem.get("/api/v1/members").await;
    assert_eq!(list["total"], 1, "a member's search shows only themselves");
}

#[tokio::test]
async fn staff_see_id_numbers_and_phones_masked_and_the_secretary_in_full() {
    let app = TestApp::spawn().await;
    let full = id_number("1990-02-03", 22);
    let (_, staff_view) = app
        .login("staff")
        .await
        .get(&format!("/api/v1/members/{}", app.tree.a2))
        .await;
    let masked = format!("{}********{}", &full[..6], &full[14..]);
    assert_eq!(staff_view["id_number"], masked);
    assert_eq!(staff_view["phone"], "138****0022");
    let (_, sec_view) = app
        .login("sec")
        .await
        .get(&format!("/api/v1/members/{}", app.tree.a2))
        .await;
    assert_eq!(sec_view["id_number"], full);
    assert_eq!(sec_view["phone"], "13800000022");
}
