//! Logins and grants: the list of logins in the caller's subtree, one login's page with its
//! grants (revoke, add), password resets shown once, disabling, and a new login for a member.
//! Every action goes through the shared functions of `api::account`.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use dangjian_store::account::UserListRow;
use dangjian_store::{Cap, Grants, Role, Scope};
use serde::Deserialize;

use crate::AppState;
use crate::account::api::{
    GrantBody, UserBody, UserView, create_login, grant_role, reset_login_password, revoke_grant,
    set_login_disabled,
};
use crate::auth::Auth;
use crate::error::AppError;
use crate::i18n::{current_locale, t};
use crate::page::{CsrfForm, Shell, error_page, render};
use crate::page::{PageForm, PageUser};

const PAGE: i64 = 50;
/// At most this many orgs in the org select (as the tree page).
const ORG_LIMIT: i64 = 3000;

/// One grant as shown: role, org, and whether the caller may revoke it.
pub(crate) struct GrantView {
    pub id: i64,
    pub role: &'static str,
    pub org_id: i64,
    pub org_name: String,
    pub revocable: bool,
}

/// One login as shown in the list and on its page.
pub(crate) struct UserLine {
    /// The login as the API lists it.
    pub login: UserView,
    pub grants: Vec<GrantView>,
    /// Grants on orgs outside the caller's subtree: counted, not named.
    pub other_grants: usize,
    /// The caller's own login (not disabled from here).
    pub is_self: bool,
    /// Whether the caller may act on it (`api::account::managed_login`'s rule): the actions are
    /// shown only then.
    pub manageable: bool,
}

/// An org in a select, its name indented by depth.
pub(crate) struct OrgOption {
    pub id: i64,
    pub label: String,
}

/// The grants of `users` in the caller's scope, with their orgs' names.
async fn user_lines(
    state: &AppState,
    a: &Auth,
    scope: &Scope,
    users: Vec<UserListRow>,
) -> Result<Vec<UserLine>, AppError> {
    let keys: Vec<(i64, Option<i64>)> = users.iter().map(|u| (u.id, u.person_id)).collect();
    let mut grants = state.store.accounts().grants_of_users(&keys).await?;
    let all: Vec<(UserListRow, Grants)> = users
        .into_iter()
        .filter_map(|u| grants.remove(&u.id).map(|g| (u, g)))
        .collect();
    let mut org_ids: Vec<i64> = all
        .iter()
        .flat_map(|(_, g)| {
            g.list()
                .iter()
                .filter(|g| scope.contains_path(&g.org_path))
                .map(|g| g.org_id)
        })
        .collect();
    org_ids.sort_unstable();
    org_ids.dedup();
    let names: HashMap<i64, String> = state
        .store
        .orgs()
        .orgs_by_ids(&org_ids)
        .await?
        .into_iter()
        .map(|o| (o.id, o.name))
        .collect();
    Ok(all
        .into_iter()
        .map(|(u, g)| {
            let manageable = a
                .grants
                .may_manage(Cap::ManageAccounts, g.list(), u.person_path.as_deref());
            let (inside, outside): (Vec<_>, Vec<_>) =
                g.list().iter().partition(|g| scope.contains_path(&g.org_path));
            UserLine {
                manageable,
                is_self: u.id == a.principal.user_id,
                login: UserView::from(u),
                grants: inside
                    .into_iter()
                    .map(|g| GrantView {
                        id: g.id,
                        role: g.role.as_str(),
                        org_id: g.org_id,
                        org_name: names.get(&g.org_id).cloned().unwrap_or_default(),
                        revocable: manageable,
                    })
                    .collect(),
                other_grants: outside.len(),
            }
        })
        .collect())
}

/// Roles the caller may give somewhere: none stronger than their strongest account-managing
/// role (the grant itself is checked against their role over the chosen org).
fn grantable_roles(a: &Auth) -> Vec<&'static str> {
    let best = a
        .grants
        .list()
        .iter()
        .filter(|g| g.role.has(Cap::ManageAccounts))
        .map(|g| g.role.rank())
        .max()
        .unwrap_or(0);
    Role::ALL
        .iter()
        .filter(|r| r.rank() <= best)
        .map(|r| r.as_str())
        .collect()
}

/// The orgs of the caller's account-managing scope, in tree order, indented by depth.
async fn org_options(state: &AppState, scope: &Scope) -> Result<Vec<OrgOption>, AppError> {
    let mut out = Vec::new();
    for root in state.store.orgs().scope_roots(scope).await? {
        let (rows, _) = state.store.orgs().subtree(scope, root.id, ORG_LIMIT, 0).await?;
        out.extend(rows.into_iter().map(|o| OrgOption {
            id: o.id,
            label: format!(
                "{}{}",
                "\u{3000}".repeat(usize::try_from(o.depth - root.depth).unwrap_or(0)),
                o.name
            ),
        }));
    }
    Ok(out)
}

