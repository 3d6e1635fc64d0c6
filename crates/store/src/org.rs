//! The organization tree. `path` is the materialized path of ids (`/1/4/9/`), so a subtree is one
//! index range; `member_count`/`formal_count` hold subtree totals kept current in the same
//! transaction as every change, so statistics never scan the subtree.

use dangjian_rules::RuleViolation;
use dangjian_rules::org::{BranchType, OrgCategory, OrgKind};
use serde_json::json;
use time::{Date, OffsetDateTime};

use crate::Orgs;
use crate::audit::Actor;
use crate::db::{Tx, id_list};
use crate::error::{StoreError, StoreResult};
use crate::paths::upper_bound;
use crate::scope::Scope;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OrgRow {
    pub id: i64,
    pub parent_id: Option<i64>,
    pub root_id: Option<i64>,
    pub path: String,
    pub depth: i64,
    pub name: String,
    #[sqlx(try_from = "String")]
    pub kind: OrgKind,
    #[sqlx(try_from = "crate::error::NullableText")]
    pub branch_type: Option<BranchType>,
    #[sqlx(try_from = "String")]
    pub category: OrgCategory,
    pub established_on: Option<Date>,
    pub term_started_on: Option<Date>,
    pub term_years: Option<i64>,
    pub joint_units: Option<i64>,
    pub member_count: i64,
    pub formal_count: i64,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
    /// A 换届 postponed to this day with the higher organization's approval (E1 第三条).
    pub term_extended_to: Option<Date>,
    pub term_extension_approval: Option<String>,
    /// People in a 支委 post now (党小组长 not counted): a branch of 7 正式党员 or more with fewer
    /// than 3 is flagged (`rules::structure_warnings`).
    pub committee_size: i64,
}

const ORG_COLS: &str = "id, parent_id, root_id, path, depth, name, kind, branch_type, category, established_on, \
    term_started_on, term_years, joint_units, member_count, formal_count, created_at, updated_at, \
    term_extended_to, term_extension_approval, \
    (SELECT COUNT(DISTINCT cp.person_id) FROM committee_post cp WHERE cp.org_id = org.id \
     AND cp.ended_on IS NULL AND cp.post <> 'group_leader') AS committee_size";

impl OrgRow {
    pub fn kind(&self) -> OrgKind {
        self.kind
    }
    pub fn branch_type(&self) -> Option<BranchType> {
        self.branch_type
    }
    pub fn category(&self) -> OrgCategory {
        self.category
    }
    /// The term as the rules see it (`rules::org::Term`).
    pub fn term(&self) -> dangjian_rules::Term {
        dangjian_rules::Term {
            started_on: self.term_started_on,
            years: self.term_years.and_then(|y| u32::try_from(y).ok()),
            extended_to: self.term_extended_to,
        }
    }
    /// The parent's path (`None` for a top-level org).
    pub fn parent_path(&self) -> Option<&str> {
        let id_len = self.id.to_string().len() + 1;
        self.parent_id?;
        self.path.get(..self.path.len().checked_sub(id_len)?)
    }
    /// The ids on the path, root first, self last.
    pub fn ancestor_ids(&self) -> Vec<i64> {
        path_ids(&self.path)
    }
    fn audit_json(&self) -> serde_json::Value {
        json!({
            "name": self.name, "kind": self.kind, "branch_type": self.branch_type, "category": self.category,
            "parent_id": self.parent_id, "established_on": self.established_on.map(|d| d.to_string()),
            "term_started_on": self.term_started_on.map(|d| d.to_string()), "term_years": self.term_years,
            "joint_units": self.joint_units,
            "term_extended_to": self.term_extended_to.map(|d| d.to_string()),
            "term_extension_approval": self.term_extension_approval,
        })
    }
}

pub fn path_ids(path: &str) -> Vec<i64> {
    path.split('/').filter_map(|s| s.parse().ok()).collect()
}

#[derive(Debug, Clone)]
pub struct NewOrg {
    pub parent_id: Option<i64>,
    pub name: String,
    pub kind: OrgKind,
    pub branch_type: Option<BranchType>,
    pub category: OrgCategory,
    pub established_on: Option<Date>,
    pub term_started_on: Option<Date>,
    pub term_years: Option<i64>,
    pub joint_units: Option<i64>,
}

