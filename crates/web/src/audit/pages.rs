//! The audit log viewer: rows of the caller's subtree, newest first, filtered by entity, actor
//! and local dates, each with what changed ("key: old → new"); and, for admins, a button that
//! checks the whole hash chain on demand (too slow for every page view).

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use dangjian_rules::member::EventKind;
use dangjian_store::Cap;
use dangjian_store::audit::{AuditRow, Verdict};
use serde_json::Value;
use time::macros::format_description;

use crate::AppState;
use crate::audit::api::{AuditQuery, audit_filter};
use crate::auth::Auth;
use crate::error::AppError;
use crate::i18n::{Locale, current_locale, enum_label, t};
use crate::page::t_opt;
use crate::page::urlencode;
use crate::page::{CsrfForm, Shell, error_page, render};
use crate::page::{PageForm, PageUser};

const PAGE: i64 = 50;
/// The entities the filter offers (every `entity` the store writes).
const ENTITIES: &[&str] = &["org", "person", "user", "committee_post", "api_token", "keys"];
/// Longest value shown in a change before it is cut.
const VALUE_MAX: usize = 60;

/// One changed key: `old → new`; no old for a created value, no new for a removed one.
pub(crate) struct Change {
    pub key: String,
    pub old: Option<String>,
    pub new: Option<String>,
}

pub(crate) struct AuditLine {
    pub seq: i64,
    pub at: String,
    pub actor: String,
    pub action: String,
    pub entity: String,
    pub entity_id: Option<String>,
    /// The page of the entity, for members, orgs and logins.
    pub link: Option<String>,
    pub changes: Vec<Change>,
}

/// A JSON value in a few characters: text as is, others as JSON, long ones cut.
fn compact(v: &Value) -> String {
    let s = match v {
        Value::String(s) => s.clone(),
        Value::Null => "—".into(),
        other => other.to_string(),
    };
    if s.chars().count() > VALUE_MAX {
        let cut: String = s.chars().take(VALUE_MAX - 1).collect();
        format!("{cut}…")
    } else {
        s
    }
}

/// What changed between the row's before and after JSON: for objects only the keys whose values
/// differ (field names in the page's language where known); other values whole.
pub(crate) fn changes(locale: Locale, before: Option<&str>, after: Option<&str>) -> Vec<Change> {
    let parse = |s: Option<&str>| {
        s.map(|s| serde_json::from_str::<Value>(s).unwrap_or_else(|_| Value::String(s.to_owned())))
    };
    let (before, after) = (parse(before), parse(after));
    let key_label = |k: &str| t_opt(locale, &format!("field.{k}")).unwrap_or_else(|| k.to_owned());
    let empty = serde_json::Map::new();
    match (&before, &after) {
        (None | Some(Value::Object(_)), None | Some(Value::Object(_))) => {
            let b = before.as_ref().and_then(Value::as_object).unwrap_or(&empty);
            let a = after.as_ref().and_then(Value::as_object).unwrap_or(&empty);
            let mut keys: Vec<&String> = a.keys().chain(b.keys().filter(|k| !a.contains_key(*k))).collect();
            keys.sort();
            keys.into_iter()
                .filter(|k| b.get(*k) != a.get(*k))
                .map(|k| Change {
                    key: key_label(k),
                    old: b.get(k).map(compact),
                    new: a.get(k).map(compact),
                })
                .collect()
        }
        _ => vec![Change {
            key: String::new(),
            old: before.as_ref().map(compact),
            new: after.as_ref().map(compact),
        }],
    }
}

fn action_label(locale: Locale, entity: &str, action: &str) -> String {
    if entity == "person" && EventKind::parse(action).is_some() {
        return enum_label(locale, "event_kind", action);
    }
    t_opt(locale, &format!("admin.action.{action}")).unwrap_or_else(|| action.to_owned())
}

fn line(state: &AppState, locale: Locale, r: AuditRow) -> AuditLine {
    let at =
        r.at.to_offset(state.store.local.offset)
            .format(format_description!(
                "[year]-[month]-[day] [hour]:[minute]:[second]"
            ))
            .unwrap_or_default();
    let numeric_id = r.entity_id.as_deref().and_then(|i| i.parse::<i64>().ok());
    let link = match (r.entity.as_str(), numeric_id) {
        ("person", Some(id)) => Some(format!("/members/{id}")),
        ("org", Some(id)) => Some(format!("/orgs/{id}")),
        ("user", Some(id)) => Some(format!("/accounts/{id}")),
        _ => None,
    };
    AuditLine {
        seq: r.seq,
        at,
        action: action_label(locale, &r.entity, &r.action),
        entity: t_opt(locale, &format!("admin.entity.{}", r.entity)).unwrap_or_else(|| r.entity.clone()),
        entity_id: r.entity_id,
        link,
        changes: changes(locale, r.before_json.as_deref(), r.after_json.as_deref()),
        actor: r.actor,
    }
}

