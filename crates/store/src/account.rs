//! Logins, role grants, sessions, API tokens and failed-login counting. Sessions and counters
//! live in the database so several nodes share them. Tokens are stored only as SHA-256 hashes.

use dangjian_rules::RuleViolation;
use serde_json::json;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use crate::Accounts;
use crate::audit::{Actor, EntryBuilder};
use crate::db::Tx;
use crate::error::{StoreError, StoreResult};
use crate::org::{org_in_scope, org_in_tx};
use crate::scope::{Grant, Grants, Role, Scope};

pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UserRow {
    pub id: i64,
    pub username: String,
    pub password_hash: String,
    pub person_id: Option<i64>,
    pub must_change_password: bool,
    pub disabled: bool,
    pub locale: String,
}

/// Who is behind a request, as found from a session cookie or bearer token.
#[derive(Debug, Clone)]
pub struct Principal {
    pub user_id: i64,
    pub username: String,
    pub person_id: Option<i64>,
    pub must_change_password: bool,
    pub locale: String,
    /// Some for cookie sessions (unsafe requests must echo it), None for bearer tokens.
    pub csrf_token: Option<String>,
    /// The bearer token the request came with (None for cookie sessions).
    pub token: Option<TokenInfo>,
    /// The device this login is (`POST /api/v1/devices`): a device may not mint tokens.
    pub device_id: Option<i64>,
}

/// The bearer token behind a request.
#[derive(Debug, Clone)]
pub struct TokenInfo {
    pub id: i64,
    /// None: valid until revoked (a device's token).
    pub expires_at: Option<OffsetDateTime>,
}

/// A bearer token as its owner (or an admin) sees it: never the secret.
#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct ApiTokenRow {
    pub id: i64,
    pub name: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub expires_at: Option<OffsetDateTime>,
    /// To about ten minutes (see `LAST_USED_EVERY`).
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_used_at: Option<OffsetDateTime>,
}

/// How stale `api_token.last_used_at` may get before a use writes it again: a door device's
/// many requests a minute cost one write every ten minutes, not one each.
pub const LAST_USED_EVERY: time::Duration = time::Duration::minutes(10);

#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct UserListRow {
    pub id: i64,
    pub username: String,
    pub person_id: Option<i64>,
    pub person_name: Option<String>,
    /// Where the member record is (decides, with the grants, who may manage the login).
    #[serde(skip)]
    pub person_path: Option<String>,
    pub must_change_password: bool,
    pub disabled: bool,
}

/// A login found by `managed_user`, with what decides who may manage it.
#[derive(Debug, Clone)]
pub struct ManagedUser {
    pub user: UserRow,
    pub grants: Grants,
    /// The org path of its member record, if it has one.
    pub person_path: Option<String>,
}

/// One login to create in a batch (bulk accounts for a branch).
pub struct NewAccount {
    pub username: String,
    pub password_hash: String,
    pub person_id: i64,
}

#[derive(sqlx::FromRow)]
struct PrincipalRow {
    id: i64,
    username: String,
    person_id: Option<i64>,
    must_change_password: bool,
    disabled: bool,
    locale: String,
    csrf_token: Option<String>,
    expires_at: Option<OffsetDateTime>,
    revoked: bool,
    token_id: Option<i64>,
    device_id: Option<i64>,
}

impl PrincipalRow {
    fn into_principal(self) -> Option<Principal> {
        (!self.disabled && !self.revoked).then_some(Principal {
            user_id: self.id,
            username: self.username,
            person_id: self.person_id,
            must_change_password: self.must_change_password,
            locale: self.locale,
            csrf_token: self.csrf_token,
            token: self.token_id.map(|id| TokenInfo {
                id,
                expires_at: self.expires_at,
            }),
            device_id: self.device_id,
        })
    }
}

const USER_COLS: &str = "id, username, password_hash, person_id, must_change_password, disabled, locale";

