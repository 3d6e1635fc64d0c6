//! Organizations: read within the caller's subtree, create and change with WriteOrg, and the
//! structural rules (domain-rules §3) reported as warnings or refused.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use dangjian_rules::org::{BranchType, CommitteePost, OrgCategory, OrgKind, TermStatus};
use dangjian_rules::{RuleViolation, org_rules_on};
use dangjian_store::Cap;
use dangjian_store::org::{NewOrg, NewPost, OrgHistoryRow, OrgPatch, OrgRow};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::AppState;
use crate::auth::Auth;
use crate::contract::row_view;
use crate::contract::{Created, Done, List, Notice, date};
use crate::error::AppResult;
use crate::extract::{
    ApiJson, ApiPath, ApiQuery, ConfirmQuery, Page, confirm_warnings, optional_date, optional_enum,
    optional_text, parse_enum, required, required_text,
};

/// An org as the API answers it.
#[derive(Debug, Serialize, ToSchema)]
pub struct OrgView {
    pub id: i64,
    pub name: String,
    /// `committee`, `general_branch`, `branch`, `group`
    pub kind: String,
    /// For a branch: `regular`, `joint`, `temporary`, `mobile`
    pub branch_type: Option<String>,
    pub category: String,
    pub parent_id: Option<i64>,
    pub depth: i64,
    #[schema(format = Date)]
    pub established_on: Option<String>,
    #[schema(format = Date)]
    pub term_started_on: Option<String>,
    pub term_years: Option<i64>,
    /// The last day of the committee's term (start + years).
    #[schema(format = Date)]
    pub term_ends_on: Option<String>,
    /// A 换届 postponed with the higher organization's approval: to this day, on this approval.
    #[schema(format = Date)]
    pub term_extended_to: Option<String>,
    pub term_extension_approval: Option<String>,
    pub joint_units: Option<i64>,
    /// People in the subtree, and the formal members among them.
    pub member_count: i64,
    pub formal_count: i64,
}

impl From<&OrgRow> for OrgView {
    fn from(o: &OrgRow) -> Self {
        let term_ends_on = match (o.term_started_on, o.term_years) {
            (Some(s), Some(y)) => {
                Some(dangjian_rules::term_end(s, u32::try_from(y).unwrap_or(0)).to_string())
            }
            _ => None,
        };
        Self {
            id: o.id,
            name: o.name.clone(),
            kind: o.kind.to_string(),
            branch_type: o.branch_type.map(|b| b.to_string()),
            category: o.category.to_string(),
            parent_id: o.parent_id,
            depth: o.depth,
            established_on: o.established_on.map(date),
            term_started_on: o.term_started_on.map(date),
            term_years: o.term_years,
            term_ends_on,
            term_extended_to: o.term_extended_to.map(date),
            term_extension_approval: o.term_extension_approval.clone(),
            joint_units: o.joint_units,
            member_count: o.member_count,
            formal_count: o.formal_count,
        }
    }
}

row_view! {
    /// One change in an org's history (rename, move, new term, …).
    #[derive(Debug, Serialize, ToSchema)]
    pub struct OrgChangeView from OrgHistoryRow as h {
        pub id: i64,
        pub org_id: i64,
        pub change: String,
        pub old_value: Option<String>,
        pub new_value: Option<String>,
        #[schema(format = Date)]
        pub effective_on: String = date(h.effective_on),
        pub reason: Option<String>,
        pub recorded_by: Option<i64>,
        #[schema(format = DateTime)]
        pub recorded_at: String = crate::contract::rfc3339(h.recorded_at),
    }
}

/// A committee post held (or held before, with `?all=true`).
#[derive(Debug, Serialize, ToSchema)]
pub struct PostView {
    pub id: i64,
    pub org_id: i64,
    pub person_id: i64,
    pub name: String,
    /// `secretary`, `deputy_secretary`, `member`, …
    pub post: String,
    /// The post's name in Chinese (书记, 副书记, 委员 …).
    pub post_label: Option<&'static str>,
    #[schema(format = Date)]
    pub started_on: String,
    #[schema(format = Date)]
    pub ended_on: Option<String>,
}

