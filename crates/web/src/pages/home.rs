//! The home page per role: the organization overview (admin, org admin), the branch workbench
//! (secretary, committee, staff), and the member's own record (phone).

use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use dangjian_rules::member::{EventKind, Gender, MemberStatus};
use dangjian_rules::org::{BranchType, CommitteePost};
use dangjian_store::person::PersonFilter;
use dangjian_store::{Cap, Role};

use super::{Shell, error_page, render};
use crate::AppState;
use crate::auth::{self, Auth};
use crate::error::AppError;

struct ChildView {
    name: String,
    kind_label: &'static str,
    member_count: i64,
    formal_count: i64,
    warning_count: usize,
}

struct MemberLine {
    name: String,
    gender: &'static str,
    org_name: String,
    status: &'static str,
    joined_on: String,
    id_number: String,
}

struct OrgPanel {
    id: i64,
    can_manage_accounts: bool,
    /// Rule reminders of the orgs below (org name, message).
    reminders: Vec<(String, String)>,
    people_without_pipeline: usize,
    name: String,
    kind_label: &'static str,
    branch_type_label: Option<&'static str>,
    member_count: i64,
    formal_count: i64,
    term_ends_on: Option<String>,
    warnings: Vec<String>,
    posts: Vec<String>,
    children: Vec<ChildView>,
    members: Vec<MemberLine>,
}

#[derive(Template)]
#[template(path = "home_org.html")]
struct OrgHome {
    shell: Shell,
    heading: String,
    orgs: Vec<OrgPanel>,
}