impl Accounts<'_> {
    pub async fn user_by_name(&self, username: &str) -> StoreResult<Option<UserRow>> {
        let sql = format!("SELECT {USER_COLS} FROM app_user WHERE username = $1");
        Ok(
            with_db!(&self.db, p => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(username).fetch_optional(p).await)?,
        )
    }

    pub async fn user_by_id(&self, id: i64) -> StoreResult<Option<UserRow>> {
        let sql = format!("SELECT {USER_COLS} FROM app_user WHERE id = $1");
        Ok(
            with_db!(&self.db, p => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(p).await)?,
        )
    }

    pub async fn grants(&self, user_id: i64, person_id: Option<i64>) -> StoreResult<Grants> {
        let rows: Vec<(i64, String, i64, String)> = with_db!(&self.db, p => sqlx::query_as(
            "SELECT g.id, g.role, g.org_id, o.path FROM role_grant g JOIN org o ON o.id = g.org_id WHERE g.user_id = $1 ORDER BY g.id")
            .bind(user_id).fetch_all(p).await)?;
        let list = rows
            .into_iter()
            .filter_map(|(id, role, org_id, org_path)| {
                Role::parse(&role).map(|role| Grant {
                    id,
                    role,
                    org_id,
                    org_path,
                })
            })
            .collect();
        Ok(Grants {
            user_id,
            person_id,
            list,
        })
    }

    /// Creates a login (CLI `create-admin`, demo, admin pages). Username must be unused.
    pub async fn create_user(
        &self,
        actor: &Actor,
        username: &str,
        password_hash: &str,
        person_id: Option<i64>,
        must_change: bool,
        grants: &[(Role, i64)],
    ) -> StoreResult<i64> {
        let (mut tx, now) = self.begin_now().await?;
        let taken: Option<i64> = with_tx!(&mut tx, c => sqlx::query_scalar("SELECT id FROM app_user WHERE username = $1")
            .bind(username).fetch_optional(c).await)?;
        if taken.is_some() {
            return Err(StoreError::Conflict(RuleViolation::field(
                "username_taken",
                "username",
            )));
        }
        if let Some(pid) = person_id {
            let has_login: Option<i64> = with_tx!(&mut tx, c => sqlx::query_scalar("SELECT id FROM app_user WHERE person_id = $1")
                .bind(pid).fetch_optional(c).await)?;
            if has_login.is_some() {
                return Err(StoreError::Conflict(RuleViolation::field(
                    "person_has_login",
                    "person_id",
                )));
            }
        }
        let id: i64 = with_tx!(&mut tx, c => sqlx::query_scalar(
            "INSERT INTO app_user (username, password_hash, person_id, must_change_password, disabled, created_at) \
             VALUES ($1, $2, $3, $4, FALSE, $5) RETURNING id")
            .bind(username).bind(password_hash).bind(person_id).bind(must_change).bind(now).fetch_one(c).await)?;
        let mut path = None;
        for (role, org_id) in grants {
            let org = org_in_tx(&mut tx, *org_id).await?;
            with_tx!(&mut tx, c => sqlx::query("INSERT INTO role_grant (user_id, role, org_id, created_at) VALUES ($1, $2, $3, $4)")
                .bind(id).bind(role.as_str()).bind(org_id).bind(now).execute(c).await.map(|r| r.rows_affected()))?;
            path.get_or_insert(org.path);
        }
        tx.into_audit(actor, now).act("create", "user").id(id).org(path).after(json!({"username": username, "person_id": person_id,
                "grants": grants.iter().map(|(r, o)| json!({"role": r.as_str(), "org_id": o})).collect::<Vec<_>>()}))
.commit()
.await?;
        Ok(id)
    }

    /// Creates logins for many members at once, each with the `member` role on their own org and
    /// a forced password change; one audit row for the batch.
    pub async fn create_member_accounts(
        &self,
        scope: &Scope,
        actor: &Actor,
        org_id: i64,
        accounts: &[NewAccount],
    ) -> StoreResult<Vec<i64>> {
        let (mut tx, now) = self.begin_now().await?;
        let org = org_in_scope(&mut tx, scope, org_id).await?;
        let mut ids = Vec::with_capacity(accounts.len());
        for a in accounts {
            let person: Option<(i64, String)> = with_tx!(&mut tx, c => sqlx::query_as(
                "SELECT org_id, org_path FROM person WHERE id = $1").bind(a.person_id).fetch_optional(c).await)?;
            let Some((person_org, person_path)) = person.filter(|(_, p)| p.starts_with(&org.path)) else {
                return Err(StoreError::NotFound);
            };
            let taken: Option<i64> = with_tx!(&mut tx, c => sqlx::query_scalar(
                "SELECT id FROM app_user WHERE username = $1 OR person_id = $2").bind(&a.username).bind(a.person_id).fetch_optional(c).await)?;
            if taken.is_some() {
                return Err(StoreError::Conflict(
                    RuleViolation::field("username_taken", "username").arg("username", &a.username),
                ));
            }
            let id: i64 = with_tx!(&mut tx, c => sqlx::query_scalar(
                "INSERT INTO app_user (username, password_hash, person_id, must_change_password, disabled, created_at) \
                 VALUES ($1, $2, $3, TRUE, FALSE, $4) RETURNING id")
                .bind(&a.username).bind(&a.password_hash).bind(a.person_id).bind(now).fetch_one(c).await)?;
            with_tx!(&mut tx, c => sqlx::query("INSERT INTO role_grant (user_id, role, org_id, created_at) VALUES ($1, 'member', $2, $3)")
                .bind(id).bind(person_org).bind(now).execute(c).await.map(|r| r.rows_affected()))?;
            let _ = person_path;
            ids.push(id);
        }
        tx.into_audit(actor, now)
            .act("bulk_create", "user")
            .org(org.path.clone())
            .after(json!({"org_id": org_id, "count": ids.len(), "user_ids": ids}))
            .commit()
            .await?;
        Ok(ids)
    }

    /// The login as seen by someone managing accounts: 404 unless one of its grants, or its
    /// member record, lies in the scope. Whether the caller may act on it is
    /// `Grants::may_manage` over what this returns.
    pub async fn managed_user(&self, scope: &Scope, user_id: i64) -> StoreResult<ManagedUser> {
        let user = self.user_by_id(user_id).await?.ok_or(StoreError::NotFound)?;
        let grants = self.grants(user.id, user.person_id).await?;
        let person_path: Option<String> = match user.person_id {
            Some(pid) => {
                with_db!(&self.db, p => sqlx::query_scalar("SELECT org_path FROM person WHERE id = $1")
                .bind(pid).fetch_optional(p).await)?
            }
            None => None,
        };
        let visible = grants.list().iter().any(|g| scope.contains_path(&g.org_path))
            || person_path.as_deref().is_some_and(|p| scope.contains_path(p));
        if visible {
            Ok(ManagedUser {
                user,
                grants,
                person_path,
            })
        } else {
            Err(StoreError::NotFound)
        }
    }

    pub async fn users(
        &self,
        scope: &Scope,
        limit: i64,
        offset: i64,
    ) -> StoreResult<(Vec<UserListRow>, i64)> {
        let (f1, b1) = scope.sql_filter("o.path", None, 0);
        let (f2, b2) = scope.sql_filter("p.org_path", None, b1.len());
        let cond = format!(
            "(u.id IN (SELECT g.user_id FROM role_grant g JOIN org o ON o.id = g.org_id WHERE {f1}) OR {f2})"
        );
        let n = b1.len() + b2.len();
        let sql = format!(
            "SELECT u.id, u.username, u.person_id, p.name AS person_name, p.org_path AS person_path, u.must_change_password, u.disabled \
             FROM app_user u LEFT JOIN person p ON p.id = u.person_id WHERE {cond} ORDER BY u.id LIMIT ${} OFFSET ${}",
            n + 1,
            n + 2
        );
        let count_sql =
            format!("SELECT COUNT(*) FROM app_user u LEFT JOIN person p ON p.id = u.person_id WHERE {cond}");
        with_db!(&self.db, p => {
            let mut q = sqlx::query_as::<_, UserListRow>(sqlx::AssertSqlSafe(sql));
            let mut cq = sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(count_sql));
            for b in b1.iter().chain(b2.iter()) { q = q.bind(b); cq = cq.bind(b); }
            let rows = q.bind(limit).bind(offset).fetch_all(p).await?;
            let total = cq.fetch_one(p).await?;
            Ok((rows, total))
        })
    }

    pub async fn set_password(
        &self,
        actor: &Actor,
        user_id: i64,
        password_hash: &str,
        must_change: bool,
    ) -> StoreResult<()> {
        let (mut tx, now) = self.begin_now().await?;
        let n = with_tx!(&mut tx, c => sqlx::query(
            "UPDATE app_user SET password_hash = $1, must_change_password = $2, password_changed_at = $3 WHERE id = $4")
            .bind(password_hash).bind(must_change).bind(now).bind(user_id).execute(c).await.map(|r| r.rows_affected()))?;
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        // a changed or reset password ends every other session of that user, and its tokens:
        // whoever knew the old password may have made one
        with_tx!(&mut tx, c => sqlx::query("DELETE FROM session WHERE user_id = $1").bind(user_id).execute(c).await.map(|r| r.rows_affected()))?;
        let tokens = with_tx!(&mut tx, c => sqlx::query("UPDATE api_token SET revoked = TRUE WHERE user_id = $1 AND revoked = FALSE")
            .bind(user_id).execute(c).await.map(|r| r.rows_affected()))?;
        let action = if must_change {
            "reset_password"
        } else {
            "change_password"
        };
        on_user(tx, actor, now, action, "user", user_id, user_id)
            .await?
            .after(json!({"must_change_password": must_change, "tokens_revoked": tokens}))
            .commit()
            .await?;
        self.auth_changed();
        Ok(())
    }

    pub async fn set_disabled(&self, actor: &Actor, user_id: i64, disabled: bool) -> StoreResult<()> {
        let (mut tx, now) = self.begin_now().await?;
        with_tx!(&mut tx, c => sqlx::query("UPDATE app_user SET disabled = $1 WHERE id = $2")
            .bind(disabled).bind(user_id).execute(c).await.map(|r| r.rows_affected()))?;
        if disabled {
            with_tx!(&mut tx, c => sqlx::query("DELETE FROM session WHERE user_id = $1").bind(user_id).execute(c).await.map(|r| r.rows_affected()))?;
            with_tx!(&mut tx, c => sqlx::query("UPDATE api_token SET revoked = TRUE WHERE user_id = $1").bind(user_id).execute(c).await.map(|r| r.rows_affected()))?;
        }
        let action = if disabled { "disable" } else { "enable" };
        on_user(tx, actor, now, action, "user", user_id, user_id)
            .await?
            .after(json!({"disabled": disabled}))
            .commit()
            .await?;
        self.auth_changed();
        Ok(())
    }

    pub async fn add_grant(
        &self,
        scope: &Scope,
        actor: &Actor,
        user_id: i64,
        role: Role,
        org_id: i64,
    ) -> StoreResult<i64> {
        let (mut tx, now) = self.begin_now().await?;
        let org = org_in_tx(&mut tx, org_id).await?;
        if !scope.contains_path(&org.path) {
            return Err(RuleViolation::field("org_not_found", "org_id").into());
        }
        let id: i64 = with_tx!(&mut tx, c => sqlx::query_scalar(
            "INSERT INTO role_grant (user_id, role, org_id, created_at) VALUES ($1, $2, $3, $4) RETURNING id")
            .bind(user_id).bind(role.as_str()).bind(org_id).bind(now).fetch_one(c).await)?;
        tx.into_audit(actor, now)
            .act("grant", "user")
            .id(user_id)
            .org(org.path)
            .after(json!({"grant_id": id, "role": role.as_str(), "org_id": org_id}))
            .commit()
            .await?;
        self.auth_changed();
        Ok(id)
    }

    /// One grant and the user holding it (no scope: the caller checks `org_path`).
    pub async fn grant_by_id(&self, grant_id: i64) -> StoreResult<Option<(i64, Grant)>> {
        let row: Option<(i64, String, i64, String)> = with_db!(&self.db, p => sqlx::query_as(
            "SELECT g.user_id, g.role, g.org_id, o.path FROM role_grant g JOIN org o ON o.id = g.org_id WHERE g.id = $1")
            .bind(grant_id).fetch_optional(p).await)?;
        Ok(row.and_then(|(user_id, role, org_id, org_path)| {
            Role::parse(&role).map(|role| {
                (
                    user_id,
                    Grant {
                        id: grant_id,
                        role,
                        org_id,
                        org_path,
                    },
                )
            })
        }))
    }

    pub async fn remove_grant(&self, scope: &Scope, actor: &Actor, grant_id: i64) -> StoreResult<()> {
        let (mut tx, now) = self.begin_now().await?;
        let found: Option<(i64, String, i64, String)> = with_tx!(&mut tx, c => sqlx::query_as(
            "SELECT g.user_id, g.role, g.org_id, o.path FROM role_grant g JOIN org o ON o.id = g.org_id WHERE g.id = $1")
            .bind(grant_id).fetch_optional(c).await)?;
        let Some((user_id, role, org_id, path)) = found.filter(|f| scope.contains_path(&f.3)) else {
            return Err(StoreError::NotFound);
        };
        with_tx!(&mut tx, c => sqlx::query("DELETE FROM role_grant WHERE id = $1").bind(grant_id).execute(c).await.map(|r| r.rows_affected()))?;
        tx.into_audit(actor, now)
            .act("revoke", "user")
            .id(user_id)
            .org(path)
            .before(json!({"grant_id": grant_id, "role": role, "org_id": org_id}))
            .commit()
            .await?;
        self.auth_changed();
        Ok(())
    }

    // ---- sessions and tokens ----

    pub async fn create_session(
        &self,
        user_id: i64,
        token: &str,
        csrf: &str,
        ttl: time::Duration,
    ) -> StoreResult<()> {
        let now = self.now();
        let mut tx = self
            .begin_unaudited("a session is a login's state, not a change to record")
            .await?;
        with_tx!(&mut tx, c => sqlx::query(
            "INSERT INTO session (token_hash, user_id, csrf_token, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(token_hash(token)).bind(user_id).bind(csrf).bind(now).bind(now + ttl).execute(c).await.map(|r| r.rows_affected()))?;
        // sweep expired sessions of this user while we hold the write lock anyway
        with_tx!(&mut tx, c => sqlx::query("DELETE FROM session WHERE user_id = $1 AND expires_at < $2")
            .bind(user_id).bind(now).execute(c).await.map(|r| r.rows_affected()))?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn session_principal(&self, token: &str) -> StoreResult<Option<Principal>> {
        let row: Option<PrincipalRow> = with_db!(&self.db, p => sqlx::query_as(
            "SELECT u.id, u.username, u.person_id, u.must_change_password, u.disabled, u.locale, \
             s.csrf_token, s.expires_at, FALSE AS revoked, CAST(NULL AS BIGINT) AS token_id, \
             (SELECT MIN(d.id) FROM device d WHERE d.user_id = u.id) AS device_id \
             FROM session s JOIN app_user u ON u.id = s.user_id WHERE s.token_hash = $1")
            .bind(token_hash(token)).fetch_optional(p).await)?;
        let now = self.now();
        Ok(row
            .filter(|r| r.expires_at.is_some_and(|e| e > now))
            .and_then(PrincipalRow::into_principal))
    }

    pub async fn delete_session(&self, token: &str) -> StoreResult<()> {
        let mut tx = self
            .begin_unaudited("a session is a login's state, not a change to record")
            .await?;
        with_tx!(&mut tx, c => sqlx::query("DELETE FROM session WHERE token_hash = $1").bind(token_hash(token)).execute(c).await.map(|r| r.rows_affected()))?;
        tx.commit().await?;
        Ok(())
    }

    /// A bearer token for `user_id`, valid until `expires_at` (None: until revoked).
    pub async fn create_api_token(
        &self,
        actor: &Actor,
        user_id: i64,
        name: &str,
        token: &str,
        expires_at: Option<OffsetDateTime>,
    ) -> StoreResult<i64> {
        let (mut tx, now) = self.begin_now().await?;
        let id: i64 = with_tx!(&mut tx, c => sqlx::query_scalar(
            "INSERT INTO api_token (token_hash, user_id, name, revoked, created_at, expires_at) VALUES ($1, $2, $3, FALSE, $4, $5) RETURNING id")
            .bind(token_hash(token)).bind(user_id).bind(name).bind(now).bind(expires_at).fetch_one(c).await)?;
        tx.into_audit(actor, now).act("create", "api_token").id(id).after(json!({"user_id": user_id, "name": name, "expires_at": expires_at.map(|e| e.unix_timestamp())}))
.commit()
.await?;
        Ok(id)
    }

    /// The login's tokens that are not revoked (expired ones too, until revoked), newest first.
    pub async fn api_tokens(
        &self,
        user_id: i64,
        limit: i64,
        offset: i64,
    ) -> StoreResult<(Vec<ApiTokenRow>, i64)> {
        with_db!(&self.db, p => {
            let rows = sqlx::query_as::<_, ApiTokenRow>(
                "SELECT id, name, created_at, expires_at, last_used_at FROM api_token \
                 WHERE user_id = $1 AND revoked = FALSE ORDER BY id DESC LIMIT $2 OFFSET $3")
                .bind(user_id).bind(limit).bind(offset).fetch_all(p).await?;
            let total = sqlx::query_scalar::<_, i64>(
                "SELECT COUNT(*) FROM api_token WHERE user_id = $1 AND revoked = FALSE")
                .bind(user_id).fetch_one(p).await?;
            Ok((rows, total))
        })
    }

    /// Who holds a token that is not revoked (no scope: the caller decides who may revoke it).
    pub async fn api_token_owner(&self, token_id: i64) -> StoreResult<Option<i64>> {
        Ok(with_db!(&self.db, p => sqlx::query_scalar(
            "SELECT user_id FROM api_token WHERE id = $1 AND revoked = FALSE").bind(token_id).fetch_optional(p).await)?)
    }

    /// Revokes one token; this node's cached bearer callers are dropped at once.
    pub async fn revoke_api_token(&self, actor: &Actor, token_id: i64) -> StoreResult<()> {
        let (mut tx, now) = self.begin_now().await?;
        let user_id: Option<i64> = with_tx!(&mut tx, c => sqlx::query_scalar(
            "UPDATE api_token SET revoked = TRUE WHERE id = $1 AND revoked = FALSE RETURNING user_id")
            .bind(token_id).fetch_optional(c).await)?;
        let Some(user_id) = user_id else {
            return Err(StoreError::NotFound);
        };
        on_user(tx, actor, now, "revoke", "api_token", token_id, user_id)
            .await?
            .after(json!({"user_id": user_id}))
            .commit()
            .await?;
        self.auth_changed();
        Ok(())
    }

    /// The caller behind a bearer token with their grants, from a small in-memory cache: a
    /// door device posts many check-ins a second and should not cost two reads each. An entry
    /// lives `TOKEN_CACHE_TTL` at most, and every change to logins, grants or the org tree on
    /// this node empties the cache (`auth_changed`); another node's change is seen within the TTL.
    pub async fn token_auth(&self, token: &str) -> StoreResult<Option<(Principal, Grants)>> {
        let key = token_hash(token);
        let epoch = self.auth_cache.epoch.load(std::sync::atomic::Ordering::Acquire);
        if let Some(hit) = self.auth_cache.get(&key, epoch) {
            // a token that expired while cached is no longer taken
            let now = self.now();
            let live = hit
                .0
                .token
                .as_ref()
                .is_none_or(|t| t.expires_at.is_none_or(|e| e > now));
            return Ok(live.then_some(hit));
        }
        let Some(p) = self.token_principal(token).await? else {
            return Ok(None);
        };
        let g = self.grants(p.user_id, p.person_id).await?;
        self.auth_cache.put(key, epoch, (p.clone(), g.clone()));
        Ok(Some((p, g)))
    }

    /// Logins, grants or org paths changed on this node: cached callers are stale.
    pub fn auth_changed(&self) {
        self.auth_cache.clear();
    }

    /// The caller behind a bearer token, read from the database: none if the token is
    /// unknown, revoked or expired, or its login disabled. Notes the use (`LAST_USED_EVERY`).
    pub async fn token_principal(&self, token: &str) -> StoreResult<Option<Principal>> {
        let row: Option<(PrincipalRow, Option<OffsetDateTime>)> = with_db!(&self.db, p => {
            let q = "SELECT u.id, u.username, u.person_id, u.must_change_password, u.disabled, u.locale, \
                 NULL AS csrf_token, t.expires_at, t.revoked, t.id AS token_id, \
                 (SELECT MIN(d.id) FROM device d WHERE d.user_id = u.id) AS device_id, t.last_used_at \
                 FROM api_token t JOIN app_user u ON u.id = t.user_id WHERE t.token_hash = $1";
            match sqlx::query(q).bind(token_hash(token)).fetch_optional(p).await? {
                Some(r) => {
                    use sqlx::Row;
                    let last: Option<OffsetDateTime> = r.try_get("last_used_at")?;
                    Ok::<_, sqlx::Error>(Some((sqlx::FromRow::from_row(&r)?, last)))
                }
                None => Ok(None),
            }
        })?;
        let now = self.now();
        let Some((row, last_used)) = row.filter(|(r, _)| r.expires_at.is_none_or(|e| e > now)) else {
            return Ok(None);
        };
        let Some(principal) = row.into_principal() else {
            return Ok(None);
        };
        if last_used.is_none_or(|l| now - l >= LAST_USED_EVERY)
            && let Some(t) = &principal.token
        {
            let mut tx = self.begin_unaudited("a token's last use is bookkeeping").await?;
            with_tx!(&mut tx, c => sqlx::query("UPDATE api_token SET last_used_at = $1 WHERE id = $2")
                .bind(now).bind(t.id).execute(c).await.map(|r| r.rows_affected()))?;
            tx.commit().await?;
        }
        Ok(Some(principal))
    }

    // ---- failed logins (fixed one-minute windows and a backoff, shared by all nodes) ----

    /// Whether an attempt on these buckets would be refused now, read without taking any lock:
    /// lets a flood of attempts that are over the limit be answered before they queue for a
    /// password check. [`Store::begin_login_attempt`] decides for real.
    pub async fn login_refused_until(
        &self,
        user_bucket: &str,
        addr_bucket: &str,
        limits: &LoginLimits,
    ) -> StoreResult<Option<OffsetDateTime>> {
        let now = self.now();
        let minute = minute_key(now);
        let blocked: Option<Option<OffsetDateTime>> = with_db!(&self.db, p => sqlx::query_scalar(
            "SELECT blocked_until FROM login_throttle WHERE bucket = $1").bind(user_bucket).fetch_optional(p).await)?;
        let mut worst = 0;
        for b in [user_bucket, addr_bucket] {
            let n: i64 = with_db!(&self.db, p => sqlx::query_scalar(
                "SELECT COUNT(*) FROM login_failure WHERE bucket = $1 AND minute = $2").bind(b).bind(&minute).fetch_one(p).await)?;
            worst = worst.max(n);
        }
        Ok(refusal(now, worst, blocked.flatten(), limits))
    }

    /// Counts a login attempt as failed *before* its password is verified, in one transaction
    /// that first updates the rows of both buckets (the username's, then the address's — always
    /// in that order, so two attempts never wait on each other crosswise): concurrent attempts
    /// are decided one after another on both engines, so N parallel wrong passwords cannot all
    /// pass a limit of 10. Refused (the minute's window is full for either bucket, or the
    /// username is in its backoff) → nothing is recorded and the caller answers 429 with
    /// `retry_at`. Admitted → the attempt stands as a failure until [`Accounts::login_succeeded`](crate::Accounts::login_succeeded)
    /// takes it back.
    pub async fn begin_login_attempt(
        &self,
        user_bucket: &str,
        addr_bucket: &str,
        limits: &LoginLimits,
    ) -> StoreResult<LoginAttempt> {
        let now = self.now();
        let minute = minute_key(now);
        let mut tx = self
            .begin_unaudited("login-limit rows count attempts, they change nothing")
            .await?;
        let mut user_state: (i64, Option<OffsetDateTime>) = (0, None);
        for (i, b) in [user_bucket, addr_bucket].into_iter().enumerate() {
            let row: (i64, Option<OffsetDateTime>) = with_tx!(&mut tx, c => sqlx::query_as(
                "INSERT INTO login_throttle (bucket, failures, blocked_until, touched_at) VALUES ($1, 0, NULL, $2) \
                 ON CONFLICT (bucket) DO UPDATE SET touched_at = $2 RETURNING failures, blocked_until")
                .bind(b).bind(now).fetch_one(c).await)?;
            if i == 0 {
                user_state = row;
            }
        }
        let mut worst = 0;
        for b in [user_bucket, addr_bucket] {
            let n: i64 = with_tx!(&mut tx, c => sqlx::query_scalar(
                "SELECT COUNT(*) FROM login_failure WHERE bucket = $1 AND minute = $2").bind(b).bind(&minute).fetch_one(c).await)?;
            worst = worst.max(n);
        }
        if let Some(retry_at) = refusal(now, worst, user_state.1, limits) {
            tx.commit().await?;
            return Ok(LoginAttempt::Refused { retry_at });
        }
        let mut failure_ids = Vec::with_capacity(2);
        for b in [user_bucket, addr_bucket] {
            let id: i64 = with_tx!(&mut tx, c => sqlx::query_scalar(
                "INSERT INTO login_failure (bucket, minute) VALUES ($1, $2) RETURNING id")
                .bind(b).bind(&minute).fetch_one(c).await)?;
            failure_ids.push(id);
        }
        let failures = user_state.0 + 1;
        let blocked_until = backoff(failures, limits).map(|d| now + d);
        with_tx!(&mut tx, c => sqlx::query(
            "UPDATE login_throttle SET failures = $1, blocked_until = $2 WHERE bucket = $3")
            .bind(failures).bind(blocked_until).bind(user_bucket).execute(c).await.map(|r| r.rows_affected()))?;
        tx.commit().await?;
        self.sweep_login_rows(now, &minute).await?;
        Ok(LoginAttempt::Admitted(LoginTicket {
            failure_ids,
            user_bucket: user_bucket.to_owned(),
        }))
    }

    /// The password was right: the attempt does not count, and the username's backoff starts
    /// afresh.
    pub async fn login_succeeded(&self, ticket: LoginTicket) -> StoreResult<()> {
        let mut tx = self
            .begin_unaudited("login-limit rows count attempts, they change nothing")
            .await?;
        with_tx!(&mut tx, c => sqlx::query(
            "UPDATE login_throttle SET failures = 0, blocked_until = NULL WHERE bucket = $1")
            .bind(&ticket.user_bucket).execute(c).await.map(|r| r.rows_affected()))?;
        for id in ticket.failure_ids {
            with_tx!(&mut tx, c => sqlx::query("DELETE FROM login_failure WHERE id = $1")
                .bind(id).execute(c).await.map(|r| r.rows_affected()))?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Old windows and buckets quiet for a day go, at most once a minute per node, in a
    /// transaction of their own (it holds no bucket row while it waits for one).
    async fn sweep_login_rows(&self, now: OffsetDateTime, minute: &str) -> StoreResult<()> {
        let last = self.login_sweep.load(std::sync::atomic::Ordering::Relaxed);
        if now.unix_timestamp() - last < 60 {
            return Ok(());
        }
        self.login_sweep
            .store(now.unix_timestamp(), std::sync::atomic::Ordering::Relaxed);
        let mut tx = self.begin_unaudited("sweeping expired login-limit rows").await?;
        with_tx!(&mut tx, c => sqlx::query("DELETE FROM login_failure WHERE minute < $1")
            .bind(minute).execute(c).await.map(|r| r.rows_affected()))?;
        with_tx!(&mut tx, c => sqlx::query("DELETE FROM login_throttle WHERE touched_at < $1")
            .bind(now - time::Duration::days(1)).execute(c).await.map(|r| r.rows_affected()))?;
        tx.commit().await?;
        Ok(())
    }
}

/// The limits a login attempt is held to (deployment settings).
#[derive(Debug, Clone, Copy)]
pub struct LoginLimits {
    /// Failed attempts per username and per client address in one minute (API.md: 10).
    pub per_minute: i64,
    /// Consecutive failures of a username after which each further one makes it wait.
    pub backoff_after: i64,
    /// The longest wait.
    pub backoff_max: time::Duration,
}

/// What `begin_login_attempt` decided.
#[derive(Debug)]
pub enum LoginAttempt {
    /// Counted as failed until `login_succeeded`: verify the password now.
    Admitted(LoginTicket),
    /// Not verified: over the limit until `retry_at`.
    Refused { retry_at: OffsetDateTime },
}

/// An admitted attempt's failure rows, taken back if the password was right.
#[derive(Debug)]
pub struct LoginTicket {
    failure_ids: Vec<i64>,
    user_bucket: String,
}

/// The one-minute window a time falls in (UTC), as stored in `login_failure.minute`.
fn minute_key(now: OffsetDateTime) -> String {
    now.format(time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]"
    ))
    .unwrap_or_default()
}

/// The wait after a username's `failures`-th consecutive failure: none up to `backoff_after`,
/// then 1 s, 2 s, 4 s … doubling up to `backoff_max`.
pub fn backoff(failures: i64, limits: &LoginLimits) -> Option<time::Duration> {
    let over = failures - limits.backoff_after;
    if over < 0 {
        return None;
    }
    let secs = 1i64
        .checked_shl(u32::try_from(over).unwrap_or(u32::MAX))
        .filter(|s| *s > 0);
    Some(match secs {
        Some(s) if s < limits.backoff_max.whole_seconds() => time::Duration::seconds(s),
        _ => limits.backoff_max,
    })
}

/// Until when an attempt is refused: the window is full (until the next minute), or the
/// username waits out its backoff; the later of the two.
fn refusal(
    now: OffsetDateTime,
    window_failures: i64,
    blocked_until: Option<OffsetDateTime>,
    limits: &LoginLimits,
) -> Option<OffsetDateTime> {
    let window_end = (window_failures >= limits.per_minute).then(|| {
        let into_minute = time::Duration::seconds(i64::from(now.second()))
            + time::Duration::nanoseconds(i64::from(now.nanosecond()));
        now - into_minute + time::Duration::minutes(1)
    });
    let backoff_end = blocked_until.filter(|b| *b > now);
    window_end.max(backoff_end)
}

impl Accounts<'_> {
    /// The user's UI language (`zh-CN` or `en`).
    pub async fn set_locale(&self, user_id: i64, locale: &str) -> StoreResult<()> {
        let mut tx = self
            .begin_unaudited("a user's UI language is a preference")
            .await?;
        with_tx!(&mut tx, c => sqlx::query("UPDATE app_user SET locale = $1 WHERE id = $2")
            .bind(locale).bind(user_id).execute(c).await.map(|r| r.rows_affected()))?;
        tx.commit().await?;
        self.auth_changed();
        Ok(())
    }
}

/// The last audit row of a change to a login (or its token `id`), in the chain of where the login
/// belongs: its member record's org, else its first grant's.
async fn on_user<'a>(
    mut tx: Tx,
    actor: &'a Actor,
    now: OffsetDateTime,
    action: &'a str,
    entity: &'a str,
    id: i64,
    user_id: i64,
) -> StoreResult<EntryBuilder<'a, Tx>> {
    let path: Option<String> = with_tx!(&mut tx, c => sqlx::query_scalar(
        "SELECT COALESCE(\
           (SELECT p.org_path FROM app_user u JOIN person p ON p.id = u.person_id WHERE u.id = $1), \
           (SELECT o.path FROM role_grant g JOIN org o ON o.id = g.org_id WHERE g.user_id = $1 ORDER BY g.id LIMIT 1))")
        .bind(user_id).fetch_one(c).await)?;
    Ok(tx.into_audit(actor, now).act(action, entity).id(id).org(path))
}

