//! Logins and grants: bulk accounts for a branch's members (initial passwords shown once),
//! resets, disabling, and granting roles on a subtree — only on logins the caller outranks in
//! every grant (`managed_login`), never a role above one's own.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use dangjian_rules::RuleViolation;
use dangjian_store::account::{ManagedUser, NewAccount, UserListRow, UserRow};
use dangjian_store::{Cap, Role};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use axum::response::{IntoResponse, Response};

use crate::auth::{self, Auth};
use crate::contract::row_view;
use crate::contract::{Done, List};
use crate::error::{AppError, AppResult};
use crate::extract::{ApiJson, ApiPath, ApiQuery, Page, parse_enum, required, required_text};
use crate::i18n::{REQUEST_LOCALE, current_locale};
use crate::jobs::JobState;
use crate::session::api::TokenView;
use crate::{AppState, jobs};

/// An initial password: 10 characters from an alphabet without look-alikes (no 0/O, 1/l/I).
pub fn initial_password() -> String {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let bytes = dangjian_store::keys::random_bytes::<10>();
    let mut pw: String = bytes
        .iter()
        .map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char)
        .collect();
    // at least one digit, so it passes our own password rule: one of 2–9 (no look-alikes),
    // as a character — its byte value printed as a number always began with '5'
    let digit = char::from(b'2' + bytes[9] % 8);
    pw.replace_range(9..10, &digit.to_string());
    pw
}

#[cfg(test)]
mod initial_password_tests {
    #[test]
    fn initial_passwords_end_in_any_digit_from_2_to_9() {
        let last: std::collections::BTreeSet<char> = (0..400)
            .filter_map(|_| super::initial_password().chars().last())
            .collect();
        assert!(last.iter().all(|c| ('2'..='9').contains(c)), "{last:?}");
        assert!(last.len() >= 6, "the last digit varies: {last:?}");
    }
}

/// A login made by the bulk action, with its initial password (shown once).
#[derive(Clone, serde::Serialize, ToSchema)]
pub struct CreatedAccount {
    pub person_id: i64,
    pub name: String,
    pub username: String,
    pub initial_password: String,
    pub user_id: i64,
}

impl std::fmt::Debug for CreatedAccount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // never the password (nor the name) in a log
        f.debug_struct("CreatedAccount")
            .field("person_id", &self.person_id)
            .field("user_id", &self.user_id)
            .finish_non_exhaustive()
    }
}

/// One login the bulk action is to make.
struct PlannedAccount {
    person_id: i64,
    name: String,
    username: String,
}

/// What the bulk action did.
pub enum BulkAccounts {
    /// A small batch (`WebConfig::bulk_accounts_inline_max`), made within the request.
    Made {
        org_name: String,
        accounts: Vec<CreatedAccount>,
    },
    /// A larger one: hashing runs as a job (`jobs.rs`).
    Started { job_id: String, total: usize },
}

/// Passwords of a bulk job hashed at once: a few blocking threads, so logins keep slots free.
const BULK_HASHERS: usize = 2;
/// Logins stored per transaction (each with its audit row), so a committee of tens of thousands
/// does not hold the write lock — and the check-in writer — for the whole batch.
const BULK_CHUNK: usize = 500;

/// Logins for every member of the subtree who has none: username = their mobile number if free,
/// else `p<person id>`; a forced change at first login. Shared by the API and the page. A batch
/// of at most `bulk_accounts_inline_max` is made at once (all or nothing); a larger one starts
/// a job on this node (one per org at a time: else 409 `accounts_job_running`).
pub async fn start_member_accounts(state: &AppState, auth: &Auth, org_id: i64) -> AppResult<BulkAccounts> {
    let scope = auth.scope(Cap::ManageAccounts)?;
    let org = state.store.orgs().org(&scope, org_id).await?;
    let planned = plan_member_accounts(state, &scope, org_id).await?;
    if planned.len() <= state.cfg.bulk_accounts_inline_max {
        let (accounts, failed) =
            make_member_accounts(state.clone(), scope, auth.actor(), org_id, planned, None).await;
        return match failed {
            Some(e) => Err(e),
            None => Ok(BulkAccounts::Made {
                org_name: org.name,
                accounts,
            }),
        };
    }
    let total = planned.len();
    let job = state
        .jobs
        .start(state.store.now(), auth.principal.user_id, org_id, org.name, total)
        .ok_or_else(|| AppError::Conflict(RuleViolation::new("accounts_job_running")))?;
    let job_id = jobs::lock(&job).id.clone();
    let (st, actor, locale) = (state.clone(), auth.actor(), current_locale());
    tracing::info!(job.id = %job_id, org.id = org_id, job.total = total, "bulk accounts job started");
    tokio::spawn(REQUEST_LOCALE.scope(locale, async move {
        let (made, failed) = make_member_accounts(st.clone(), scope, actor, org_id, planned, Some(&job)).await;
        let error = failed.map(|e| {
            if let AppError::Internal(cause) = &e {
                tracing::error!(error = %format!("{cause:#}"), "bulk accounts job failed");
            }
            (e.code(), e.message())
        });
        let mut j = jobs::lock(&job);
        tracing::info!(job.id = %j.id, job.created = made.len(), failed = error.is_some(), "bulk accounts job ended");
        j.finish(st.store.now(), made, error);
    }));
    Ok(BulkAccounts::Started { job_id, total })
}

