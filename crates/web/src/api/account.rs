//! Logins and grants: bulk accounts for a branch's members (initial passwords shown once),
//! resets, disabling, and granting roles on a subtree — only on logins the caller outranks in
//! every grant (`managed_login`), never a role above one's own.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use dangjian_rules::RuleViolation;
use dangjian_store::account::{ManagedUser, NewAccount, UserRow};
use dangjian_store::{Cap, Role};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::AppState;
use crate::auth::{self, Auth};
use crate::error::{AppError, AppResult};
use crate::extract::{ApiJson, ApiPath, ApiQuery, Page, parse_enum, required, required_text};

/// An initial password: 10 characters from an alphabet without look-alikes (no 0/O, 1/l/I).
pub fn initial_password() -> String {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let bytes = dangjian_store::keys::random_bytes::<10>();
    let mut pw: String = bytes
        .iter()
        .map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char)
        .collect();
    // at least one digit, so it passes our own password rule
    pw.replace_range(
        9..10,
        &((bytes[9] % 8) + b'2')
            .to_string()
            .chars()
            .next()
            .unwrap_or('2')
            .to_string(),
    );
    pw
}

/// A login made by the bulk action, with its initial password (shown once).
#[derive(Debug, Clone, serde::Serialize)]
pub struct CreatedAccount {
    pub person_id: i64,
    pub name: String,
    pub username: String,
    pub initial_password: String,
    pub user_id: i64,
}

/// Logins for every member of the subtree who has none: username = their mobile number if free,
/// else `p<person id>`; a forced change at first login. Shared by the API and the page.
pub async fn create_member_accounts(
    state: &AppState,
    auth: &Auth,
    org_id: i64,
) -> AppResult<Vec<CreatedAccount>> {
    let scope = auth.scope(Cap::ManageAccounts)?;
    let members = state.store.members_for_accounts(&scope, org_id).await?;
    let mut created = Vec::new();
    let mut accounts = Vec::new();
    for (person_id, name, phone, _) in members.into_iter().filter(|(.., has_login)| !has_login) {
        let username = match phone {
            Some(p) if state.store.user_by_name(&p).await?.is_none() => p,
            _ => format!("p{person_id}"),
        };
        let password = initial_password();
        let hash = auth::hash_password_blocking(state, password.clone()).await?;
        accounts.push(NewAccount {
            username: username.clone(),
            password_hash: hash,
            person_id,
        });
        created.push(CreatedAccount {
            person_id,
            name,
            username,
            initial_password: password,
            user_id: 0,
        });
    }
    let ids = state
        .store
        .create_member_accounts(&scope, &auth.actor(), org_id, &accounts)
        .await?;
    for (item, id) in created.iter_mut().zip(ids) {
        item.user_id = id;
    }
    Ok(created)
}

pub async fn bulk_create(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(org_id): ApiPath<i64>,
) -> AppResult<(StatusCode, Json<Value>)> {
    let created = create_member_accounts(&state, &auth, org_id).await?;
    let total = i64::try_from(created.len()).unwrap_or(0);
    Ok((
        StatusCode::CREATED,
        Json(json!({"items": created, "total": total})),
    ))
}

pub async fn list(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(page): ApiQuery<Page>,
) -> AppResult<Json<Value>> {
    let scope = auth.scope(Cap::ManageAccounts)?;
    let (rows, total) = state.store.users(&scope, page.limit(), page.offset()).await?;
    Ok(crate::extract::list(rows, total))
}

#[derive(Deserialize, Default, Clone)]
pub struct GrantBody {
    pub role: Option<String>,
    pub org_id: Option<i64>,
}

#[derive(Deserialize, Default, Clone)]
pub struct UserBody {
    pub username: Option<String>,
    pub password: Option<String>,
    pub person_id: Option<i64>,
    pub grants: Option<Vec<GrantBody>>,
}