impl Accounts<'_> {
    /// The grants of many users in one query (list pages), keyed by user id.
    pub async fn grants_of_users(
        &self,
        users: &[(i64, Option<i64>)],
    ) -> StoreResult<std::collections::HashMap<i64, Grants>> {
        let mut out: std::collections::HashMap<i64, Grants> = users
            .iter()
            .map(|(user_id, person_id)| {
                (
                    *user_id,
                    Grants {
                        user_id: *user_id,
                        person_id: *person_id,
                        list: Vec::new(),
                    },
                )
            })
            .collect();
        if users.is_empty() {
            return Ok(out);
        }
        let sql = format!(
            "SELECT g.user_id, g.id, g.role, g.org_id, o.path FROM role_grant g JOIN org o ON o.id = g.org_id \
             WHERE g.user_id IN ({}) ORDER BY g.id",
            crate::db::id_list(users.iter().map(|(u, _)| *u))
        );
        let rows: Vec<(i64, i64, String, i64, String)> =
            with_db!(&self.db, p => sqlx::query_as(sqlx::AssertSqlSafe(sql)).fetch_all(p).await)?;
        for (user_id, id, role, org_id, org_path) in rows {
            if let (Some(g), Some(role)) = (out.get_mut(&user_id), Role::parse(&role)) {
                g.list.push(Grant {
                    id,
                    role,
                    org_id,
                    org_path,
                });
            }
        }
        Ok(out)
    }
}

