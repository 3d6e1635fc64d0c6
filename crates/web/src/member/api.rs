//! Member records. Status changes are typed events (POST …/events), never PATCHes.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use dangjian_rules::member::{self, EventKind, Gender, MemberStatus, PersonCategory};
use dangjian_rules::{IdNumber, RuleViolation};
use dangjian_store::Cap;
use dangjian_store::person::{EventRow, NewEvent, NewPerson, PersonFilter, PersonPatch, PersonView};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use crate::AppState;
use crate::auth::Auth;
use crate::contract::row_view;
use crate::contract::{List, date};
use crate::error::{AppError, AppResult};
use crate::extract::{
    ApiJson, ApiPath, ApiQuery, Page, optional_date, optional_enum, optional_text, parse_date, parse_enum,
    required, required_text,
};

row_view! {
    /// A member record as the API answers it: ID number and phone masked unless the caller's grant
    /// shows them in full, and then the birth date too (else only the year).
    #[derive(Debug, Serialize, ToSchema)]
    pub struct MemberView from &PersonView as p {
        pub id: i64,
        pub name: String = p.name.clone(),
        pub org_id: i64,
        pub org_name: String = p.org_name.clone(),
        /// `applicant`, `activist`, `candidate`, `probationary`, `formal`, …
        pub status: &'static str = p.status.as_str(),
        pub status_label: &'static str = p.status.label_zh(),
        /// `male`, `female`
        pub gender: &'static str = p.gender.as_str(),
        pub ethnicity: Option<String> = p.ethnicity.clone(),
        /// None when the ID number is masked.
        #[schema(format = Date)]
        pub birth_date: Option<String> = p.birth_date.map(date),
        pub birth_year: i32,
        /// e.g. `110105********002X` when masked
        pub id_number: String = p.id_number.clone(),
        pub phone: Option<String> = p.phone.clone(),
        pub education: Option<String> = p.education.clone(),
        pub category: &'static str = p.category.as_str(),
        #[schema(format = Date)]
        pub joined_on: Option<String> = p.joined_on.map(date),
        #[schema(format = Date)]
        pub regularized_on: Option<String> = p.regularized_on.map(date),
        /// A probationary member's end of probation, an extension included (null otherwise).
        #[schema(format = Date)]
        pub probation_ends_on: Option<String> = p.probation_ends_on.map(date),
        pub work_unit: Option<String> = p.work_unit.clone(),
        pub card_uid: Option<String> = p.card_uid.clone(),
        /// Changes with every edit.
        pub version: i64,
    }
}

row_view! {
    /// One status event in a member's history.
    #[derive(Debug, Serialize, ToSchema)]
    pub struct EventView from EventRow as e {
        pub id: i64,
        pub person_id: i64,
        /// `apply`, `become_activist`, …, `transfer_in`, `suspend`, `deceased`
        pub kind: String = e.kind.as_str().to_owned(),
        pub kind_label: Option<&'static str> = Some(e.kind.label_zh()),
        #[schema(format = Date)]
        pub event_date: String = date(e.event_date),
        pub status_before: Option<String> = e.status_before.map(|s| s.as_str().to_owned()),
        pub status_after: String = e.status_after.as_str().to_owned(),
        pub org_before: Option<i64>,
        pub org_after: i64,
        pub reason: Option<String>,
        pub recorded_by: Option<i64>,
        #[schema(format = DateTime)]
        pub recorded_at: String = crate::contract::rfc3339(e.recorded_at),
        /// An extension of probation: its length in months.
        pub months: Option<i64>,
    }
}

#[derive(Deserialize)]
pub struct SearchQuery {
    org: Option<i64>,
    subtree: Option<bool>,
    status: Option<String>,
    category: Option<String>,
    q: Option<String>,
    limit: Option<i64>,
    offset: Option<i64>,
}

pub async fn search(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(q): ApiQuery<SearchQuery>,
) -> AppResult<Json<List<MemberView>>> {
    let scope = auth.scope(Cap::ReadMembers)?;
    let statuses = match q.status.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => Vec::new(),
        Some(list) => list
            .split(',')
            .map(|s| parse_enum("status", s, MemberStatus::parse))
            .collect::<AppResult<Vec<_>>>()?,
    };
    let page = Page {
        limit: q.limit,
        offset: q.offset,
    };
    let filter = PersonFilter {
        org_id: q.org,
        subtree: q.subtree.unwrap_or(false),
        statuses,
        category: optional_enum("category", q.category, PersonCategory::parse)?,
        q: q.q,
        limit: page.limit(),
        offset: page.offset(),
    };
    let (items, total) = state.store.members().people(&scope, &filter).await?;
    state
        .store
        .members()
        .audit_full_reads(
            &scope,
            &auth.actor(),
            "api_list",
            items.iter().map(|p| (p.id, p.full_identity)),
            serde_json::json!({"org": filter.org_id, "subtree": filter.subtree, "q": filter.q,
                "offset": filter.offset}),
        )
        .await?;
    Ok(Json(List::page(&items, total)))
}