#[derive(Template)]
#[template(path = "home_member.html")]
struct MemberHome {
    shell: Shell,
    person: MemberCard,
    events: Vec<(String, &'static str)>,
}

struct MemberCard {
    name: String,
    org_name: String,
    status: &'static str,
    gender: &'static str,
    ethnicity: String,
    birth_date: String,
    id_number: String,
    phone: String,
    education: String,
    joined_on: String,
    regularized_on: String,
    work_unit: String,
}

fn date_or_dash(d: Option<time::Date>) -> String {
    d.map_or_else(|| "—".to_owned(), |d| d.to_string())
}

pub async fn home(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let a = match auth::identify(&state, &headers).await {
        Ok(Some(a)) => a,
        Ok(None) => return Redirect::to("/login").into_response(),
        Err(e) => return error_page(Shell::anonymous(), &e),
    };
    if a.principal.must_change_password {
        return Redirect::to("/password").into_response();
    }
    let result = if a
        .grants
        .list()
        .iter()
        .any(|g| g.role.has(Cap::WriteMembers) || g.role.has(Cap::RunMeetings))
    {
        org_home(&state, &a).await
    } else {
        member_home(&state, &a).await
    };
    result.unwrap_or_else(|e| error_page(Shell::of(&a), &e))
}

async fn org_home(state: &AppState, a: &Auth) -> Result<Response, AppError> {
    let org_scope = a.scope(Cap::ReadOrg)?;
    let member_scope = a.scope(Cap::ReadMembers)?;
    let today = state.store.today();
    let roots = state.store.scope_roots(&org_scope).await?;
    let mut panels = Vec::new();
    for org in roots {
        let children = state.store.children(&org_scope, org.id).await?;
        let posts = state.store.posts(&org_scope, org.id, false).await?;
        let show_members = org.kind().holds_members();
        let members = if show_members {
            let f = PersonFilter {
                org_id: Some(org.id),
                subtree: true,
                limit: 500,
                ..Default::default()
            };
            state.store.people(&member_scope, &f).await?.0
        } else {
            Vec::new()
        };
        let mut reminders = Vec::new();
        if !show_members {
            // the orgs below this one, in tree order; the page shows the first 2000
            let (below, _) = state.store.subtree(&org_scope, org.id, 2000, 0).await?;
            for o in below.iter().filter(|o| o.id != org.id) {
                for w in crate::api::org::org_warnings(o, today) {
                    if let Some(m) = w["message"].as_str() {
                        reminders.push((o.name.clone(), m.to_owned()));
                    }
                }
            }
        }
        let can_manage_accounts = a
            .scope(Cap::ManageAccounts)
            .is_ok_and(|s| s.contains_path(&org.path));
        let people_without_pipeline = members
            .iter()
            .filter(|m| MemberStatus::parse(&m.status).is_some_and(MemberStatus::is_member))
            .count();
        panels.push(OrgPanel {
            id: org.id,
            can_manage_accounts,
            reminders,
            people_without_pipeline,
            name: org.name.clone(),
            kind_label: org.kind().label_zh(),
            branch_type_label: org
                .branch_type()
                .filter(|b| *b != BranchType::Regular)
                .map(BranchType::label_zh),
            member_count: org.member_count,
            formal_count: org.formal_count,
            term_ends_on: match (org.term_started_on, org.term_years) {
                (Some(s), Some(y)) => {
                    Some(dangjian_rules::term_end(s, u32::try_from(y).unwrap_or(0)).to_string())
                }
                _ => None,
            },
            warnings: crate::api::org::org_warnings(&org, today)
                .into_iter()
                .filter_map(|w| w["message"].as_str().map(str::to_owned))
                .collect(),
            posts: posts
                .iter()
                .map(|p| {
                    format!(
                        "{}：{}",
                        CommitteePost::parse(&p.post).map_or("", CommitteePost::label_zh),
                        p.person_name
                    )
                })
                .collect(),
            children: children
                .iter()
                .map(|c| ChildView {
                    name: c.name.clone(),
                    kind_label: c.kind().label_zh(),
                    member_count: c.member_count,
                    formal_count: c.formal_count,
                    warning_count: crate::api::org::org_warnings(c, today).len(),
                })
                .collect(),
            members: members
                .into_iter()
                .map(|m| MemberLine {
                    gender: Gender::parse(&m.gender).map_or("", Gender::label_zh),
                    status: MemberStatus::parse(&m.status).map_or("", MemberStatus::label_zh),
                    joined_on: date_or_dash(m.joined_on),
                    name: m.name,
                    org_name: m.org_name,
                    // lists show masked numbers whatever the grant; the full one is on the record
                    id_number: dangjian_rules::mask_id_number(&m.id_number),
                })
                .collect(),
        });
    }
    let heading = if a.grants.has_role(Role::Admin) {
        "组织总览"
    } else {
        "本支部工作台"
    }
    .to_owned();
    Ok(render(
        &OrgHome {
            shell: Shell::of(a),
            heading,
            orgs: panels,
        },
        StatusCode::OK,
    ))
}

async fn member_home(state: &AppState, a: &Auth) -> Result<Response, AppError> {
    let Some(person_id) = a.principal.person_id else {
        return Err(AppError::Forbidden("no_member_record"));
    };
    let scope = a.scope(Cap::ReadMembers)?;
    let p = state.store.person(&scope, person_id).await?;
    let events = state.store.person_events(&scope, person_id).await?;
    let dash = |s: Option<String>| s.filter(|s| !s.is_empty()).unwrap_or_else(|| "—".to_owned());
    let card = MemberCard {
        status: MemberStatus::parse(&p.status).map_or("", MemberStatus::label_zh),
        gender: Gender::parse(&p.gender).map_or("", Gender::label_zh),
        ethnicity: dash(p.ethnicity),
        birth_date: p.birth_date.to_string(),
        id_number: p.id_number,
        phone: dash(p.phone),
        education: dash(p.education),
        joined_on: date_or_dash(p.joined_on),
        regularized_on: date_or_dash(p.regularized_on),
        work_unit: dash(p.work_unit),
        name: p.name,
        org_name: p.org_name,
    };
    let events = events
        .iter()
        .map(|e| {
            (
                e.event_date.to_string(),
                EventKind::parse(&e.kind).map_or("", EventKind::label_zh),
            )
        })
        .collect();
    Ok(render(
        &MemberHome {
            shell: Shell::of(a),
            person: card,
            events,
        },
        StatusCode::OK,
    ))
}