/// How long a bearer token's caller is taken from memory before it is read again.
pub const TOKEN_CACHE_TTL: std::time::Duration = std::time::Duration::from_secs(5);
const TOKEN_CACHE_MAX: usize = 10_000;

type CachedAuth = (std::time::Instant, u64, (Principal, Grants));

/// The bearer-token cache (see `Accounts::token_auth`). An entry read under an older epoch than the
/// current one is never returned, so a change that bumps the epoch cannot be undone by a read
/// that was under way while it committed.
#[derive(Default)]
pub struct AuthCache {
    epoch: std::sync::atomic::AtomicU64,
    map: std::sync::Mutex<std::collections::HashMap<String, CachedAuth>>,
}

impl std::fmt::Debug for AuthCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AuthCache")
    }
}

impl AuthCache {
    fn lock(&self) -> std::sync::MutexGuard<'_, std::collections::HashMap<String, CachedAuth>> {
        self.map.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn get(&self, key: &str, epoch: u64) -> Option<(Principal, Grants)> {
        let map = self.lock();
        let (at, e, v) = map.get(key)?;
        (*e == epoch && at.elapsed() < TOKEN_CACHE_TTL).then(|| v.clone())
    }

    fn put(&self, key: String, epoch: u64, v: (Principal, Grants)) {
        let mut map = self.lock();
        if self.epoch.load(std::sync::atomic::Ordering::Acquire) != epoch {
            return;
        }
        if map.len() >= TOKEN_CACHE_MAX {
            map.clear();
        }
        map.insert(key, (std::time::Instant::now(), epoch, v));
    }