pub async fn get_one(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Json<MemberView>> {
    let scope = auth.scope(Cap::ReadMembers)?;
    let person = state.store.members().person(&scope, id).await?;
    (state.store.members())
        .audit_full_read(&scope, &auth.actor(), "api", &person)
        .await?;
    Ok(Json(MemberView::from(&person)))
}

/// A member record as the API and the page forms send it (every field optional here; the
/// parse functions below say what is required). Dates are `YYYY-MM-DD`.
#[derive(Deserialize, Default, Clone, ToSchema)]
pub struct MemberBody {
    pub org_id: Option<i64>,
    pub name: Option<String>,
    pub gender: Option<String>,
    pub ethnicity: Option<String>,
    pub birth_date: Option<String>,
    pub id_number: Option<String>,
    pub phone: Option<String>,
    pub education: Option<String>,
    pub category: Option<String>,
    pub status: Option<String>,
    pub joined_on: Option<String>,
    pub regularized_on: Option<String>,
    pub work_unit: Option<String>,
    pub card_uid: Option<String>,
}

pub fn parse_phone(v: Option<String>) -> AppResult<Option<String>> {
    let v = v.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty());
    if let Some(p) = &v {
        let ok = p.len() == 11 && p.starts_with('1') && p.bytes().all(|b| b.is_ascii_digit())
            || (6..=20).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_digit() || b == b'-');
        if !ok {
            return Err(RuleViolation::field("phone_invalid", "phone").into());
        }
    }
    Ok(v)
}

fn parse_id(field: &'static str, s: &str, today: time::Date) -> AppResult<IdNumber> {
    IdNumber::parse_on(s, today).map_err(|v| {
        RuleViolation {
            field: Some(field),
            ..v
        }
        .into()
    })
}

/// Parses a new member record: required fields, the ID number (GB 11643, birth date, gender
/// from it when not given), dates, enums — each error names its field.
pub fn new_person(b: MemberBody, today: time::Date) -> AppResult<NewPerson> {
    let org_id = required("org_id", b.org_id)?;
    let name = required_text("name", b.name)?;
    if name.chars().count() > 50 {
        return Err(RuleViolation::field("text_too_long", "name")
            .arg("max", 50)
            .into());
    }
    let id_number = parse_id("id_number", &required_text("id_number", b.id_number)?, today)?;
    let birth_date = match b.birth_date.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(s) => parse_date("birth_date", s)?,
        None => id_number.birth_date(),
    };
    let gender = match optional_enum("gender", b.gender, Gender::parse_label)? {
        Some(g) => {
            member::check_id_gender(id_number.is_male(), g, "gender")?;
            g
        }
        None if id_number.is_male() => Gender::Male,
        None => Gender::Female,
    };
    let status = parse_enum(
        "status",
        &required_text("status", b.status)?,
        MemberStatus::parse_label,
    )?;
    let joined_on = optional_date("joined_on", b.joined_on)?;
    if status.is_member() && joined_on.is_none() {
        return Err(RuleViolation::field("field_required", "joined_on").into());
    }
    let regularized_on = optional_date("regularized_on", b.regularized_on)?;
    member::check_status_dates(status, regularized_on, "regularized_on")?;
    Ok(NewPerson {
        org_id,
        name,
        gender,
        ethnicity: optional_text("ethnicity", b.ethnicity, 20)?,
        birth_date,
        id_number,
        phone: parse_phone(b.phone)?,
        education: optional_text("education", b.education, 50)?,
        category: optional_enum("category", b.category, PersonCategory::parse_label)?
            .unwrap_or(PersonCategory::InService),
        status,
        joined_on,
        regularized_on,
        work_unit: optional_text("work_unit", b.work_unit, 200)?,
        recorded_on: None,
        history: Vec::new(),
    })
}

pub async fn create(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(b): ApiJson<MemberBody>,
) -> AppResult<(StatusCode, Json<MemberView>)> {
    let scope = auth.scope(Cap::WriteMembers)?;
    let new = new_person(b, state.store.today())?;
    let view = state
        .store
        .members()
        .create_person(&scope, &auth.actor(), new)
        .await?;
    Ok((StatusCode::CREATED, Json(MemberView::from(&view))))
}

