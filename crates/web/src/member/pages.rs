//! Member pages: the list with filters (and its Excel export), the record with its status
//! history, the create and edit forms with errors next to their fields, and status changes.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use dangjian_rules::member::{EventKind, MemberStatus, PersonCategory};
use dangjian_store::Cap;
use dangjian_store::person::{EventRow, PersonFilter, PersonView};
use serde::Deserialize;

use crate::AppState;
use crate::auth::Auth;
use crate::error::AppError;
use crate::home::{MemberLine, date_or_dash, text_or_dash};
use crate::member::api::{EventBody, MemberBody, new_event, new_person, person_patch};
use crate::page::urlencode;
use crate::page::{PageForm, PageUser};
use crate::page::{Shell, error_page, render};

const PAGE: i64 = 50;

#[derive(Deserialize, Default, Clone)]
pub struct ListQuery {
    org: Option<i64>,
    subtree: Option<String>,
    status: Option<String>,
    category: Option<String>,
    q: Option<String>,
    offset: Option<i64>,
    /// Set after an import: how many people came in.
    imported: Option<i64>,
}

impl ListQuery {
    fn subtree(&self) -> bool {
        self.subtree
            .as_deref()
            .is_some_and(|s| s == "true" || s == "on" || s == "1")
    }
    /// The same filter as a query string (for paging and the Excel export).
    fn query_string(&self, offset: Option<i64>) -> String {
        let mut parts = Vec::new();
        if let Some(o) = self.org {
            parts.push(format!("org={o}"));
        }
        if self.subtree() {
            parts.push("subtree=true".into());
        }
        for (k, v) in [
            ("status", &self.status),
            ("category", &self.category),
            ("q", &self.q),
        ] {
            if let Some(v) = v.as_deref().filter(|v| !v.is_empty()) {
                parts.push(format!("{k}={}", urlencode(v)));
            }
        }
        if let Some(o) = offset {
            parts.push(format!("offset={o}"));
        }
        parts.join("&")
    }
}

#[derive(Template)]
#[template(path = "member/list.html")]
struct ListPage {
    shell: Shell,
    filter_org: Option<(i64, String)>,
    subtree: bool,
    status: String,
    category: String,
    q: String,
    statuses: Vec<&'static str>,
    categories: Vec<&'static str>,
    rows: Vec<MemberLine>,
    total: i64,
    offset: i64,
    prev: Option<String>,
    next: Option<String>,
    export_query: String,
    can_create: bool,
    imported: Option<i64>,
}

pub async fn list(
    State(state): State<AppState>,
    PageUser(a): PageUser,
    Query(q): Query<ListQuery>,
) -> Response {
    crate::page::page_or_error(&a, async {
        let scope = a.scope(Cap::ReadMembers)?;
        let statuses = match q.status.as_deref().filter(|s| !s.is_empty()) {
            Some(s) => vec![MemberStatus::parse(s).ok_or(AppError::Invalid(
                dangjian_rules::RuleViolation::field("value_unknown", "status").arg("value", s),
            ))?],
            None => Vec::new(),
        };
        let offset = q.offset.unwrap_or(0).max(0);
        let filter = PersonFilter {
            org_id: q.org,
            subtree: q.subtree(),
            statuses,
            category: q.category.as_deref().and_then(PersonCategory::parse),
            q: q.q.clone(),
            limit: PAGE,
            offset,
        };
        let (people, total) = state.store.members().people(&scope, &filter).await?;
        let filter_org = match q.org {
            Some(id) => state
                .store
                .orgs()
                .org(&a.scope(Cap::ReadOrg)?, id)
                .await
                .ok()
                .map(|o| (o.id, o.name)),
            None => None,
        };
        let can_create = filter_org.is_some() && a.scope(Cap::WriteMembers).is_ok();
        let page = ListPage {
            filter_org,
            subtree: q.subtree(),
            status: q.status.clone().unwrap_or_default(),
            category: q.category.clone().unwrap_or_default(),
            q: q.q.clone().unwrap_or_default(),
            statuses: MemberStatus::ALL.iter().map(|s| s.as_str()).collect(),
            categories: PersonCategory::ALL.iter().map(|c| c.as_str()).collect(),
            rows: people.into_iter().map(MemberLine::of).collect(),
            total,
            offset,
            prev: (offset > 0).then(|| q.query_string(Some((offset - PAGE).max(0)))),
            next: (offset + PAGE < total).then(|| q.query_string(Some(offset + PAGE))),
            export_query: q.query_string(None),
            can_create,
            imported: q.imported,
            shell: Shell::of(&a),
        };
        Ok(page)
    })
    .await
}