/// A form error for the field it concerns: rule refusals name their field; a role above one's
/// own is the role's fault; a target that is not found is `not_found_field`'s.
fn form_error(e: &AppError, not_found_field: &'static str) -> Option<(String, String)> {
    match e {
        AppError::Invalid(_) | AppError::Conflict(_) => Some((e.field().unwrap_or_default(), e.message())),
        AppError::Forbidden("role_above_own") => Some(("role".into(), e.message())),
        AppError::NotFound => {
            let code = if not_found_field == "person_id" {
                "person_not_found"
            } else {
                "org_not_found"
            };
            Some((not_found_field.into(), t(current_locale(), code, &[])))
        }
        _ => None,
    }
}

// ---------- the list ----------

#[derive(Deserialize)]
pub struct ListQuery {
    offset: Option<i64>,
}

#[derive(Template)]
#[template(path = "account/accounts.html")]
struct ListPage {
    shell: Shell,
    rows: Vec<UserLine>,
    total: i64,
    offset: i64,
    prev: Option<i64>,
    next: Option<i64>,
    /// Where actions return to (this page of the list).
    back: String,
}

pub async fn list(
    State(state): State<AppState>,
    PageUser(a): PageUser,
    Query(q): Query<ListQuery>,
) -> Response {
    crate::page::page_or_error(&a, async {
        let scope = a.scope(Cap::ManageAccounts)?;
        let offset = q.offset.unwrap_or(0).max(0);
        let (users, total) = state.store.accounts().users(&scope, PAGE, offset).await?;
        let rows = user_lines(&state, &a, &scope, users).await?;
        let page = ListPage {
            rows,
            total,
            offset,
            prev: (offset > 0).then(|| (offset - PAGE).max(0)),
            next: (offset + PAGE < total).then_some(offset + PAGE),
            back: if offset > 0 {
                format!("/accounts?offset={offset}")
            } else {
                "/accounts".into()
            },
            shell: Shell::of(&a),
        };
        Ok(page)
    })
    .await
}

// ---------- one login ----------

#[derive(Template)]
#[template(path = "account/account.html")]
struct AccountPage {
    shell: Shell,
    user: UserLine,
    roles: Vec<&'static str>,
    orgs: Vec<OrgOption>,
    /// The add-grant form's values (kept after an error).
    form_role: String,
    form_org: String,
    /// (field, message)
    errors: Vec<(String, String)>,
    back: String,
}

async fn account_page(state: &AppState, a: &Auth, id: i64) -> Result<AccountPage, AppError> {
    let scope = a.scope(Cap::ManageAccounts)?;
    let found = state.store.accounts().managed_user(&scope, id).await?;
    let user = found.user;
    let person_name = match user.person_id {
        Some(pid) => state
            .store
            .members()
            .person_row(&scope, pid)
            .await
            .ok()
            .map(|p| p.name),
        None => None,
    };
    let row = UserListRow {
        id: user.id,
        username: user.username,
        person_id: user.person_id,
        person_name,
        person_path: found.person_path,
        must_change_password: user.must_change_password,
        disabled: user.disabled,
    };
    let user = user_lines(state, a, &scope, vec![row])
        .await?
        .pop()
        .ok_or(AppError::NotFound)?;
    Ok(AccountPage {
        back: format!("/accounts/{}", user.login.id),
        user,
        roles: grantable_roles(a),
        orgs: org_options(state, &scope).await?,
        form_role: String::new(),
        form_org: String::new(),
        errors: Vec::new(),
        shell: Shell::of(a),
    })
}

/// The login's page with an action's refusal on top (a login not found: the 404 page).
async fn account_page_with_error(state: &AppState, a: &Auth, id: i64, e: &AppError) -> Response {
    if matches!(e, AppError::NotFound | AppError::Internal(_)) {
        return error_page(Shell::of(a), e);
    }
    match account_page(state, a, id).await {
        Ok(page) => render(
            &AccountPage {
                shell: Shell::of(a).with_error(e.message()),
                ..page
            },
            e.status(),
        ),
        Err(e2) => error_page(Shell::of(a), &e2),
    }
}

pub async fn show(State(state): State<AppState>, PageUser(a): PageUser, Path(id): Path<i64>) -> Response {
    crate::page::page_or_error(&a, account_page(&state, &a, id)).await
}

