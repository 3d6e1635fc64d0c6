//! Settings an org sets for its subtree (`store::settings::SubtreeKey`): the API and the page.
//! Reading needs only sight of the org; each key needs its own capability to change.

use std::collections::BTreeMap;

use askama::Template;
use axum::Json;
use axum::extract::{Path, State};
use axum::response::Response;
use dangjian_rules::RuleViolation;
use dangjian_store::Cap;
use dangjian_store::settings::{SettingInForce, SubtreeKey};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use crate::AppState;
use crate::auth::Auth;
use crate::error::{AppError, AppResult};
use crate::extract::{ApiJson, ApiPath};
use crate::page::{PageForm, PageUser, Shell};

/// One key at an org: its value in force, the deployment's, and which org sets it.
#[derive(Serialize, ToSchema)]
pub struct SettingView {
    /// `checkin.late_grace_minutes`, `dues.rounding`, `dues.reminder_months`.
    pub key: &'static str,
    pub value: String,
    pub deployment_value: String,
    /// The org (this one or an ancestor) whose setting holds; null: the deployment's value.
    pub set_by_org_id: Option<i64>,
    /// This org sets it itself.
    pub set_here: bool,
}

#[derive(Serialize, ToSchema)]
pub struct OrgSettingsView {
    pub org_id: i64,
    pub items: Vec<SettingView>,
}

impl OrgSettingsView {
    fn of(org_id: i64, list: Vec<SettingInForce>) -> Self {
        let items = list
            .into_iter()
            .map(|s| SettingView {
                key: s.key.as_str(),
                value: s.value,
                deployment_value: s.deployment_value,
                set_by_org_id: s.set_by_org,
                set_here: s.set_by_org == Some(org_id),
            })
            .collect();
        Self { org_id, items }
    }
}

/// `{"values": {"checkin.late_grace_minutes": 10, "dues.rounding": null}}`: set a key for the
/// subtree (a number, a string or a boolean), or clear it with null (the value above then holds).
#[derive(Deserialize, ToSchema)]
pub struct SettingsBody {
    #[schema(value_type = Object)]
    values: BTreeMap<String, Value>,
}

impl TryFrom<SettingsBody> for Vec<(SubtreeKey, Option<String>)> {
    type Error = AppError;

    fn try_from(b: SettingsBody) -> AppResult<Self> {
        if b.values.len() > SubtreeKey::ALL.len() {
            return Err(RuleViolation::field("setting_unknown", "values").into());
        }
        b.values
            .into_iter()
            .map(|(k, v)| {
                let key = SubtreeKey::parse(&k).ok_or_else(|| {
                    AppError::Invalid(RuleViolation::field("setting_unknown", "values").arg("key", &k))
                })?;
                let value = match v {
                    Value::Null => None,
                    Value::String(s) => Some(s),
                    Value::Number(n) => Some(n.to_string()),
                    Value::Bool(b) => Some(b.to_string()),
                    _ => return Err(RuleViolation::field("setting_invalid", key.as_str()).into()),
                };
                Ok((key, value))
            })
            .collect()
    }
}