/// One line of the record, already in display form.
struct Fact {
    key: &'static str,
    value: String,
    mono: bool,
}

#[derive(Template)]
#[template(path = "member/show.html")]
struct ShowPage {
    shell: Shell,
    person: PersonView,
    facts: Vec<Fact>,
    events: Vec<EventRow>,
    can_write: bool,
    event_kinds: Vec<&'static str>,
    statuses: Vec<&'static str>,
    orgs: Vec<(i64, String)>,
    event_form: EventBody,
    today: String,
}

crate::page::has_shell!(ShowPage);

fn facts(shell: &Shell, p: &PersonView) -> Vec<Fact> {
    let fact = |key, value: String, mono| Fact { key, value, mono };
    vec![
        fact("field.gender", shell.label("gender", p.gender), false),
        fact("field.ethnicity", text_or_dash(p.ethnicity.clone()), false),
        fact(
            "field.birth_date",
            p.birth_date.map_or_else(
                || {
                    crate::i18n::t(
                        shell.locale,
                        "member.birth_year_only",
                        &[("year", p.birth_year.to_string())],
                    )
                },
                |d| d.to_string(),
            ),
            false,
        ),
        fact("field.id_number", p.id_number.clone(), true),
        fact("field.phone", text_or_dash(p.phone.clone()), true),
        fact("field.education", text_or_dash(p.education.clone()), false),
        fact(
            "field.category",
            shell.label("person_category", p.category),
            false,
        ),
        fact("field.joined_on", date_or_dash(p.joined_on), false),
        fact("field.regularized_on", date_or_dash(p.regularized_on), false),
        fact(
            "field.probation_ends_on",
            date_or_dash(p.probation_ends_on),
            false,
        ),
        fact("field.work_unit", text_or_dash(p.work_unit.clone()), false),
        fact("field.card_uid", text_or_dash(p.card_uid.clone()), true),
    ]
}

/// The orgs a member may be moved to: branches and groups in the caller's write scope.
async fn member_orgs(state: &AppState, a: &Auth) -> Result<Vec<(i64, String)>, AppError> {
    let scope = a.scope(Cap::WriteMembers)?;
    let mut out = Vec::new();
    for root in state.store.orgs().scope_roots(&scope).await? {
        let (rows, _) = state.store.orgs().subtree(&scope, root.id, 3000, 0).await?;
        out.extend(
            rows.into_iter()
                .filter(|o| o.kind().holds_members())
                .map(|o| (o.id, o.name)),
        );
    }
    Ok(out)
}

async fn show_page(state: &AppState, a: &Auth, id: i64, event_form: EventBody) -> Result<ShowPage, AppError> {
    let scope = a.scope(Cap::ReadMembers)?;
    let person = state.store.members().person(&scope, id).await?;
    (state.store.members())
        .audit_full_read(&scope, &a.actor(), "page", &person)
        .await?;
    let events = state.store.members().person_events(&scope, id).await?;
    let can_write = match a.scope(Cap::WriteMembers) {
        Ok(ws) => state.store.members().person_row(&ws, id).await.is_ok(),
        Err(_) => false,
    };
    let orgs = if can_write {
        member_orgs(state, a).await?
    } else {
        Vec::new()
    };
    let shell = Shell::of(a);
    let event_kinds: Vec<&'static str> = EventKind::ALL
        .iter()
        .filter(|k| **k != EventKind::Register)
        // only the changes the rules allow from the current status
        .filter(|k| dangjian_rules::next_status(Some(person.status), **k, Some(MemberStatus::Formal)).is_ok())
        .map(|k| k.as_str())
        .collect();
    Ok(ShowPage {
        facts: facts(&shell, &person),
        person,
        events,
        can_write,
        event_kinds,
        statuses: [
            MemberStatus::Formal,
            MemberStatus::Probationary,
            MemberStatus::Applicant,
            MemberStatus::Activist,
            MemberStatus::Candidate,
        ]
        .iter()
        .map(|s| s.as_str())
        .collect(),
        orgs,
        event_form,
        today: state.store.today().to_string(),
        shell,
    })
}

