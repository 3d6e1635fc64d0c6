//! The home page per role: the organization overview (admin, org admin), the branch workbench
//! (secretary, committee, staff), and the member's own record (phone).

use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use dangjian_rules::org::BranchType;
use dangjian_store::org::OrgRow;
use dangjian_store::person::{PersonFilter, PersonView};
use dangjian_store::{Cap, Role};

use crate::AppState;
use crate::auth::{self, Auth};
use crate::error::AppError;
use crate::page::{Shell, error_page, render};
use crate::routes::Routes;

pub(crate) struct ChildView {
    pub id: i64,
    pub name: String,
    pub kind: String,
    pub member_count: i64,
    pub formal_count: i64,
    pub warning_count: usize,
}

impl ChildView {
    pub(crate) fn of(o: &OrgRow, today: time::Date) -> Self {
        Self {
            id: o.id,
            name: o.name.clone(),
            kind: o.kind.to_string(),
            member_count: o.member_count,
            formal_count: o.formal_count,
            warning_count: crate::org::api::org_warnings(o, today).len(),
        }
    }
}

/// A roster line as lists show it: the ID number masked whatever the grant.
pub(crate) struct MemberLine {
    pub id: i64,
    pub name: String,
    pub gender: String,
    pub org_name: String,
    pub status: String,
    pub joined_on: String,
    pub id_number: String,
}

impl MemberLine {
    pub(crate) fn of(m: PersonView) -> Self {
        Self {
            id: m.id,
            gender: m.gender.to_string(),
            status: m.status.to_string(),
            joined_on: date_or_dash(m.joined_on),
            id_number: dangjian_rules::mask_id_number(&m.id_number),
            name: m.name,
            org_name: m.org_name,
        }
    }
}

struct OrgPanel {
    id: i64,
    name: String,
    kind: String,
    branch_type: Option<String>,
    member_count: i64,
    formal_count: i64,
    term_ends_on: Option<String>,
    can_manage_accounts: bool,
    warnings: Vec<String>,
    /// (post, person name)
    posts: Vec<(String, String)>,
    children: Vec<ChildView>,
    /// Rule reminders of the orgs below: (org id, org name, message).
    reminders: Vec<(i64, String, String)>,
    members: Vec<MemberLine>,
    people_without_pipeline: usize,
    /// 三会一课 of this org and everything below it this period (None: the report failed).
    cadence: Option<dangjian_rules::cadence::Tally>,
}

#[derive(Template)]
#[template(path = "home/org.html")]
struct OrgHome {
    shell: Shell,
    heading: String,
    orgs: Vec<OrgPanel>,
}

#[derive(Template)]
#[template(path = "home/member.html")]
struct MemberHome {
    shell: Shell,
    person: MemberCard,
    /// (date, event kind)
    events: Vec<(String, String)>,
}

struct MemberCard {
    name: String,
    org_name: String,
    status: String,
    gender: String,
    ethnicity: String,
    birth_date: String,
    id_number: String,
    phone: String,
    education: String,
    joined_on: String,
    regularized_on: String,
    work_unit: String,
}

pub(crate) fn date_or_dash(d: Option<time::Date>) -> String {
    d.map_or_else(|| "—".to_owned(), |d| d.to_string())
}

pub(crate) fn text_or_dash(s: Option<String>) -> String {
    s.filter(|s| !s.is_empty()).unwrap_or_else(|| "—".to_owned())
}

/// The branch type a page names: any but the regular branch's.
pub(crate) fn named_branch_type(o: &OrgRow) -> Option<String> {
    o.branch_type
        .filter(|b| *b != BranchType::Regular)
        .map(|b| b.to_string())
}

pub(crate) fn term_ends_on(o: &OrgRow) -> Option<String> {
    o.term().ends_on().map(|d| d.to_string())
}

pub(crate) fn warning_messages(o: &OrgRow, today: time::Date) -> Vec<String> {
    crate::org::api::org_warnings(o, today)
        .into_iter()
        .map(|w| w.message)
        .collect()
}