    fn clear(&self) {
        let mut map = self.lock();
        self.epoch.fetch_add(1, std::sync::atomic::Ordering::AcqRel);
        map.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: LoginLimits = LoginLimits {
        per_minute: 10,
        backoff_after: 5,
        backoff_max: time::Duration::minutes(5),
    };

    #[test]
    fn the_backoff_starts_after_five_failures_and_doubles_up_to_its_cap() {
        let secs = |n| backoff(n, &LIMITS).map(time::Duration::whole_seconds);
        assert_eq!((secs(0), secs(4)), (None, None));
        assert_eq!(
            [secs(5), secs(6), secs(7), secs(8)],
            [Some(1), Some(2), Some(4), Some(8)]
        );
        assert_eq!(secs(13), Some(256));
        assert_eq!(secs(14), Some(300), "capped");
        assert_eq!(secs(5 + 64), Some(300), "no overflow");
        assert_eq!(secs(i64::MAX), Some(300));
    }

    #[test]
    fn a_full_window_refuses_until_the_minute_is_over_and_the_later_limit_wins() {
        let now = time::macros::datetime!(2026-06-10 02:00:42.5 UTC);
        let next_minute = time::macros::datetime!(2026-06-10 02:01 UTC);
        assert_eq!(refusal(now, 9, None, &LIMITS), None);
        assert_eq!(refusal(now, 10, None, &LIMITS), Some(next_minute));
        let later = now + time::Duration::minutes(2);
        assert_eq!(refusal(now, 10, Some(later), &LIMITS), Some(later));
        assert_eq!(
            refusal(now, 0, Some(now), &LIMITS),
            None,
            "a backoff that has passed"
        );
    }
}