/// A change to an org; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct OrgPatch {
    pub name: Option<String>,
    pub parent_id: Option<i64>,
    pub category: Option<OrgCategory>,
    pub branch_type: Option<BranchType>,
    pub established_on: Option<Date>,
    pub term_started_on: Option<Date>,
    pub term_years: Option<i64>,
    pub joint_units: Option<i64>,
    /// A 换届 postponed to this day, on the approval named (both, or neither).
    pub term_extended_to: Option<Date>,
    pub term_extension_approval: Option<String>,
    /// The date a rename or move takes effect (history); default today.
    pub effective_on: Option<Date>,
    pub reason: Option<String>,
}

#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct OrgHistoryRow {
    pub id: i64,
    pub org_id: i64,
    pub change: String,
    pub old_value: Option<String>,
    pub new_value: Option<String>,
    pub effective_on: Date,
    pub reason: Option<String>,
    pub recorded_by: Option<i64>,
    #[serde(with = "time::serde::rfc3339")]
    pub recorded_at: OffsetDateTime,
}

/// An appointment to record (the rules were checked by the caller).
#[derive(Debug, Clone, Copy)]
pub struct NewPost<'a> {
    pub org_id: i64,
    pub person_id: i64,
    pub post: dangjian_rules::org::CommitteePost,
    pub started_on: Date,
    /// Warnings the user confirmed, recorded in the audit row.
    pub confirmed_warnings: &'a [&'a str],
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PostRow {
    pub id: i64,
    pub org_id: i64,
    pub person_id: i64,
    pub person_name: String,
    pub post: String,
    pub started_on: Date,
    pub ended_on: Option<Date>,
}

pub(crate) async fn org_in_tx(tx: &mut Tx, id: i64) -> StoreResult<OrgRow> {
    let sql = const_format_org("SELECT {} FROM org WHERE id = $1");
    let row: Option<OrgRow> =
        with_tx!(tx, c => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(c).await)?;
    row.ok_or(StoreError::NotFound)
}

/// The org, if the scope holds it (else 404), read inside the transaction.
pub(crate) async fn org_in_scope(tx: &mut Tx, scope: &Scope, id: i64) -> StoreResult<OrgRow> {
    let org = org_in_tx(tx, id).await?;
    if !scope.contains_path(&org.path) {
        return Err(StoreError::NotFound);
    }
    Ok(org)
}

fn const_format_org(template: &str) -> String {
    template.replacen("{}", ORG_COLS, 1)
}