/// A grantor may give only roles no stronger than one they hold over that org.
pub async fn check_grantable(state: &AppState, auth: &Auth, role: Role, org_id: i64) -> AppResult<()> {
    let scope = auth.scope(Cap::ManageAccounts)?;
    let org = state.store.org(&scope, org_id).await?;
    let best = auth.grants.best_rank_over(&org.path).unwrap_or(0);
    if role.rank() > best {
        return Err(AppError::Forbidden("role_above_own"));
    }
    Ok(())
}

/// The login `id` if the caller may manage it — the one check behind resetting, disabling,
/// enabling, granting to and revoking from a login (API and pages alike), and, with
/// `Cap::ManageTokens`, behind revoking its tokens. A login none of whose grants nor member
/// record lies in the caller's subtree for `cap` is not found (404), as anything outside; one
/// that is visible there but holds a grant (or a record) the caller's grants do not outrank
/// (`Grants::may_manage`) is refused with 403 `login_not_manageable`.
pub async fn managed_login(state: &AppState, auth: &Auth, cap: Cap, id: i64) -> AppResult<ManagedUser> {
    let scope = auth.scope(cap)?;
    let found = state.store.managed_user(&scope, id).await?;
    if !auth
        .grants
        .may_manage(cap, found.grants.list(), found.person_path.as_deref())
    {
        return Err(AppError::Forbidden("login_not_manageable"));
    }
    Ok(found)
}

/// A new login made by `create_login`: the initial password is `Some` when generated (shown once).
#[derive(Debug, Clone)]
pub struct CreatedLogin {
    pub id: i64,
    pub username: String,
    pub initial_password: Option<String>,
}

/// Creates a login with grants (each no stronger than the caller's own over its org), optionally
/// for a member in the caller's subtree. Shared by the API and the accounts page.
pub async fn create_login(state: &AppState, auth: &Auth, b: UserBody) -> AppResult<CreatedLogin> {
    let scope = auth.scope(Cap::ManageAccounts)?;
    let username = required_text("username", b.username)?;
    if username.len() > 64 || username.chars().any(char::is_whitespace) {
        return Err(RuleViolation::field("username_invalid", "username").into());
    }
    let mut grants = Vec::new();
    for g in b.grants.unwrap_or_default() {
        let role = parse_enum("role", &required("role", g.role)?, Role::parse)?;
        let org_id = required("org_id", g.org_id)?;
        check_grantable(state, auth, role, org_id).await?;
        grants.push((role, org_id));
    }
    if let Some(pid) = b.person_id {
        state.store.person_row(&scope, pid).await?;
    }
    let (password, shown) = match b.password.filter(|p| !p.is_empty()) {
        Some(p) => {
            crate::api::session::check_new_password(&p)
                .map_err(|_| RuleViolation::field("password_too_weak", "password"))?;
            (p, None)
        }
        None => {
            let p = initial_password();
            (p.clone(), Some(p))
        }
    };
    let hash = auth::hash_password_blocking(state, password).await?;
    let id = state
        .store
        .create_user(&auth.actor(), &username, &hash, b.person_id, true, &grants)
        .await?;
    Ok(CreatedLogin {
        id,
        username,
        initial_password: shown,
    })
}

pub async fn create(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(b): ApiJson<UserBody>,
) -> AppResult<(StatusCode, Json<Value>)> {
    let made = create_login(&state, &auth, b).await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({"id": made.id, "username": made.username, "initial_password": made.initial_password})),
    ))
}

/// A new initial password for a login in the caller's subtree (forced change at next login;
/// the user's sessions end). Returns the login and the password, to be shown once.
pub async fn reset_login_password(state: &AppState, auth: &Auth, id: i64) -> AppResult<(UserRow, String)> {
    let user = managed_login(state, auth, Cap::ManageAccounts, id).await?.user;
    let password = initial_password();
    let hash = auth::hash_password_blocking(state, password.clone()).await?;
    state
        .store
        .set_password(&auth.actor(), user.id, &hash, true)
        .await?;
    Ok((user, password))
}