#[derive(Template)]
#[template(path = "audit/list.html")]
struct AuditPage {
    shell: Shell,
    /// (value, label)
    entities: Vec<(&'static str, String)>,
    entity: String,
    actor: String,
    from: String,
    to: String,
    rows: Vec<AuditLine>,
    total: i64,
    offset: i64,
    prev: Option<String>,
    next: Option<String>,
    /// (field, message)
    errors: Vec<(String, String)>,
    can_verify: bool,
    /// (intact?, the verdict in words)
    verdict: Option<(bool, String)>,
}

fn query_string(q: &AuditQuery, offset: i64) -> String {
    let mut parts = Vec::new();
    for (k, v) in [
        ("entity", &q.entity),
        ("actor", &q.actor),
        ("from", &q.from),
        ("to", &q.to),
    ] {
        if let Some(v) = v.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
            parts.push(format!("{k}={}", urlencode(v)));
        }
    }
    if offset > 0 {
        parts.push(format!("offset={offset}"));
    }
    parts.join("&")
}

async fn audit_page(state: &AppState, a: &Auth, q: &AuditQuery) -> Result<(AuditPage, StatusCode), AppError> {
    let scope = a.scope(Cap::ReadAudit)?;
    let locale = current_locale();
    let offset = q.offset.unwrap_or(0).max(0);
    let text = |v: &Option<String>| v.clone().unwrap_or_default();
    let mut page = AuditPage {
        shell: Shell::of(a),
        entities: ENTITIES
            .iter()
            .map(|e| (*e, t(locale, &format!("admin.entity.{e}"), &[])))
            .collect(),
        entity: text(&q.entity),
        actor: text(&q.actor),
        from: text(&q.from),
        to: text(&q.to),
        rows: Vec::new(),
        total: 0,
        offset,
        prev: None,
        next: None,
        errors: Vec::new(),
        can_verify: a.is_global_admin(state).await?,
        verdict: None,
    };
    let filter = match audit_filter(state, a, q).await {
        Ok(f) => f,
        Err(e @ AppError::Invalid(_)) => {
            page.errors.push((e.field().unwrap_or_default(), e.message()));
            return Ok((page, e.status()));
        }
        Err(e) => return Err(e),
    };
    let (rows, total) = dangjian_store::audit::list(&state.store.db, &scope, &filter, PAGE, offset).await?;
    page.rows = rows.into_iter().map(|r| line(state, locale, r)).collect();
    page.total = total;
    page.prev = (offset > 0).then(|| query_string(q, (offset - PAGE).max(0)));
    page.next = (offset + PAGE < total).then(|| query_string(q, offset + PAGE));
    Ok((page, StatusCode::OK))
}

pub async fn list(
    State(state): State<AppState>,
    PageUser(a): PageUser,
    Query(q): Query<AuditQuery>,
) -> Response {
    match audit_page(&state, &a, &q).await {
        Ok((page, status)) => render(&page, status),
        Err(e) => error_page(Shell::of(&a), &e),
    }
}

/// Walks the whole chain (admins only) and shows the verdict above the newest rows.
pub async fn verify(State(state): State<AppState>, PageForm(a, _f): PageForm<CsrfForm>) -> Response {
    let result = async {
        a.scope(Cap::ReadAudit)?;
        if !a.is_global_admin(&state).await.unwrap_or(false) {
            return Err(AppError::Forbidden("forbidden"));
        }
        let locale = current_locale();
        let verdict = match dangjian_store::audit::verify(&state.store.db, &state.store.keys).await? {
            Verdict::Intact { rows } => (
                true,
                t(
                    locale,
                    "admin.audit.verdict_intact",
                    &[("rows", rows.to_string())],
                ),
            ),
            Verdict::Altered { chain, seq } => (
                false,
                t(
                    locale,
                    "admin.audit.verdict_altered",
                    &[("chain", chain.to_string()), ("seq", seq.to_string())],
                ),
            ),
            Verdict::Missing { chain, chain_seq } => (
                false,
                t(
                    locale,
                    "admin.audit.verdict_missing",
                    &[("chain", chain.to_string()), ("seq", chain_seq.to_string())],
                ),
            ),
        };
        let (mut page, status) = audit_page(&state, &a, &AuditQuery::default()).await?;
        page.verdict = Some(verdict);
        Ok::<_, AppError>(render(&page, status))
    }
    .await;
    result.unwrap_or_else(|e| error_page(Shell::of(&a), &e))
}

#[cfg(test)]
mod tests {
    use super::changes;
    use crate::i18n::Locale;

    #[test]
    fn changes_show_only_the_keys_that_differ() {
        let c = changes(
            Locale::En,
            Some(r#"{"name":"张三","education":"大学本科","version":1}"#),
            Some(r#"{"name":"张三","education":"硕士研究生","version":2}"#),
        );
        let shown: Vec<String> = c
            .iter()
            .map(|c| {
                format!(
                    "{}: {} → {}",
                    c.key,
                    c.old.as_deref().unwrap_or(""),
                    c.new.as_deref().unwrap_or("")
                )
            })
            .collect();
        assert_eq!(shown, vec!["Education: 大学本科 → 硕士研究生", "version: 1 → 2"]);
        let created = changes(Locale::ZhCn, None, Some(r#"{"role":"staff","org_id":4}"#));
        assert_eq!(created.len(), 2);
        assert!(created.iter().all(|c| c.old.is_none() && c.new.is_some()));
        let odd = changes(Locale::ZhCn, Some("[1,2]"), None);
        assert_eq!(odd.len(), 1);
        assert_eq!(odd[0].old.as_deref(), Some("[1,2]"));
    }
}