/// Parses a change to a member record; the status and the org change only by events.
pub fn person_patch(b: MemberBody, today: time::Date) -> AppResult<PersonPatch> {
    if b.status.is_some() {
        return Err(RuleViolation::field("status_by_event_only", "status").into());
    }
    if b.org_id.is_some() {
        return Err(RuleViolation::field("org_by_event_only", "org_id").into());
    }
    let name = match b.name {
        Some(n) => Some(required_text("name", Some(n))?),
        None => None,
    };
    Ok(PersonPatch {
        name,
        gender: optional_enum("gender", b.gender, Gender::parse_label)?,
        ethnicity: optional_text("ethnicity", b.ethnicity, 20)?,
        birth_date: optional_date("birth_date", b.birth_date)?,
        id_number: b
            .id_number
            .as_deref()
            .map(|s| parse_id("id_number", s, today))
            .transpose()?,
        phone: match b.phone {
            Some(p) if p.trim().is_empty() => Some(String::new()),
            p => parse_phone(p)?,
        },
        education: optional_text("education", b.education, 50)?,
        category: optional_enum("category", b.category, PersonCategory::parse_label)?,
        joined_on: optional_date("joined_on", b.joined_on)?,
        regularized_on: optional_date("regularized_on", b.regularized_on)?,
        work_unit: optional_text("work_unit", b.work_unit, 200)?,
        card_uid: optional_text("card_uid", b.card_uid, 64)?,
    })
}

pub async fn update(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<MemberBody>,
) -> AppResult<Json<MemberView>> {
    let scope = auth.scope(Cap::WriteMembers)?;
    let patch = person_patch(b, state.store.today())?;
    let view = state
        .store
        .members()
        .update_person(&scope, &auth.actor(), id, patch)
        .await?;
    Ok(Json(MemberView::from(&view)))
}

pub async fn events(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Json<List<EventView>>> {
    let scope = auth.scope(Cap::ReadMembers)?;
    let rows = state.store.members().person_events(&scope, id).await?;
    Ok(Json(List::of(rows)))
}

/// A status change as the API and the page form send it: the event's kind and date, a reason
/// where the rules ask for one, the status it leads to (restore) and the org (transfer, move).
#[derive(Deserialize, Default, Clone, ToSchema)]
pub struct EventBody {
    pub kind: Option<String>,
    pub date: Option<String>,
    pub reason: Option<String>,
    pub status: Option<String>,
    pub org_id: Option<i64>,
    /// `extend_probation`: the extension's length (6–12 months).
    #[schema(value_type = Option<u32>)]
    pub months: Option<Value>,
    /// `transfer_in`: the letter's 党费交至 month, `YYYY-MM`; bills start the month after (none
    /// stated: from the month of the transfer).
    pub dues_paid_through: Option<String>,
}

impl EventBody {
    /// The months as the page's form shows them again after a refusal.
    pub fn months_text(&self) -> String {
        match &self.months {
            Some(Value::String(t)) => t.clone(),
            Some(Value::Number(n)) => n.to_string(),
            _ => String::new(),
        }
    }
}

/// An extension's months as a number or as the text of one (the page's form); another value
/// is `probation_extension_range` on `months`, as an out-of-range number is.
fn months_of(v: Option<Value>) -> AppResult<Option<u32>> {
    let bad = || {
        AppError::from(
            RuleViolation::field("probation_extension_range", "months")
                .arg("months", "?")
                .arg("min", 6)
                .arg("max", 12),
        )
    };
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(t)) if t.trim().is_empty() => Ok(None),
        Some(Value::Number(n)) => n
            .as_u64()
            .and_then(|n| u32::try_from(n).ok())
            .map(Some)
            .ok_or_else(bad),
        Some(Value::String(t)) => t.trim().parse::<u32>().map(Some).map_err(|_| bad()),
        Some(_) => Err(bad()),
    }
}

/// Parses a status change; `register` is not an event one records by hand.
pub fn new_event(b: EventBody) -> AppResult<NewEvent> {
    let kind = parse_enum("kind", &required_text("kind", b.kind)?, EventKind::parse)?;
    if kind == EventKind::Register {
        return Err(RuleViolation::field("status_transition_invalid", "kind")
            .arg("from", "-")
            .arg("event", kind.label_zh())
            .into());
    }
    let date = parse_date("date", &required_text("date", b.date)?)?;
    Ok(NewEvent {
        kind,
        date,
        reason: optional_text("reason", b.reason, 500)?,
        target_status: optional_enum("status", b.status, MemberStatus::parse)?,
        org_id: b.org_id,
        months: months_of(b.months)?,
        dues_paid_through: b
            .dues_paid_through
            .filter(|t| !t.trim().is_empty())
            .map(|t| dangjian_rules::dues::ledger::parse_ym("dues_paid_through", &t))
            .transpose()?,
    })
}

pub async fn record_event(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<EventBody>,
) -> AppResult<(StatusCode, Json<EventView>)> {
    let scope = auth.scope(Cap::WriteMembers)?;
    let ev = new_event(b)?;
    let row = state
        .store
        .members()
        .record_event(&scope, &auth.actor(), id, ev)
        .await?;
    Ok((StatusCode::CREATED, Json(EventView::from(row))))
}