/// The workbench (`/`): the org view for staff, the member's own view for members.
pub(crate) fn routes(r: Routes) -> Routes {
    r.page("/", axum::routing::get(home))
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
    let works_on_orgs = a
        .grants
        .list()
        .iter()
        .any(|g| g.role.has(Cap::WriteMembers) || g.role.has(Cap::RunMeetings));
    let result = if works_on_orgs {
        org_home(&state, &a).await
    } else {
        member_home(&state, &a).await
    };
    result.unwrap_or_else(|e| error_page(Shell::of(&a), &e))
}

async fn org_home(state: &AppState, a: &Auth) -> Result<Response, AppError> {
    let org_scope = a.scope(Cap::ReadOrg)?;
    let member_scope = a.scope(Cap::ReadMembers)?;
    let accounts_scope = a.scope(Cap::ManageAccounts).ok();
    let today = state.store.today();
    let mut panels = Vec::new();
    for org in state.store.orgs().scope_roots(&org_scope).await? {
        let children = state.store.orgs().children(&org_scope, org.id).await?;
        let posts = state.store.orgs().posts(&org_scope, org.id, false).await?;
        let members = if org.kind().holds_members() {
            let f = PersonFilter {
                org_id: Some(org.id),
                subtree: true,
                limit: 500,
                ..Default::default()
            };
            state.store.members().people(&member_scope, &f).await?.0
        } else {
            Vec::new()
        };
        let mut reminders = Vec::new();
        if !org.kind().holds_members() {
            // the orgs below, in tree order; the page shows those of the first 2000
            let (below, _) = state.store.orgs().subtree(&org_scope, org.id, 2000, 0).await?;
            for o in below.iter().filter(|o| o.id != org.id) {
                reminders.extend(
                    warning_messages(o, today)
                        .into_iter()
                        .map(|m| (o.id, o.name.clone(), m)),
                );
            }
        }
        let people_without_pipeline = members.iter().filter(|m| m.status.is_member()).count();
        panels.push(OrgPanel {
            id: org.id,
            name: org.name.clone(),
            kind: org.kind.to_string(),
            branch_type: named_branch_type(&org),
            member_count: org.member_count,
            formal_count: org.formal_count,
            term_ends_on: term_ends_on(&org),
            can_manage_accounts: accounts_scope
                .as_ref()
                .is_some_and(|s| s.contains_path(&org.path)),
            warnings: warning_messages(&org, today),
            posts: posts.into_iter().map(|p| (p.post, p.person_name)).collect(),
            children: children.iter().map(|c| ChildView::of(c, today)).collect(),
            reminders,
            members: members.into_iter().map(MemberLine::of).collect(),
            people_without_pipeline,
            // the home page still shows when the cadence report cannot be made
            cadence: state
                .store
                .meetings()
                .cadence(&org_scope, org.id, today)
                .await
                .ok()
                .map(|r| r.total),
        });
    }
    let shell = Shell::of(a);
    let heading = shell.t(if a.grants.has_role(Role::Admin) {
        "home.overview"
    } else {
        "home.workbench"
    });
    Ok(render(
        &OrgHome {
            shell,
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
    let p = state.store.members().person(&scope, person_id).await?;
    let events = state.store.members().person_events(&scope, person_id).await?;
    let card = MemberCard {
        status: p.status.to_string(),
        gender: p.gender.to_string(),
        ethnicity: text_or_dash(p.ethnicity),
        birth_date: p
            .birth_date
            .map_or_else(|| p.birth_year.to_string(), |d| d.to_string()),
        id_number: p.id_number,
        phone: text_or_dash(p.phone),
        education: text_or_dash(p.education),
        joined_on: date_or_dash(p.joined_on),
        regularized_on: date_or_dash(p.regularized_on),
        work_unit: text_or_dash(p.work_unit),
        name: p.name,
        org_name: p.org_name,
    };
    let events = events
        .into_iter()
        .map(|e| (e.event_date.to_string(), e.kind.to_string()))
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