#[derive(Deserialize)]
pub struct GrantForm {
    role: Option<String>,
    org_id: Option<String>,
}

pub async fn add_grant(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    PageForm(a, f): PageForm<GrantForm>,
) -> Response {
    let role = f.role.clone().filter(|r| !r.is_empty());
    let org_text = f.org_id.clone().unwrap_or_default();
    let body = GrantBody {
        role,
        org_id: org_text.trim().parse().ok(),
    };
    // the login must be visible before anything else is said about the form
    let page = match account_page(&state, &a, id).await {
        Ok(p) => p,
        Err(e) => return error_page(Shell::of(&a), &e),
    };
    match grant_role(&state, &a, id, body).await {
        Ok(_) => Redirect::to(&format!("/accounts/{id}")).into_response(),
        Err(e) => match form_error(&e, "org_id") {
            Some(err) => render(
                &AccountPage {
                    errors: vec![err],
                    form_role: f.role.unwrap_or_default(),
                    form_org: org_text,
                    ..page
                },
                e.status(),
            ),
            // e.g. a login the caller may see but not manage: the page again, saying so
            None if matches!(e, AppError::Forbidden(_)) => render(
                &AccountPage {
                    shell: Shell::of(&a).with_error(e.message()),
                    ..page
                },
                e.status(),
            ),
            None => error_page(Shell::of(&a), &e),
        },
    }
}

pub async fn revoke(
    State(state): State<AppState>,
    Path(grant_id): Path<i64>,
    PageForm(a, _f): PageForm<CsrfForm>,
) -> Response {
    match revoke_grant(&state, &a, grant_id).await {
        Ok(user_id) => Redirect::to(&format!("/accounts/{user_id}")).into_response(),
        Err(e) => error_page(Shell::of(&a), &e),
    }
}

// ---------- reset, disable, enable ----------

#[derive(Template)]
#[template(path = "account/password_once.html")]
struct PasswordOncePage {
    shell: Shell,
    /// `admin.password_once.reset_title` or `…created_title`
    heading: &'static str,
    user_id: i64,
    username: String,
    person_name: Option<String>,
    password: String,
}

pub async fn reset(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    PageForm(a, _f): PageForm<CsrfForm>,
) -> Response {
    match reset_login_password(&state, &a, id).await {
        Ok((user, password)) => {
            let person_name = match (user.person_id, a.scope(Cap::ManageAccounts)) {
                (Some(pid), Ok(scope)) => state
                    .store
                    .members()
                    .person_row(&scope, pid)
                    .await
                    .ok()
                    .map(|p| p.name),
                _ => None,
            };
            render(
                &PasswordOncePage {
                    shell: Shell::of(&a),
                    heading: "admin.password_once.reset_title",
                    user_id: user.id,
                    username: user.username,
                    person_name,
                    password,
                },
                StatusCode::OK,
            )
        }
        Err(e) => account_page_with_error(&state, &a, id, &e).await,
    }
}

#[derive(Deserialize)]
pub struct ActionForm {
    /// Where to go back to: this list page or the login's page.
    next: Option<String>,
}

/// Only our own list and login pages are places to return to.
fn safe_next(next: Option<&str>, id: i64) -> String {
    let ok = |s: &str| {
        let digits = |d: &str| !d.is_empty() && d.len() <= 12 && d.bytes().all(|b| b.is_ascii_digit());
        s == "/accounts"
            || s.strip_prefix("/accounts?offset=").is_some_and(digits)
            || s.strip_prefix("/accounts/").is_some_and(digits)
    };
    match next {
        Some(s) if ok(s) => s.to_owned(),
        _ => format!("/accounts/{id}"),
    }
}

async fn disabled_action(state: AppState, a: Auth, id: i64, f: ActionForm, disabled: bool) -> Response {
    match set_login_disabled(&state, &a, id, disabled).await {
        Ok(_) => Redirect::to(&safe_next(f.next.as_deref(), id)).into_response(),
        Err(e) => account_page_with_error(&state, &a, id, &e).await,
    }
}

pub async fn disable(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    PageForm(a, f): PageForm<ActionForm>,
) -> Response {
    disabled_action(state, a, id, f, true).await
}

pub async fn enable(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    PageForm(a, f): PageForm<ActionForm>,
) -> Response {
    disabled_action(state, a, id, f, false).await
}

// ---------- a new login for a member ----------

/// The new-login form as typed (browsers send "" for empty fields).
#[derive(Deserialize, Default, Clone)]
pub struct NewLoginFields {
    username: Option<String>,
    person_id: Option<String>,
    role: Option<String>,
    org_id: Option<String>,
}