/// Who gets a login, and which username: their phone if no login has it (nor another of this
/// batch), else `p<person id>`.
async fn plan_member_accounts(
    state: &AppState,
    scope: &dangjian_store::Scope,
    org_id: i64,
) -> AppResult<Vec<PlannedAccount>> {
    let members = state.store.members().members_for_accounts(scope, org_id).await?;
    let mut taken = std::collections::HashSet::new();
    let mut out = Vec::new();
    for (person_id, name, phone, _) in members.into_iter().filter(|(.., has_login)| !has_login) {
        let username = match phone {
            Some(p) if !taken.contains(&p) && state.store.accounts().user_by_name(&p).await?.is_none() => p,
            _ => format!("p{person_id}"),
        };
        taken.insert(username.clone());
        out.push(PlannedAccount {
            person_id,
            name,
            username,
        });
    }
    Ok(out)
}

/// Hashes the initial passwords (`BULK_HASHERS` at a time, each in a password-hash slot) and
/// stores the logins `BULK_CHUNK` a transaction, noting progress on `job`. Returns what was
/// stored, and the error that stopped it short if one did (what was stored stays stored: its
/// passwords must still be shown).
async fn make_member_accounts(
    state: AppState,
    scope: dangjian_store::Scope,
    actor: dangjian_store::Actor,
    org_id: i64,
    planned: Vec<PlannedAccount>,
    job: Option<&jobs::JobRef>,
) -> (Vec<CreatedAccount>, Option<AppError>) {
    let n = planned.len();
    let mut hashed: Vec<Option<(PlannedAccount, String, String)>> = (0..n).map(|_| None).collect();
    let mut pending = planned.into_iter().enumerate();
    let mut running = tokio::task::JoinSet::new();
    let mut failed = None;
    loop {
        while failed.is_none() && running.len() < BULK_HASHERS {
            let Some((i, p)) = pending.next() else {
                break;
            };
            let st = state.clone();
            running.spawn(async move {
                let password = initial_password();
                // no time limit here: the job waits its turn behind logins
                let permit = st
                    .hash_permits
                    .clone()
                    .acquire_owned()
                    .await
                    .map_err(|e| AppError::Internal(e.into()))?;
                let hash = auth::hash_with(permit, password.clone()).await?;
                Ok::<_, AppError>((i, p, password, hash))
            });
        }
        let Some(done) = running.join_next().await else {
            break;
        };
        match done {
            Ok(Ok((i, p, password, hash))) => {
                hashed[i] = Some((p, password, hash));
                if let Some(j) = job {
                    jobs::lock(j).hashed += 1;
                }
            }
            Ok(Err(e)) => failed = failed.or(Some(e)),
            Err(e) => failed = failed.or(Some(AppError::Internal(e.into()))),
        }
    }
    let mut made = Vec::with_capacity(n);
    if failed.is_some() {
        return (made, failed);
    }
    let all: Vec<(PlannedAccount, String, String)> = hashed.into_iter().flatten().collect();
    for chunk in all.chunks(BULK_CHUNK) {
        let accounts: Vec<NewAccount> = chunk
            .iter()
            .map(|(p, _, hash)| NewAccount {
                username: p.username.clone(),
                password_hash: hash.clone(),
                person_id: p.person_id,
            })
            .collect();
        match state
            .store
            .accounts()
            .create_member_accounts(&scope, &actor, org_id, &accounts)
            .await
        {
            Ok(ids) => {
                made.extend(
                    chunk
                        .iter()
                        .zip(ids)
                        .map(|((p, password, _), user_id)| CreatedAccount {
                            person_id: p.person_id,
                            name: p.name.clone(),
                            username: p.username.clone(),
                            initial_password: password.clone(),
                            user_id,
                        }),
                );
                if let Some(j) = job {
                    jobs::lock(j).created = made.len();
                }
            }
            Err(e) => return (made, Some(e.into())),
        }
    }
    (made, None)
}