pub async fn reset_password(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Json<Value>> {
    let (user, password) = reset_login_password(&state, &auth, id).await?;
    Ok(Json(
        json!({"id": user.id, "username": user.username, "initial_password": password}),
    ))
}

/// Disables (ending its sessions and tokens) or enables a login the caller may manage; never
/// one's own.
pub async fn set_login_disabled(state: &AppState, auth: &Auth, id: i64, disabled: bool) -> AppResult<i64> {
    if id == auth.principal.user_id {
        // said before anything else: one's own login is visible but never one's to manage
        auth.scope(Cap::ManageAccounts)?;
        return Err(RuleViolation::new("cannot_disable_self").into());
    }
    let user = managed_login(state, auth, Cap::ManageAccounts, id).await?.user;
    state.store.set_disabled(&auth.actor(), user.id, disabled).await?;
    Ok(user.id)
}

pub async fn disable(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Json<Value>> {
    let id = set_login_disabled(&state, &auth, id, true).await?;
    Ok(Json(json!({"id": id, "disabled": true})))
}

pub async fn enable(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Json<Value>> {
    let id = set_login_disabled(&state, &auth, id, false).await?;
    Ok(Json(json!({"id": id, "disabled": false})))
}

/// Grants a role on an org subtree to a login the caller may manage, no stronger than the
/// caller's own role over that org. Returns the grant's id, the role and the org.
pub async fn grant_role(
    state: &AppState,
    auth: &Auth,
    user_id: i64,
    b: GrantBody,
) -> AppResult<(i64, Role, i64)> {
    let scope = auth.scope(Cap::ManageAccounts)?;
    let user = managed_login(state, auth, Cap::ManageAccounts, user_id)
        .await?
        .user;
    let role = parse_enum("role", &required("role", b.role)?, Role::parse)?;
    let org_id = required("org_id", b.org_id)?;
    check_grantable(state, auth, role, org_id).await?;
    let grant_id = state
        .store
        .add_grant(&scope, &auth.actor(), user.id, role, org_id)
        .await?;
    Ok((grant_id, role, org_id))
}

pub async fn add_grant(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<GrantBody>,
) -> AppResult<(StatusCode, Json<Value>)> {
    let (grant_id, role, org_id) = grant_role(&state, &auth, id, b).await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({"id": grant_id, "role": role, "org_id": org_id})),
    ))
}

/// Revokes a grant on an org in the caller's subtree, held by a login the caller may manage.
/// Returns the id of the login that held it.
pub async fn revoke_grant(state: &AppState, auth: &Auth, grant_id: i64) -> AppResult<i64> {
    let scope = auth.scope(Cap::ManageAccounts)?;
    let (user_id, _) = state
        .store
        .grant_by_id(grant_id)
        .await?
        .filter(|(_, g)| scope.contains_path(&g.org_path))
        .ok_or(AppError::NotFound)?;
    managed_login(state, auth, Cap::ManageAccounts, user_id).await?;
    state.store.remove_grant(&scope, &auth.actor(), grant_id).await?;
    Ok(user_id)
}

/// The tokens of a login the caller may manage with `Cap::ManageTokens` (admin, org_admin),
/// to revoke one with `DELETE /api/v1/tokens/{id}`.
pub async fn user_tokens(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(page): ApiQuery<Page>,
) -> AppResult<Json<Value>> {
    let user = managed_login(&state, &auth, Cap::ManageTokens, id).await?.user;
    let (rows, total) = state
        .store
        .api_tokens(user.id, page.limit(), page.offset())
        .await?;
    Ok(crate::extract::list(rows, total))
}

pub async fn remove_grant(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Json<Value>> {
    revoke_grant(&state, &auth, id).await?;
    Ok(Json(json!({"ok": true})))
}

#[cfg(test)]
mod tests {
    #[test]
    fn initial_passwords_pass_the_password_rule_and_differ() {
        let a = super::initial_password();
        assert!(crate::api::session::check_new_password(&a).is_ok(), "{a}");
        assert_eq!(a.chars().count(), 10);
        assert_ne!(a, super::initial_password());
    }
}