/// `GET /api/v1/orgs/{id}/settings`
pub async fn get_settings(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Json<OrgSettingsView>> {
    let org = state.store.orgs().org(&auth.scope(Cap::ReadOrg)?, id).await?;
    Ok(Json(OrgSettingsView::of(
        id,
        state.store.settings_in_force(&org.path).await?,
    )))
}

/// `PUT /api/v1/orgs/{id}/settings`
pub async fn put_settings(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<SettingsBody>,
) -> AppResult<Json<OrgSettingsView>> {
    let changes: Vec<_> = b.try_into()?;
    let list = state
        .store
        .set_subtree_settings(&auth.grants, &auth.actor(), id, &changes)
        .await?;
    Ok(Json(OrgSettingsView::of(id, list)))
}

// ---------- the page ----------

struct SettingLine {
    key: &'static str,
    value: String,
    deployment_value: String,
    /// (id, name) of the org above whose setting holds here.
    inherited_from: Option<(i64, String)>,
    set_here: bool,
    may_change: bool,
    /// The values of a key that has a fixed set (labels `settings.choice.<value>`).
    choices: Vec<&'static str>,
}

#[derive(Template)]
#[template(path = "org/settings.html")]
struct SettingsPage {
    shell: Shell,
    id: i64,
    name: String,
    lines: Vec<SettingLine>,
    may_change_any: bool,
}
crate::page::has_shell!(SettingsPage);

impl SettingsPage {
    /// A value as people read it: a choice by its label, a number as it is.
    fn shown(&self, l: &SettingLine, v: &str) -> String {
        if l.choices.is_empty() {
            v.to_owned()
        } else {
            self.shell.t(&format!("settings.choice.{v}"))
        }
    }
}

async fn settings_page(state: &AppState, a: &Auth, id: i64) -> AppResult<SettingsPage> {
    let org = state.store.orgs().org(&a.scope(Cap::ReadOrg)?, id).await?;
    let list = state.store.settings_in_force(&org.path).await?;
    let above: Vec<i64> = list
        .iter()
        .filter_map(|s| s.set_by_org)
        .filter(|o| *o != id)
        .collect();
    let names: BTreeMap<i64, String> = state
        .store
        .orgs()
        .orgs_by_ids(&above)
        .await?
        .into_iter()
        .map(|o| (o.id, o.name))
        .collect();
    let lines: Vec<SettingLine> = list
        .into_iter()
        .map(|s| SettingLine {
            key: s.key.as_str(),
            inherited_from: s
                .set_by_org
                .filter(|o| *o != id)
                .map(|o| (o, names.get(&o).cloned().unwrap_or_default())),
            set_here: s.set_by_org == Some(id),
            may_change: a.scope(s.key.cap()).is_ok_and(|sc| sc.contains_path(&org.path)),
            choices: s.key.choices().to_vec(),
            value: s.value,
            deployment_value: s.deployment_value,
        })
        .collect();
    Ok(SettingsPage {
        shell: Shell::of(a),
        id,
        name: org.name,
        may_change_any: lines.iter().any(|l| l.may_change),
        lines,
    })
}

/// `GET /orgs/{id}/settings`
pub async fn page(State(state): State<AppState>, PageUser(a): PageUser, Path(id): Path<i64>) -> Response {
    crate::page::page_or_error(&a, settings_page(&state, &a, id)).await
}

/// `POST /orgs/{id}/settings`: a field per key the caller may change; an empty field clears
/// this org's own setting (the value above holds again).
pub async fn save(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    PageForm(a, form): PageForm<BTreeMap<String, String>>,
) -> Response {
    crate::page::after_post(
        &a,
        async {
            let org = state.store.orgs().org(&a.scope(Cap::ReadOrg)?, id).await?;
            let now = state.store.settings_in_force(&org.path).await?;
            // only what the form changes: a key this org sets, set to another value or cleared, or
            // one it did not set, now given a value
            let changes: Vec<(SubtreeKey, Option<String>)> = now
                .iter()
                .filter(|s| a.scope(s.key.cap()).is_ok_and(|sc| sc.contains_path(&org.path)))
                .filter_map(|s| {
                    let v = form.get(s.key.as_str())?.trim();
                    let set_here = s.set_by_org == Some(id);
                    match (v.is_empty(), set_here) {
                        (true, true) => Some((s.key, None)),
                        (false, false) => Some((s.key, Some(v.to_owned()))),
                        (false, true) if v != s.value => Some((s.key, Some(v.to_owned()))),
                        _ => None,
                    }
                })
                .collect();
            state
                .store
                .set_subtree_settings(&a.grants, &a.actor(), id, &changes)
                .await?;
            Ok(())
        },
        |()| format!("/orgs/{id}/settings"),
        || settings_page(&state, &a, id),
    )
    .await
}