#[derive(Deserialize)]
pub struct NewLoginForm {
    #[serde(flatten)]
    fields: NewLoginFields,
}

#[derive(Template)]
#[template(path = "account/account_new.html")]
struct NewLoginPage {
    shell: Shell,
    values: NewLoginFields,
    roles: Vec<&'static str>,
    orgs: Vec<OrgOption>,
    errors: Vec<(String, String)>,
}

impl NewLoginPage {
    fn value<'a>(&self, v: &'a Option<String>) -> &'a str {
        v.as_deref().unwrap_or("")
    }
}

async fn new_login_page(
    state: &AppState,
    a: &Auth,
    values: NewLoginFields,
    errors: Vec<(String, String)>,
) -> Result<NewLoginPage, AppError> {
    let scope = a.scope(Cap::ManageAccounts)?;
    Ok(NewLoginPage {
        shell: Shell::of(a),
        values,
        roles: grantable_roles(a),
        orgs: org_options(state, &scope).await?,
        errors,
    })
}

#[derive(Deserialize)]
pub struct NewQuery {
    person: Option<i64>,
}

pub async fn new_form(
    State(state): State<AppState>,
    PageUser(a): PageUser,
    Query(q): Query<NewQuery>,
) -> Response {
    crate::page::page_or_error(&a, async {
        let scope = a.scope(Cap::ManageAccounts)?;
        let mut values = NewLoginFields {
            role: Some(Role::Member.as_str().into()),
            ..Default::default()
        };
        if let Some(pid) = q.person {
            // a member from elsewhere is not found here either
            let p = state.store.members().person_row(&scope, pid).await?;
            values.person_id = Some(p.id.to_string());
            values.org_id = Some(p.org_id.to_string());
        }
        new_login_page(&state, &a, values, Vec::new()).await
    })
    .await
}

pub async fn create(State(state): State<AppState>, PageForm(a, f): PageForm<NewLoginForm>) -> Response {
    let values = f.fields;
    let result: Result<(i64, String, String, String), AppError> = async {
        let scope = a.scope(Cap::ManageAccounts)?;
        // the member first, so that "not found" is said next to the member field
        let person_text = values.person_id.as_deref().map(str::trim).unwrap_or("");
        if person_text.is_empty() {
            return Err(dangjian_rules::RuleViolation::field("field_required", "person_id").into());
        }
        let person = match person_text.parse::<i64>() {
            Ok(pid) => state.store.members().person_row(&scope, pid).await.map_err(|_| {
                AppError::Invalid(dangjian_rules::RuleViolation::field(
                    "person_not_found",
                    "person_id",
                ))
            })?,
            Err(_) => {
                return Err(dangjian_rules::RuleViolation::field("person_not_found", "person_id").into());
            }
        };
        let body = UserBody {
            username: values.username.clone(),
            password: None,
            person_id: Some(person.id),
            grants: Some(vec![GrantBody {
                role: values.role.clone().filter(|r| !r.is_empty()),
                org_id: values.org_id.as_deref().and_then(|o| o.trim().parse().ok()),
            }]),
        };
        let made = create_login(&state, &a, body).await?;
        Ok((
            made.id,
            made.username,
            person.name,
            made.initial_password.unwrap_or_default(),
        ))
    }
    .await;
    match result {
        Ok((user_id, username, name, password)) => render(
            &PasswordOncePage {
                shell: Shell::of(&a),
                heading: "admin.password_once.created_title",
                user_id,
                username,
                person_name: Some(name),
                password,
            },
            StatusCode::OK,
        ),
        Err(e) => match form_error(&e, "org_id") {
            Some(err) => match new_login_page(&state, &a, values, vec![err]).await {
                Ok(page) => render(&page, e.status()),
                Err(e2) => error_page(Shell::of(&a), &e2),
            },
            None => error_page(Shell::of(&a), &e),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn actions_return_only_to_our_own_pages() {
        assert_eq!(safe_next(Some("/accounts"), 7), "/accounts");
        assert_eq!(safe_next(Some("/accounts?offset=50"), 7), "/accounts?offset=50");
        assert_eq!(safe_next(Some("/accounts/12"), 7), "/accounts/12");
        for bad in [
            "https://evil.example/",
            "//evil.example",
            "/accounts/../x",
            "/accounts?offset=1&x=2",
            "/accounts/",
        ] {
            assert_eq!(safe_next(Some(bad), 7), "/accounts/7", "{bad}");
        }
        assert_eq!(safe_next(None, 7), "/accounts/7");
    }
}