pub async fn roots(State(state): State<AppState>, auth: Auth) -> AppResult<Json<List<OrgView>>> {
    let scope = auth.scope(Cap::ReadOrg)?;
    let rows = state.store.orgs().scope_roots(&scope).await?;
    Ok(Json(List::of(&rows)))
}

pub async fn get_one(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Json<OrgView>> {
    let scope = auth.scope(Cap::ReadOrg)?;
    Ok(Json(OrgView::from(&state.store.orgs().org(&scope, id).await?)))
}

pub async fn children(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Json<List<OrgView>>> {
    let scope = auth.scope(Cap::ReadOrg)?;
    let rows = state.store.orgs().children(&scope, id).await?;
    Ok(Json(List::of(&rows)))
}

pub async fn tree(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(page): ApiQuery<Page>,
) -> AppResult<Json<List<OrgView>>> {
    let scope = auth.scope(Cap::ReadOrg)?;
    let (rows, total) = state
        .store
        .orgs()
        .subtree(&scope, id, page.limit(), page.offset())
        .await?;
    Ok(Json(List::page(&rows, total)))
}

pub async fn history(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Json<List<OrgChangeView>>> {
    let scope = auth.scope(Cap::ReadOrg)?;
    let rows = state.store.orgs().org_history(&scope, id).await?;
    Ok(Json(List::of(rows)))
}

/// What the rules say about an org now: structure warnings and the committee term.
pub fn org_warnings(o: &OrgRow, today: time::Date) -> Vec<Notice> {
    let rs = org_rules_on(today);
    let locale = crate::i18n::current_locale();
    let mut out: Vec<Notice> = dangjian_rules::structure_warnings(
        rs,
        o.kind(),
        o.branch_type(),
        u32::try_from(o.formal_count).unwrap_or(0),
        u32::try_from(o.member_count).unwrap_or(0),
        u32::try_from(o.committee_size).unwrap_or(0),
    )
    .into_iter()
    .map(|w| {
        let args: Vec<(&str, String)> = w.args.iter().map(|(k, v)| (*k, v.clone())).collect();
        Notice {
            code: w.code,
            message: crate::i18n::t(locale, w.code, &args),
        }
    })
    .collect();
    if let Some(status) = dangjian_rules::term_status_of(rs, &o.term(), today) {
        let (code, args) = match status {
            TermStatus::Active { .. } => (None, vec![]),
            TermStatus::EndingSoon { ends_on, days_left } => (
                Some("term_ending_soon"),
                vec![("ends_on", ends_on.to_string()), ("days", days_left.to_string())],
            ),
            TermStatus::Expired { ends_on, days_over } => (
                Some("term_expired"),
                vec![("ends_on", ends_on.to_string()), ("days", days_over.to_string())],
            ),
        };
        if let Some(code) = code {
            out.push(Notice {
                code,
                message: crate::i18n::t(locale, code, &args),
            });
        }
    }
    out
}

pub async fn warnings(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Json<List<Notice>>> {
    let scope = auth.scope(Cap::ReadOrg)?;
    let org = state.store.orgs().org(&scope, id).await?;
    Ok(Json(List::all(org_warnings(&org, state.store.today()))))
}

/// Create (`parent_id`, `name`, `kind` required) or change an org. Dates are `YYYY-MM-DD`;
/// `effective_on` and `reason` go to the org's history.
#[derive(Deserialize, ToSchema)]
pub struct OrgBody {
    parent_id: Option<i64>,
    name: Option<String>,
    kind: Option<String>,
    branch_type: Option<String>,
    category: Option<String>,
    established_on: Option<String>,
    term_started_on: Option<String>,
    term_years: Option<i64>,
    /// Postpones the 换届 to this day (`YYYY-MM-DD`, at most a year after 届满), on the higher
    /// organization's approval named in `term_extension_approval` (its document, ≤ 200 chars).
    term_extended_to: Option<String>,
    term_extension_approval: Option<String>,
    joint_units: Option<i64>,
    effective_on: Option<String>,
    reason: Option<String>,
}

/// Checks shared by create and update. `branch_type` is the type the org has (or will have).
fn check_common(
    body: &OrgBody,
    kind: Option<OrgKind>,
    branch_type: Option<BranchType>,
    today: time::Date,
) -> AppResult<()> {
    let rs = org_rules_on(today);
    // a new term is a 换届, which a 临时党支部 does not hold: its leaders are appointed
    if body.term_started_on.is_some() || body.term_years.is_some() || body.term_extended_to.is_some() {
        dangjian_rules::temporary_branch_may(branch_type, dangjian_rules::RestrictedAct::HoldElection)
            .map_err(|v| v.on("term_started_on"))?;
    }
    if let Some(y) = body.term_years {
        dangjian_rules::check_term_years(rs, u32::try_from(y).unwrap_or(0))?;
    }
    if let Some(u) = body.joint_units {
        dangjian_rules::check_joint_units(rs, u)?;
    }
    if body.branch_type.is_some() && kind.is_some_and(|k| k != OrgKind::Branch) {
        return Err(RuleViolation::field("branch_type_only_for_branch", "branch_type").into());
    }
    Ok(())
}

pub async fn create(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(body): ApiJson<OrgBody>,
) -> AppResult<(StatusCode, Json<OrgView>)> {
    let global = body.parent_id.is_none() && auth.is_global_admin(&state).await?;
    let scope = if global {
        dangjian_store::Scope::system()
    } else {
        auth.scope(Cap::WriteOrg)?
    };
    let name = required_text("name", body.name.clone())?;
    if name.chars().count() > 100 {
        return Err(RuleViolation::field("text_too_long", "name")
            .arg("max", 100)
            .into());
    }
    let kind = parse_enum("kind", &required("kind", body.kind.clone())?, OrgKind::parse)?;
    let branch_type = optional_enum("branch_type", body.branch_type.clone(), BranchType::parse)?;
    let category = optional_enum("category", body.category.clone(), OrgCategory::parse_label)?
        .unwrap_or(OrgCategory::Other);
    let today = state.store.today();
    check_common(&body, Some(kind), branch_type, today)?;
    if body.parent_id.is_none() && !global {
        return Err(RuleViolation::field("field_required", "parent_id").into());
    }
    let new = NewOrg {
        parent_id: body.parent_id,
        name,
        kind,
        branch_type: if kind == OrgKind::Branch {
            Some(branch_type.unwrap_or(BranchType::Regular))
        } else {
            None
        },
        category,
        established_on: optional_date("established_on", body.established_on.clone())?,
        term_started_on: optional_date("term_started_on", body.term_started_on.clone())?,
        // a temporary branch has appointed leaders and no term
        term_years: if branch_type == Some(BranchType::Temporary) {
            None
        } else {
            body.term_years.or_else(|| {
                org_rules_on(today)
                    .default_term_years(kind, category)
                    .map(i64::from)
            })
        },
        joint_units: body.joint_units,
    };
    // an unknown or invisible parent answers 404, like any org outside the caller's subtree
    let row = state.store.orgs().create_org(&scope, &auth.actor(), new).await?;
    Ok((StatusCode::CREATED, Json(OrgView::from(&row))))
}

pub async fn update(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<OrgBody>,
) -> AppResult<Json<OrgView>> {
    let scope = auth.scope(Cap::WriteOrg)?;
    let today = state.store.today();
    if body.kind.is_some() {
        return Err(RuleViolation::field("org_kind_fixed", "kind").into());
    }
    let existing = state.store.orgs().org(&scope, id).await?;
    let new_type = optional_enum("branch_type", body.branch_type.clone(), BranchType::parse)?;
    check_common(
        &body,
        Some(existing.kind()),
        new_type.or(existing.branch_type()),
        today,
    )?;
    let name = match body.name.clone() {
        Some(n) => Some(required_text("name", Some(n))?),
        None => None,
    };
    let patch = OrgPatch {
        name,
        parent_id: body.parent_id,
        category: optional_enum("category", body.category.clone(), OrgCategory::parse_label)?,
        branch_type: optional_enum("branch_type", body.branch_type.clone(), BranchType::parse)?,
        established_on: optional_date("established_on", body.established_on.clone())?,
        term_started_on: optional_date("term_started_on", body.term_started_on.clone())?,
        term_years: body.term_years,
        term_extended_to: optional_date("term_extended_to", body.term_extended_to.clone())?,
        term_extension_approval: optional_text(
            "term_extension_approval",
            body.term_extension_approval.clone(),
            200,
        )?,
        joint_units: body.joint_units,
        effective_on: optional_date("effective_on", body.effective_on.clone())?,
        reason: optional_text("reason", body.reason.clone(), 500)?,
    };
    let row = state
        .store
        .orgs()
        .update_org(&scope, &auth.actor(), id, patch)
        .await?;
    Ok(Json(OrgView::from(&row)))
}

#[derive(Deserialize)]
pub struct PostsQuery {
    all: Option<bool>,
}

pub async fn posts(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(q): ApiQuery<PostsQuery>,
) -> AppResult<Json<List<PostView>>> {
    let scope = auth.scope(Cap::ReadOrg)?;
    let rows = state
        .store
        .orgs()
        .posts(&scope, id, q.all.unwrap_or(false))
        .await?;
    Ok(Json(List::all(
        rows.into_iter()
            .map(|p| PostView {
                id: p.id,
                org_id: p.org_id,
                person_id: p.person_id,
                name: p.person_name,
                post_label: CommitteePost::parse(&p.post).map(CommitteePost::label_zh),
                post: p.post,
                started_on: date(p.started_on),
                ended_on: p.ended_on.map(date),
            })
            .collect(),
    )))
}

/// An appointment: who, which post, from when (default today); `confirm` goes ahead past the
/// "normally" rules' warnings.
#[derive(Deserialize, ToSchema)]
pub struct PostBody {
    person_id: Option<i64>,
    post: Option<String>,
    started_on: Option<String>,
    confirm: Option<bool>,
}

/// Appoints someone to a post, by the rules of B1 第十七条 and 第二十三条: refusals are 422,
/// "normally" cases 409 `confirmation_required` until sent again with `"confirm": true`.
pub async fn add_post(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(q): ApiQuery<ConfirmQuery>,
    ApiJson(body): ApiJson<PostBody>,
) -> AppResult<(StatusCode, Json<Created>)> {
    let scope = auth.scope(Cap::WriteOrg)?;
    let person_id = required("person_id", body.person_id)?;
    let post = parse_enum("post", &required("post", body.post)?, CommitteePost::parse)?;
    let started_on = optional_date("started_on", body.started_on)?.unwrap_or(state.store.today());
    let org = state.store.orgs().org(&scope, id).await?;
    let appointee = match state.store.members().person_row(&scope, person_id).await {
        Ok(p) => p,
        Err(dangjian_store::StoreError::NotFound) => {
            return Err(RuleViolation::field("person_not_found", "person_id").into());
        }
        Err(e) => return Err(e.into()),
    };
    let current: Vec<(i64, CommitteePost)> = state
        .store
        .orgs()
        .posts(&scope, id, false)
        .await?
        .iter()
        .filter_map(|p| CommitteePost::parse(&p.post).map(|c| (p.person_id, c)))
        .collect();
    let today = state.store.today();
    let appointment = dangjian_rules::org::Appointment {
        kind: org.kind(),
        formal: u32::try_from(org.formal_count).unwrap_or(0),
        current: &current,
        person: person_id,
        post,
        appointee_regularized_on: appointee.regularized_on,
        appointee_formal: appointee.status() == dangjian_rules::MemberStatus::Formal,
        appointee_in_org: appointee.org_path.starts_with(&org.path),
    };
    let warnings = dangjian_rules::org::check_appointment(org_rules_on(started_on), &appointment, today)?;
    let confirmed = confirm_warnings(warnings, body.confirm.or(q.confirm).unwrap_or(false))?;
    let post_id = state
        .store
        .orgs()
        .add_post(
            &scope,
            &auth.actor(),
            NewPost {
                org_id: id,
                person_id,
                post,
                started_on,
                confirmed_warnings: &confirmed,
            },
        )
        .await?;
    Ok((StatusCode::CREATED, Json(Created { id: post_id })))
}

/// The last day in the post (default today).
#[derive(Deserialize, ToSchema)]
pub struct EndPostBody {
    ended_on: Option<String>,
}

pub async fn end_post(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<EndPostBody>,
) -> AppResult<Json<Done>> {
    let scope = auth.scope(Cap::WriteOrg)?;
    let ended_on = optional_date("ended_on", body.ended_on)?.unwrap_or(state.store.today());
    state
        .store
        .orgs()
        .end_post(&scope, &auth.actor(), id, ended_on)
        .await?;
    Ok(Json(Done::YES))
}