/// Adds to the subtree counts of every org on `path` (self and ancestors).
pub(crate) async fn adjust_counts(tx: &mut Tx, path: &str, members: i64, formal: i64) -> StoreResult<()> {
    if members == 0 && formal == 0 {
        return Ok(());
    }
    let ids = id_list(path_ids(path));
    if ids.is_empty() {
        return Ok(());
    }
    let sql = format!(
        "UPDATE org SET member_count = member_count + $1, formal_count = formal_count + $2 WHERE id IN ({ids})"
    );
    with_tx!(tx, c => sqlx::query(sqlx::AssertSqlSafe(sql)).bind(members).bind(formal).execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

impl Orgs<'_> {
    pub async fn org(&self, scope: &Scope, id: i64) -> StoreResult<OrgRow> {
        let sql = const_format_org("SELECT {} FROM org WHERE id = $1");
        let row: Option<OrgRow> = with_db!(&self.db, p => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(p).await)?;
        match row {
            Some(r) if scope.contains_path(&r.path) => Ok(r),
            _ => Err(StoreError::NotFound),
        }
    }

    /// Orgs by id without a scope check: for the caller's own grants and memberships only.
    pub async fn orgs_by_ids(&self, ids: &[i64]) -> StoreResult<Vec<OrgRow>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT {ORG_COLS} FROM org WHERE id IN ({}) ORDER BY path",
            id_list(ids.iter().copied())
        );
        Ok(with_db!(&self.db, p => sqlx::query_as(sqlx::AssertSqlSafe(sql)).fetch_all(p).await)?)
    }

    pub async fn children(&self, scope: &Scope, id: i64) -> StoreResult<Vec<OrgRow>> {
        let parent = self.org(scope, id).await?;
        let sql = const_format_org("SELECT {} FROM org WHERE parent_id = $1 ORDER BY id");
        let rows: Vec<OrgRow> = with_db!(&self.db, p => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(parent.id).fetch_all(p).await)?;
        Ok(rows
            .into_iter()
            .filter(|r| scope.contains_path(&r.path))
            .collect())
    }

    /// The tops of the caller's visible subtrees.
    /// Whether the grants make their holder the administrator of the whole deployment: an
    /// admin grant over every top-level organization (what `create-admin` gives). An admin grant
    /// on a subtree is an admin of that subtree only: no top-level organizations, no audit rows
    /// tied to no organization.
    pub async fn is_global_admin(&self, grants: &crate::Grants) -> StoreResult<bool> {
        let admin_paths: Vec<&str> = grants
            .list()
            .iter()
            .filter(|g| g.role == crate::Role::Admin)
            .map(|g| g.org_path.as_str())
            .collect();
        if admin_paths.is_empty() {
            return Ok(false);
        }
        let roots: Vec<String> = with_db!(&self.db, p => sqlx::query_scalar(
            "SELECT path FROM org WHERE parent_id IS NULL").fetch_all(p).await)?;
        Ok(!roots.is_empty() && roots.iter().all(|r| admin_paths.iter().any(|a| r.starts_with(a))))
    }

    pub async fn scope_roots(&self, scope: &Scope) -> StoreResult<Vec<OrgRow>> {
        let (filter, binds) = scope.sql_filter("path", None, 0);
        let sql = format!("SELECT {ORG_COLS} FROM org WHERE {filter} ORDER BY path");
        let rows: Vec<OrgRow> = with_db!(&self.db, p => {
            let mut q = sqlx::query_as::<_, OrgRow>(sqlx::AssertSqlSafe(sql));
            for b in &binds { q = q.bind(b); }
            q.fetch_all(p).await
        })?;
        let mut roots: Vec<OrgRow> = Vec::new();
        for r in rows {
            if !roots.iter().any(|o| r.path.starts_with(o.path.as_str())) {
                roots.push(r);
            }
        }
        Ok(roots)
    }

    /// The orgs of a subtree (for the tree browser), in path order, a page at a time; with the
    /// subtree's size.
    pub async fn subtree(
        &self,
        scope: &Scope,
        id: i64,
        limit: i64,
        offset: i64,
    ) -> StoreResult<(Vec<OrgRow>, i64)> {
        let top = self.org(scope, id).await?;
        let upper = upper_bound(&top.path);
        let sql = const_format_org(
            "SELECT {} FROM org WHERE path >= $1 AND path < $2 ORDER BY path LIMIT $3 OFFSET $4",
        );
        let rows = with_db!(&self.db, p => sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(&top.path).bind(&upper).bind(limit).bind(offset).fetch_all(p).await)?;
        let total: i64 = with_db!(&self.db, p => sqlx::query_scalar("SELECT COUNT(*) FROM org WHERE path >= $1 AND path < $2")
            .bind(&top.path).bind(&upper).fetch_one(p).await)?;
        Ok((rows, total))
    }

    pub async fn create_org(&self, scope: &Scope, actor: &Actor, new: NewOrg) -> StoreResult<OrgRow> {
        let (mut tx, now) = self.begin_now().await?;
        let parent = match new.parent_id {
            Some(pid) => {
                let p = org_in_scope(&mut tx, scope, pid).await?;
                if !new.kind.may_be_child_of(p.kind()) {
                    return Err(RuleViolation::field("org_kind_nesting", "kind")
                        .arg("kind", new.kind.label_zh())
                        .arg("parent", p.kind().label_zh())
                        .into());
                }
                Some(p)
            }
            None => {
                if !scope.contains_path("/") {
                    return Err(StoreError::Forbidden);
                }
                None
            }
        };
        let id: i64 = with_tx!(&mut tx, c => sqlx::query_scalar(
            "INSERT INTO org (parent_id, root_id, path, depth, name, kind, branch_type, category, established_on, \
             term_started_on, term_years, joint_units, created_at, updated_at) \
             VALUES ($1, $2, '', $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12) RETURNING id")
            .bind(new.parent_id).bind(parent.as_ref().and_then(|p| p.root_id))
            .bind(parent.as_ref().map_or(0, |p| p.depth + 1)).bind(&new.name).bind(new.kind.as_str())
            .bind(new.branch_type.map(BranchType::as_str)).bind(new.category.as_str()).bind(new.established_on)
            .bind(new.term_started_on).bind(new.term_years).bind(new.joint_units).bind(now)
            .fetch_one(c).await)?;
        let path = format!("{}{id}/", parent.as_ref().map_or("/", |p| p.path.as_str()));
        let root = parent.as_ref().and_then(|p| p.root_id).unwrap_or(id);
        with_tx!(&mut tx, c => sqlx::query("UPDATE org SET path = $1, root_id = $2 WHERE id = $3")
            .bind(&path).bind(root).bind(id).execute(c).await.map(|r| r.rows_affected()))?;
        let row = org_in_tx(&mut tx, id).await?;
        // a new top-level organization: its creator (a global administrator) administers it too,
        // so they stay the administrator of every tree
        if parent.is_none()
            && let Some(user_id) = actor.user_id
        {
            with_tx!(&mut tx, c => sqlx::query(
                "INSERT INTO role_grant (user_id, role, org_id, created_at) VALUES ($1, 'admin', $2, $3)")
                .bind(user_id).bind(id).bind(now).execute(c).await.map(|r| r.rows_affected()))?;
        }
        history(
            &mut tx,
            id,
            "create",
            None,
            Some(&row.name),
            new.established_on.unwrap_or(self.today()),
            None,
            actor,
            now,
        )
        .await?;
        tx.into_audit(actor, now)
            .act("create", "org")
            .id(id)
            .org(path)
            .after(row.audit_json())
            .commit()
            .await?;
        if parent.is_none() {
            self.accounts().auth_changed();
        }
        Ok(row)
    }

    pub async fn update_org(
        &self,
        scope: &Scope,
        actor: &Actor,
        id: i64,
        patch: OrgPatch,
    ) -> StoreResult<OrgRow> {
        let now = self.now();
        let effective = patch.effective_on.unwrap_or(self.today());
        let mut tx = self.begin().await?;
        let before = org_in_scope(&mut tx, scope, id).await?;
        if let Some(name) = &patch.name
            && *name != before.name
        {
            with_tx!(&mut tx, c => sqlx::query("UPDATE org SET name = $1 WHERE id = $2").bind(name).bind(id).execute(c).await.map(|r| r.rows_affected()))?;
            history(
                &mut tx,
                id,
                "rename",
                Some(&before.name),
                Some(name),
                effective,
                patch.reason.as_deref(),
                actor,
                now,
            )
            .await?;
        }
        if let Some(new_parent) = patch.parent_id
            && Some(new_parent) != before.parent_id
        {
            self.move_org(
                &mut tx,
                scope,
                actor,
                &before,
                new_parent,
                effective,
                patch.reason.as_deref(),
                now,
            )
            .await?;
        }
        let new_term = patch.term_started_on.is_some() && patch.term_started_on != before.term_started_on;
        let after_term = dangjian_rules::Term {
            started_on: patch.term_started_on.or(before.term_started_on),
            years: patch
                .term_years
                .or(before.term_years)
                .and_then(|y| u32::try_from(y).ok()),
            extended_to: None,
        };
        let postponement = patch.term_extended_to.map(|to| dangjian_rules::Postponement {
            to,
            approval: patch.term_extension_approval.as_deref(),
            // the higher organization acts: the grant reaches the org's parent
            by_higher_org: before.parent_path().is_some_and(|p| scope.contains_path(p)),
        });
        dangjian_rules::check_term_change(
            dangjian_rules::org_rules_on(self.today()),
            &before.term(),
            &after_term,
            postponement.as_ref(),
            self.today(),
        )?;
        if let Some(p) = &postponement {
            with_tx!(&mut tx, c => sqlx::query(
                "UPDATE org SET term_extended_to = $1, term_extension_approval = $2 WHERE id = $3")
                .bind(p.to).bind(p.approval.map(str::trim)).bind(id).execute(c).await.map(|r| r.rows_affected()))?;
            history(
                &mut tx,
                id,
                "postpone_term",
                before.term().ends_on().map(|d| d.to_string()).as_deref(),
                Some(&p.to.to_string()),
                effective,
                p.approval.map(str::trim),
                actor,
                now,
            )
            .await?;
        } else if new_term {
            // a 换届 held ends any postponement of the term before
            with_tx!(&mut tx, c => sqlx::query(
                "UPDATE org SET term_extended_to = NULL, term_extension_approval = NULL WHERE id = $1")
                .bind(id).execute(c).await.map(|r| r.rows_affected()))?;
        }
        with_tx!(&mut tx, c => sqlx::query(
            "UPDATE org SET category = COALESCE($1, category), branch_type = COALESCE($2, branch_type), \
             established_on = COALESCE($3, established_on), term_started_on = COALESCE($4, term_started_on), \
             term_years = COALESCE($5, term_years), joint_units = COALESCE($6, joint_units), updated_at = $7 WHERE id = $8")
            .bind(patch.category.map(OrgCategory::as_str)).bind(patch.branch_type.map(BranchType::as_str))
            .bind(patch.established_on).bind(patch.term_started_on).bind(patch.term_years).bind(patch.joint_units)
            .bind(now).bind(id).execute(c).await.map(|r| r.rows_affected()))?;
        if new_term {
            history(
                &mut tx,
                id,
                "new_term",
                before.term_started_on.map(|d| d.to_string()).as_deref(),
                patch.term_started_on.map(|d| d.to_string()).as_deref(),
                effective,
                patch.reason.as_deref(),
                actor,
                now,
            )
            .await?;
        }
        let after = org_in_tx(&mut tx, id).await?;
        tx.into_audit(actor, now)
            .on("update", "org", id, &after.path)
            .before(before.audit_json())
            .after(after.audit_json())
            .commit()
            .await?;
        // a move changes the paths cached grants carry
        self.accounts().auth_changed();
        Ok(after)
    }

    #[expect(clippy::too_many_arguments, reason = "one internal step of update_org")]
    async fn move_org(
        &self,
        tx: &mut Tx,
        scope: &Scope,
        actor: &Actor,
        org: &OrgRow,
        new_parent: i64,
        effective: Date,
        reason: Option<&str>,
        now: OffsetDateTime,
    ) -> StoreResult<()> {
        let parent = org_in_tx(tx, new_parent).await?;
        if !scope.contains_path(&parent.path) {
            return Err(StoreError::NotFound);
        }
        if parent.path.starts_with(&org.path) {
            return Err(RuleViolation::field("org_move_into_own_subtree", "parent_id").into());
        }
        if !org.kind().may_be_child_of(parent.kind()) {
            return Err(RuleViolation::field("org_kind_nesting", "parent_id")
                .arg("kind", org.kind().label_zh())
                .arg("parent", parent.kind().label_zh())
                .into());
        }
        let old_path = org.path.clone();
        let new_path = format!("{}{}/", parent.path, org.id);
        let upper = upper_bound(&old_path);
        let depth_delta = parent.depth + 1 - org.depth;
        // take the subtree's counts off the old ancestors and put them on the new ones
        let old_parent_path = &old_path[..old_path.len() - org.id.to_string().len() - 1];
        adjust_counts(tx, old_parent_path, -org.member_count, -org.formal_count).await?;
        adjust_counts(tx, &parent.path, org.member_count, org.formal_count).await?;
        let old_len = i64::try_from(old_path.len()).unwrap_or(0);
        with_tx!(tx, c => sqlx::query(
            "UPDATE org SET path = $1 || substr(path, CAST($2 AS INTEGER)), depth = depth + $3, root_id = $4 WHERE path >= $5 AND path < $6")
            .bind(&new_path).bind(old_len + 1).bind(depth_delta).bind(parent.root_id).bind(&old_path).bind(&upper)
            .execute(c).await.map(|r| r.rows_affected()))?;
        // everything keyed by the subtree's path follows it: people, meetings, dues records…
        crate::paths::move_subtree(tx, &old_path, &new_path).await?;
        let new_upper = upper_bound(&new_path);
        with_tx!(tx, c => sqlx::query("UPDATE person SET root_id = $1 WHERE org_path >= $2 AND org_path < $3")
            .bind(parent.root_id).bind(&new_path).bind(&new_upper)
            .execute(c).await.map(|r| r.rows_affected()))?;
        with_tx!(tx, c => sqlx::query("UPDATE org SET parent_id = $1 WHERE id = $2").bind(parent.id).bind(org.id).execute(c).await.map(|r| r.rows_affected()))?;
        let old_parent = org.parent_id.map(|p| p.to_string());
        history(
            tx,
            org.id,
            "move",
            old_parent.as_deref(),
            Some(&parent.id.to_string()),
            effective,
            reason,
            actor,
            now,
        )
        .await
    }

    pub async fn org_history(&self, scope: &Scope, id: i64) -> StoreResult<Vec<OrgHistoryRow>> {
        let org = self.org(scope, id).await?;
        Ok(with_db!(&self.db, p => sqlx::query_as(
            "SELECT id, org_id, change, old_value, new_value, effective_on, reason, recorded_by, recorded_at \
             FROM org_history WHERE org_id = $1 ORDER BY id").bind(org.id).fetch_all(p).await)?)
    }

    pub async fn posts(&self, scope: &Scope, org_id: i64, include_ended: bool) -> StoreResult<Vec<PostRow>> {
        let org = self.org(scope, org_id).await?;
        Ok(with_db!(&self.db, p => sqlx::query_as(
            "SELECT cp.id, cp.org_id, cp.person_id, pe.name AS person_name, cp.post, cp.started_on, cp.ended_on \
             FROM committee_post cp JOIN person pe ON pe.id = cp.person_id \
             WHERE cp.org_id = $1 AND ($2 OR cp.ended_on IS NULL) ORDER BY cp.id")
            .bind(org.id).bind(include_ended).fetch_all(p).await)?)
    }

    pub async fn add_post(&self, scope: &Scope, actor: &Actor, new: NewPost<'_>) -> StoreResult<i64> {
        let NewPost {
            org_id,
            person_id,
            post,
            started_on,
            confirmed_warnings,
        } = new;
        let (mut tx, now) = self.begin_now().await?;
        let org = org_in_scope(&mut tx, scope, org_id).await?;
        let person_path: Option<String> = with_tx!(&mut tx, c => sqlx::query_scalar(
            "SELECT org_path FROM person WHERE id = $1").bind(person_id).fetch_optional(c).await)?;
        let Some(person_path) = person_path.filter(|p| scope.contains_path(p)) else {
            return Err(RuleViolation::field("person_not_found", "person_id").into());
        };
        let id: i64 = with_tx!(&mut tx, c => sqlx::query_scalar(
            "INSERT INTO committee_post (org_id, person_id, post, started_on, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id")
            .bind(org_id).bind(person_id).bind(post.as_str()).bind(started_on).bind(now).fetch_one(c).await)?;
        tx.into_audit(actor, now)
            .on("create", "committee_post", id, &org.path)
            .after(
                json!({"org_id": org_id, "person_id": person_id, "post": post.as_str(),
                "started_on": started_on.to_string(), "person_org_path": person_path,
                "confirmed_warnings": confirmed_warnings}),
            )
            .commit()
            .await?;
        Ok(id)
    }

    pub async fn end_post(
        &self,
        scope: &Scope,
        actor: &Actor,
        post_id: i64,
        ended_on: Date,
    ) -> StoreResult<()> {
        let (mut tx, now) = self.begin_now().await?;
        let found: Option<(i64, Date, Option<Date>)> = with_tx!(&mut tx, c => sqlx::query_as(
            "SELECT org_id, started_on, ended_on FROM committee_post WHERE id = $1").bind(post_id).fetch_optional(c).await)?;
        let Some((org_id, started, ended)) = found else {
            return Err(StoreError::NotFound);
        };
        let org = org_in_scope(&mut tx, scope, org_id).await?;
        if ended.is_some() {
            return Err(StoreError::Conflict(RuleViolation::new("post_already_ended")));
        }
        dangjian_rules::org::check_post_end(started, ended_on)?;
        with_tx!(&mut tx, c => sqlx::query("UPDATE committee_post SET ended_on = $1 WHERE id = $2")
            .bind(ended_on).bind(post_id).execute(c).await.map(|r| r.rows_affected()))?;
        tx.into_audit(actor, now)
            .act("end", "committee_post")
            .id(post_id)
            .org(org.path)
            .after(json!({"ended_on": ended_on.to_string()}))
            .commit()
            .await?;
        Ok(())
    }
}

#[expect(clippy::too_many_arguments, reason = "one history row's fields")]
async fn history(
    tx: &mut Tx,
    org_id: i64,
    change: &str,
    old: Option<&str>,
    new: Option<&str>,
    effective_on: Date,
    reason: Option<&str>,
    actor: &Actor,
    now: OffsetDateTime,
) -> StoreResult<()> {
    with_tx!(tx, c => sqlx::query(
        "INSERT INTO org_history (org_id, change, old_value, new_value, effective_on, reason, recorded_by, recorded_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
        .bind(org_id).bind(change).bind(old).bind(new).bind(effective_on).bind(reason).bind(actor.user_id).bind(now)
        .execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}