pub async fn show(State(state): State<AppState>, PageUser(a): PageUser, Path(id): Path<i64>) -> Response {
    crate::page::page_or_error(&a, show_page(&state, &a, id, EventBody::default())).await
}

#[derive(Deserialize)]
pub struct EventForm {
    #[serde(flatten)]
    body: EventFormFields,
}

/// The status-change form: text fields only (an empty select is "").
#[derive(Deserialize, Default)]
pub struct EventFormFields {
    kind: Option<String>,
    date: Option<String>,
    reason: Option<String>,
    status: Option<String>,
    org_id: Option<String>,
    months: Option<String>,
    dues_paid_through: Option<String>,
}

pub async fn record_event(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    PageForm(a, f): PageForm<EventForm>,
) -> Response {
    let body = EventBody {
        kind: f.body.kind,
        date: f.body.date,
        reason: f.body.reason,
        status: f.body.status.filter(|s| !s.is_empty()),
        org_id: f.body.org_id.and_then(|o| o.parse().ok()),
        months: f.body.months.map(serde_json::Value::String),
        dues_paid_through: f.body.dues_paid_through,
    };
    // the form comes back with what was sent when it is refused
    let sent = body.clone();
    crate::page::after_post(
        &a,
        async {
            let scope = a.scope(Cap::WriteMembers)?;
            let ev = new_event(sent)?;
            state
                .store
                .members()
                .record_event(&scope, &a.actor(), id, ev)
                .await?;
            Ok(())
        },
        |()| format!("/members/{id}"),
        || show_page(&state, &a, id, body),
    )
    .await
}

// ---------- create and edit ----------

#[derive(Template)]
#[template(path = "member/form.html")]
struct FormPage {
    shell: Shell,
    /// None: a new record.
    id: Option<i64>,
    org: (i64, String),
    values: MemberBody,
    /// (field, message)
    errors: Vec<(String, String)>,
    statuses: Vec<&'static str>,
    categories: Vec<&'static str>,
}

impl FormPage {
    fn value<'a>(&self, v: &'a Option<String>) -> &'a str {
        v.as_deref().unwrap_or("")
    }
}

#[derive(Deserialize)]
pub struct NewQuery {
    org: i64,
}

fn form_page(
    a: &Auth,
    id: Option<i64>,
    org: (i64, String),
    values: MemberBody,
    errors: Vec<(String, String)>,
) -> FormPage {
    FormPage {
        shell: Shell::of(a),
        id,
        org,
        values,
        errors,
        statuses: vec![
            MemberStatus::Formal.as_str(),
            MemberStatus::Probationary.as_str(),
            MemberStatus::Applicant.as_str(),
            MemberStatus::Activist.as_str(),
            MemberStatus::Candidate.as_str(),
        ],
        categories: PersonCategory::ALL.iter().map(|c| c.as_str()).collect(),
    }
}

/// A field error goes next to its field; others on top of the form.
fn form_errors(e: &AppError) -> Vec<(String, String)> {
    vec![(e.field().unwrap_or_default(), e.message())]
}

pub async fn new_form(
    State(state): State<AppState>,
    PageUser(a): PageUser,
    Query(q): Query<NewQuery>,
) -> Response {
    crate::page::page_or_error(&a, async {
        let org = state
            .store
            .orgs()
            .org(&a.scope(Cap::WriteMembers)?, q.org)
            .await?;
        let values = MemberBody {
            status: Some("formal".into()),
            category: Some("in_service".into()),
            ..Default::default()
        };
        Ok::<_, AppError>(form_page(&a, None, (org.id, org.name), values, Vec::new()))
    })
    .await
}

#[derive(Deserialize)]
pub struct MemberForm {
    #[serde(flatten)]
    fields: MemberFormFields,
}

/// The form's fields as text (browsers send "" for empty fields).
#[derive(Deserialize, Default)]
pub struct MemberFormFields {
    org_id: Option<String>,
    name: Option<String>,
    gender: Option<String>,
    ethnicity: Option<String>,
    birth_date: Option<String>,
    id_number: Option<String>,
    phone: Option<String>,
    education: Option<String>,
    category: Option<String>,
    status: Option<String>,
    joined_on: Option<String>,
    regularized_on: Option<String>,
    work_unit: Option<String>,
    card_uid: Option<String>,
}