/// `POST /api/v1/orgs/{id}/accounts`: 201 `{"items","total"}` for a small batch, else 202
/// `{"job_id","state","total","url"}` (and `Location`) for the job.
pub async fn bulk_create(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(org_id): ApiPath<i64>,
) -> AppResult<Response> {
    match start_member_accounts(&state, &auth, org_id).await? {
        BulkAccounts::Made { accounts, .. } => {
            Ok((StatusCode::CREATED, Json(BulkAnswer::Made(List::all(accounts)))).into_response())
        }
        BulkAccounts::Started { job_id, total } => {
            let url = format!("/api/v1/jobs/{job_id}");
            Ok((
                StatusCode::ACCEPTED,
                [(axum::http::header::LOCATION, url.clone())],
                Json(BulkAnswer::Started(JobStarted {
                    job_id,
                    state: JobState::Running,
                    total,
                    url,
                })),
            )
                .into_response())
        }
    }
}

/// The bulk action's answer: 201 the logins made (a small batch), or 202 the job making them.
#[derive(Serialize, ToSchema)]
#[serde(untagged)]
pub enum BulkAnswer {
    Made(#[schema(inline)] List<CreatedAccount>),
    Started(JobStarted),
}

/// A bulk-accounts job started (202, with `Location: url`).
#[derive(Debug, Serialize, ToSchema)]
pub struct JobStarted {
    pub job_id: String,
    pub state: JobState,
    pub total: usize,
    pub url: String,
}

/// A job as its owner sees it.
#[derive(Serialize, ToSchema)]
pub struct JobView {
    pub id: String,
    /// `bulk_accounts`
    pub kind: &'static str,
    pub org_id: i64,
    pub state: JobState,
    pub total: usize,
    /// Passwords hashed so far.
    pub hashed: usize,
    /// Logins stored so far.
    pub created: usize,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub finished_at: Option<String>,
    /// The logins made with their initial passwords: in the first answer after the job ended,
    /// never again (`result_taken`).
    #[schema(inline)]
    pub result: Option<List<CreatedAccount>>,
    pub result_taken: bool,
    pub error: Option<JobError>,
}

/// Why a job failed, in the starter's language.
#[derive(Debug, Serialize, ToSchema)]
pub struct JobError {
    pub code: &'static str,
    pub message: String,
}

/// A job as its owner sees it; the result (with the initial passwords) the first time it is
/// read after the job ended, and never again.
pub fn job_view(job: &mut jobs::Job) -> JobView {
    let rfc = crate::contract::rfc3339;
    JobView {
        result: job.take_result().map(List::all),
        id: job.id.clone(),
        kind: "bulk_accounts",
        org_id: job.org_id,
        state: job.state,
        total: job.total,
        hashed: job.hashed,
        created: job.created,
        created_at: rfc(job.created_at),
        finished_at: job.finished_at.map(rfc),
        result_taken: job.result_taken,
        error: job.error.as_ref().map(|(code, message)| JobError {
            code,
            message: message.clone(),
        }),
    }
}

/// `GET /api/v1/jobs/{id}`: progress and, once, the answer; only for the login that started it.
pub async fn job(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<String>,
) -> AppResult<Json<JobView>> {
    let job = state
        .jobs
        .get(&id, auth.principal.user_id)
        .ok_or(AppError::NotFound)?;
    let mut j = jobs::lock(&job);
    Ok(Json(job_view(&mut j)))
}

pub async fn list(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(page): ApiQuery<Page>,
) -> AppResult<Json<List<UserView>>> {
    let scope = auth.scope(Cap::ManageAccounts)?;
    let (rows, total) = state
        .store
        .accounts()
        .users(&scope, page.limit(), page.offset())
        .await?;
    Ok(Json(List::page(rows, total)))
}

row_view! {
    /// A login in the list.
    #[derive(Debug, Serialize, ToSchema)]
    pub struct UserView from UserListRow as u {
        pub id: i64,
        pub username: String,
        pub person_id: Option<i64>,
        pub person_name: Option<String>,
        pub must_change_password: bool,
        pub disabled: bool,
    }
}

/// A login with its initial password, shown this once (new login, reset).
#[derive(Debug, Serialize, ToSchema)]
pub struct LoginWithPassword {
    pub id: i64,
    pub username: String,
    /// None when the request gave the password.
    pub initial_password: Option<String>,
}

/// A login disabled or enabled.
#[derive(Debug, Serialize, ToSchema)]
pub struct LoginState {
    pub id: i64,
    pub disabled: bool,
}

/// A grant made.
#[derive(Debug, Serialize, ToSchema)]
pub struct GrantMade {
    pub id: i64,
    /// `admin`, `org_admin`, `secretary`, `committee`, `staff`, `member`, `device`
    pub role: &'static str,
    pub org_id: i64,
}

/// A role on an org's subtree, no stronger than the caller's own there.
#[derive(Deserialize, Default, Clone, ToSchema)]
pub struct GrantBody {
    pub role: Option<String>,
    pub org_id: Option<i64>,
}

/// A new login: a username, a password (or none for a generated initial one), the member
/// record it belongs to, and grants.
#[derive(Deserialize, Default, Clone, ToSchema)]
pub struct UserBody {
    pub username: Option<String>,
    pub password: Option<String>,
    pub person_id: Option<i64>,
    pub grants: Option<Vec<GrantBody>>,
}

/// A grantor may give only roles no stronger than one they hold over that org.
pub async fn check_grantable(state: &AppState, auth: &Auth, role: Role, org_id: i64) -> AppResult<()> {
    let scope = auth.scope(Cap::ManageAccounts)?;
    let org = state.store.orgs().org(&scope, org_id).await?;
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
    let found = state.store.accounts().managed_user(&scope, id).await?;
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
        state.store.members().person_row(&scope, pid).await?;
    }
    let (password, shown) = match b.password.filter(|p| !p.is_empty()) {
        Some(p) => {
            crate::session::api::check_new_password(&p)
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
        .accounts()
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
) -> AppResult<(StatusCode, Json<LoginWithPassword>)> {
    let made = create_login(&state, &auth, b).await?;
    Ok((
        StatusCode::CREATED,
        Json(LoginWithPassword {
            id: made.id,
            username: made.username,
            initial_password: made.initial_password,
        }),
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
        .accounts()
        .set_password(&auth.actor(), user.id, &hash, true)
        .await?;
    Ok((user, password))
}

pub async fn reset_password(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Json<LoginWithPassword>> {
    let (user, password) = reset_login_password(&state, &auth, id).await?;
    Ok(Json(LoginWithPassword {
        id: user.id,
        username: user.username,
        initial_password: Some(password),
    }))
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
    state
        .store
        .accounts()
        .set_disabled(&auth.actor(), user.id, disabled)
        .await?;
    Ok(user.id)
}

pub async fn disable(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Json<LoginState>> {
    let id = set_login_disabled(&state, &auth, id, true).await?;
    Ok(Json(LoginState { id, disabled: true }))
}

pub async fn enable(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Json<LoginState>> {
    let id = set_login_disabled(&state, &auth, id, false).await?;
    Ok(Json(LoginState { id, disabled: false }))
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
        .accounts()
        .add_grant(&scope, &auth.actor(), user.id, role, org_id)
        .await?;
    Ok((grant_id, role, org_id))
}

pub async fn add_grant(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<GrantBody>,
) -> AppResult<(StatusCode, Json<GrantMade>)> {
    let (grant_id, role, org_id) = grant_role(&state, &auth, id, b).await?;
    Ok((
        StatusCode::CREATED,
        Json(GrantMade {
            id: grant_id,
            role: role.as_str(),
            org_id,
        }),
    ))
}

/// Revokes a grant on an org in the caller's subtree, held by a login the caller may manage.
/// Returns the id of the login that held it.
pub async fn revoke_grant(state: &AppState, auth: &Auth, grant_id: i64) -> AppResult<i64> {
    let scope = auth.scope(Cap::ManageAccounts)?;
    let (user_id, _) = state
        .store
        .accounts()
        .grant_by_id(grant_id)
        .await?
        .filter(|(_, g)| scope.contains_path(&g.org_path))
        .ok_or(AppError::NotFound)?;
    managed_login(state, auth, Cap::ManageAccounts, user_id).await?;
    state
        .store
        .accounts()
        .remove_grant(&scope, &auth.actor(), grant_id)
        .await?;
    Ok(user_id)
}

/// The tokens of a login the caller may manage with `Cap::ManageTokens` (admin, org_admin),
/// to revoke one with `DELETE /api/v1/tokens/{id}`.
pub async fn user_tokens(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(page): ApiQuery<Page>,
) -> AppResult<Json<List<TokenView>>> {
    let user = managed_login(&state, &auth, Cap::ManageTokens, id).await?.user;
    let (rows, total) = state
        .store
        .accounts()
        .api_tokens(user.id, page.limit(), page.offset())
        .await?;
    Ok(Json(List::page(rows, total)))
}

pub async fn remove_grant(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Json<Done>> {
    revoke_grant(&state, &auth, id).await?;
    Ok(Json(Done::YES))
}

#[cfg(test)]
mod tests {
    #[test]
    fn initial_passwords_pass_the_password_rule_and_differ() {
        let a = super::initial_password();
        assert!(crate::session::api::check_new_password(&a).is_ok(), "{a}");
        assert_eq!(a.chars().count(), 10);
        assert_ne!(a, super::initial_password());
    }
}