impl MemberFormFields {
    fn into_body(self) -> MemberBody {
        MemberBody {
            org_id: self.org_id.and_then(|o| o.parse().ok()),
            name: self.name,
            gender: self.gender,
            ethnicity: self.ethnicity,
            birth_date: self.birth_date,
            id_number: self.id_number,
            phone: self.phone,
            education: self.education,
            category: self.category,
            status: self.status,
            joined_on: self.joined_on,
            regularized_on: self.regularized_on,
            work_unit: self.work_unit,
            card_uid: self.card_uid,
        }
    }
}

pub async fn create(State(state): State<AppState>, PageForm(a, f): PageForm<MemberForm>) -> Response {
    let values = f.fields.into_body();
    let result = async {
        let scope = a.scope(Cap::WriteMembers)?;
        let org = state
            .store
            .orgs()
            .org(&scope, values.org_id.unwrap_or(-1))
            .await?;
        let created = match new_person(values.clone(), state.store.today()) {
            Ok(new) => state
                .store
                .members()
                .create_person(&scope, &a.actor(), new)
                .await
                .map_err(AppError::from),
            Err(e) => Err(e),
        };
        Ok::<_, AppError>((org, created))
    }
    .await;
    match result {
        Ok((_, Ok(p))) => Redirect::to(&format!("/members/{}", p.id)).into_response(),
        Ok((org, Err(e @ (AppError::Invalid(_) | AppError::Conflict(_))))) => render(
            &form_page(&a, None, (org.id, org.name), values, form_errors(&e)),
            e.status(),
        ),
        Ok((_, Err(e))) | Err(e) => error_page(Shell::of(&a), &e),
    }
}

fn body_of(p: &PersonView) -> MemberBody {
    MemberBody {
        org_id: None,
        name: Some(p.name.clone()),
        gender: Some(p.gender.to_string()),
        ethnicity: p.ethnicity.clone(),
        birth_date: p.birth_date.map(|d| d.to_string()),
        id_number: Some(p.id_number.clone()),
        phone: p.phone.clone(),
        education: p.education.clone(),
        category: Some(p.category.to_string()),
        status: None,
        joined_on: p.joined_on.map(|d| d.to_string()),
        regularized_on: p.regularized_on.map(|d| d.to_string()),
        work_unit: p.work_unit.clone(),
        card_uid: p.card_uid.clone(),
    }
}

pub async fn edit_form(
    State(state): State<AppState>,
    PageUser(a): PageUser,
    Path(id): Path<i64>,
) -> Response {
    crate::page::page_or_error(&a, async {
        let scope = a.scope(Cap::WriteMembers)?;
        let p = state.store.members().person(&scope, id).await?;
        if !p.full_identity {
            // editing needs the full ID number and phone; without that grant there is no form
            return Err(AppError::NotFound);
        }
        let members = state.store.members();
        members
            .audit_full_read(&scope, &a.actor(), "page_edit", &p)
            .await?;
        let page = form_page(
            &a,
            Some(id),
            (p.org_id, p.org_name.clone()),
            body_of(&p),
            Vec::new(),
        );
        Ok(page)
    })
    .await
}

pub async fn update(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    PageForm(a, f): PageForm<MemberForm>,
) -> Response {
    let mut values = f.fields.into_body();
    // status and org change by events only; the form does not send them
    values.status = None;
    values.org_id = None;
    let result = async {
        let scope = a.scope(Cap::WriteMembers)?;
        let current = state.store.members().person(&scope, id).await?;
        let changed = match person_patch(values.clone(), state.store.today()) {
            Ok(patch) => state
                .store
                .members()
                .update_person(&scope, &a.actor(), id, patch)
                .await
                .map_err(AppError::from),
            Err(e) => Err(e),
        };
        Ok::<_, AppError>((current, changed))
    }
    .await;
    match result {
        Ok((_, Ok(_))) => Redirect::to(&format!("/members/{id}")).into_response(),
        Ok((p, Err(e @ (AppError::Invalid(_) | AppError::Conflict(_))))) => render(
            &form_page(&a, Some(id), (p.org_id, p.org_name), values, form_errors(&e)),
            e.status(),
        ),
        Ok((_, Err(e))) | Err(e) => error_page(Shell::of(&a), &e),
    }
}
