//! People: members and those in the development pipeline. ID numbers and phones are stored
//! encrypted with a blind index for exact lookup and a masked copy for lists. Members are never
//! deleted: a status change is a typed event, and the person row is the result of the events.

use dangjian_rules::dues::ledger;
use dangjian_rules::member::{self, EventKind, Gender, MemberStatus, PersonCategory, events};
use dangjian_rules::{IdNumber, RuleViolation, org_rules_on};
use serde_json::json;
use time::{Date, OffsetDateTime};

use crate::Members;
use crate::audit::Actor;
use crate::db::Tx;
use crate::error::{StoreError, StoreResult};
use crate::org::{OrgRow, adjust_counts, org_in_scope, org_in_tx};
use crate::scope::Scope;

pub const ID_INDEX: &str = "id_number";

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PersonRow {
    pub id: i64,
    pub org_id: i64,
    pub org_path: String,
    pub org_name: String,
    pub name: String,
    #[sqlx(try_from = "String")]
    pub gender: Gender,
    pub ethnicity: Option<String>,
    pub birth_date: Date,
    pub id_number_enc: String,
    pub id_number_masked: String,
    pub phone_enc: Option<String>,
    pub phone_masked: Option<String>,
    pub education: Option<String>,
    #[sqlx(try_from = "String")]
    pub category: PersonCategory,
    #[sqlx(try_from = "String")]
    pub status: MemberStatus,
    pub joined_on: Option<Date>,
    pub regularized_on: Option<Date>,
    pub work_unit: Option<String>,
    pub card_uid: Option<String>,
    pub version: i64,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
    /// A probationary member's extension of probation, in months (0 without one).
    pub extension_months: i64,
}

const PERSON_COLS: &str = "p.id, p.org_id, p.org_path, o.name AS org_name, p.name, p.gender, p.ethnicity, p.birth_date, \
    p.id_number_enc, p.id_number_masked, p.phone_enc, p.phone_masked, p.education, p.category, p.status, p.joined_on, \
    p.regularized_on, p.work_unit, p.card_uid, p.version, p.created_at, p.updated_at, \
    CASE WHEN p.status = 'probationary' THEN (SELECT CAST(COALESCE(SUM(e.months), 0) AS BIGINT) FROM person_event e \
      WHERE e.person_id = p.id AND e.kind = 'extend_probation') ELSE 0 END AS extension_months";

impl PersonRow {
    pub fn status(&self) -> MemberStatus {
        self.status
    }
    fn audit_json(&self) -> serde_json::Value {
        // no clear-text ID numbers or phones in the audit trail: masked forms only
        json!({
            "org_id": self.org_id, "name": self.name, "gender": self.gender, "ethnicity": self.ethnicity,
            "birth_date": self.birth_date.to_string(), "id_number": self.id_number_masked, "phone": self.phone_masked,
            "education": self.education, "category": self.category, "status": self.status,
            "joined_on": self.joined_on.map(|d| d.to_string()), "regularized_on": self.regularized_on.map(|d| d.to_string()),
            "work_unit": self.work_unit, "card_uid": self.card_uid,
        })
    }
}

/// A person as a caller may see them: ID number and phone decrypted or masked per the scope.
#[derive(Debug, Clone, serde::Serialize)]
pub struct PersonView {
    pub id: i64,
    pub org_id: i64,
    pub org_name: String,
    pub name: String,
    pub gender: Gender,
    pub ethnicity: Option<String>,
    /// Only with full identity: the masked ID number hides exactly the eight birth-date digits,
    /// so the date beside it would give the number back (issue 11, item 3).
    pub birth_date: Option<Date>,
    /// Always: with the masked number about 33 valid numbers remain.
    pub birth_year: i32,
    pub id_number: String,
    pub phone: Option<String>,
    pub education: Option<String>,
    pub category: PersonCategory,
    pub status: MemberStatus,
    pub joined_on: Option<Date>,
    pub regularized_on: Option<Date>,
    /// A probationary member's end of probation, any extension included.
    pub probation_ends_on: Option<Date>,
    pub work_unit: Option<String>,
    pub card_uid: Option<String>,
    pub version: i64,
    pub full_identity: bool,
}

#[derive(Debug, Clone)]
pub struct NewPerson {
    pub org_id: i64,
    pub name: String,
    pub gender: Gender,
    pub ethnicity: Option<String>,
    pub birth_date: Date,
    pub id_number: IdNumber,
    pub phone: Option<String>,
    pub education: Option<String>,
    pub category: PersonCategory,
    pub status: MemberStatus,
    pub joined_on: Option<Date>,
    pub regularized_on: Option<Date>,
    pub work_unit: Option<String>,
    /// The date the record starts (the register event); default today.
    pub recorded_on: Option<Date>,
    /// Past status events to record instead of a bare register event (demo data, imports with
    /// history); they must lead to `status`.
    pub history: Vec<(EventKind, Date)>,
}

#[derive(Debug, Clone, Default)]
pub struct PersonPatch {
    pub name: Option<String>,
    pub gender: Option<Gender>,
    pub ethnicity: Option<String>,
    pub birth_date: Option<Date>,
    pub id_number: Option<IdNumber>,
    pub phone: Option<String>,
    pub education: Option<String>,
    pub category: Option<PersonCategory>,
    pub joined_on: Option<Date>,
    pub regularized_on: Option<Date>,
    pub work_unit: Option<String>,
    pub card_uid: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct PersonFilter {
    pub org_id: Option<i64>,
    pub subtree: bool,
    pub statuses: Vec<MemberStatus>,
    pub category: Option<PersonCategory>,
    pub q: Option<String>,
    pub limit: i64,
    pub offset: i64,
}

/// One person of a roster import and the row of the file they came from (Excel numbering).
#[derive(Debug, Clone)]
pub struct ImportRow {
    pub row: u32,
    pub person: NewPerson,
}

/// What an import stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImportSummary {
    pub count: usize,
    pub first_id: Option<i64>,
    pub last_id: Option<i64>,
}

/// Rows per multi-row INSERT of an import (16 bound values a row, plus 4 shared). SQLite finds
/// each `$N` by a linear scan of the statement's parameter names (sqlx asks for every name), so
/// a statement's binding costs grow with the square of its parameters: small statements are
/// fastest there (measured: 32 rows ≈ 5 s for 100,000 people, 1000 rows ≈ 33 s). PostgreSQL pays
/// a round trip a statement instead. Both stay far under the engines' parameter limits.
const IMPORT_CHUNK_SQLITE: usize = 32;
const IMPORT_CHUNK_POSTGRES: usize = 200;
/// Blind indexes per duplicate lookup (`IN (…)`).
const LOOKUP_CHUNK: usize = 500;

#[derive(Debug, Clone)]
pub struct NewEvent {
    pub kind: EventKind,
    pub date: Date,
    pub reason: Option<String>,
    /// The status after, where the kind does not fix it (register, transfer in).
    pub target_status: Option<MemberStatus>,
    /// The org after, for transfer in and moves within the tree.
    pub org_id: Option<i64>,
    /// The length of an extension of probation (6–12 months).
    pub months: Option<u32>,
    /// A transfer in: the letter's 党费交至 month (`yyyymm`); the branch bills from the month after.
    pub dues_paid_through: Option<i64>,
}

#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct EventRow {
    pub id: i64,
    pub person_id: i64,
    #[sqlx(try_from = "String")]
    pub kind: EventKind,
    pub event_date: Date,
    #[sqlx(try_from = "crate::error::NullableText")]
    pub status_before: Option<MemberStatus>,
    #[sqlx(try_from = "String")]
    pub status_after: MemberStatus,
    pub org_before: Option<i64>,
    pub org_after: i64,
    pub reason: Option<String>,
    pub recorded_by: Option<i64>,
    #[serde(with = "time::serde::rfc3339")]
    pub recorded_at: OffsetDateTime,
    /// An extension's length in months.
    pub months: Option<i64>,
}

fn counts_of(status: MemberStatus) -> (i64, i64) {
    (
        i64::from(status.is_member()),
        i64::from(status == MemberStatus::Formal),
    )
}

fn check_dates(birth: Date, joined: Option<Date>, regularized: Option<Date>, today: Date) -> StoreResult<()> {
    Ok(member::check_record_dates(birth, joined, regularized, today)?)
}

/// People are recorded only in orgs that hold members (branches, groups), else 422.
fn holds_members(org: &OrgRow) -> StoreResult<()> {
    if !org.kind().holds_members() {
        return Err(RuleViolation::field("org_holds_no_members", "org_id")
            .arg("kind", org.kind().label_zh())
            .into());
    }
    Ok(())
}

fn is_duplicate(e: &StoreError) -> bool {
    matches!(e, StoreError::Conflict(v) if v.code == "id_number_duplicate")
}

/// Person ids an audit row of full reads lists; a larger export records their count and digest.
pub const FULL_READ_IDS_MAX: usize = 2000;

impl Members<'_> {
    fn view(&self, scope: &Scope, r: PersonRow) -> StoreResult<PersonView> {
        let full = scope.full_identity(r.id, &r.org_path);
        let id_number = if full {
            self.keys.decrypt(&r.id_number_enc)?
        } else {
            r.id_number_masked.clone()
        };
        let phone = match (&r.phone_enc, full) {
            (Some(enc), true) => Some(self.keys.decrypt(enc)?),
            _ => r.phone_masked.clone(),
        };
        Ok(PersonView {
            id: r.id,
            org_id: r.org_id,
            org_name: r.org_name,
            name: r.name,
            gender: r.gender,
            ethnicity: r.ethnicity,
            birth_date: full.then_some(r.birth_date),
            birth_year: r.birth_date.year(),
            id_number,
            phone,
            education: r.education,
            category: r.category,
            status: r.status,
            joined_on: r.joined_on,
            regularized_on: r.regularized_on,
            // the end of the probation, its extension included (党章 第七条)
            probation_ends_on: match (r.status, r.joined_on) {
                (MemberStatus::Probationary, Some(joined)) => Some(member::probation_end(
                    org_rules_on(joined),
                    joined,
                    u32::try_from(r.extension_months).unwrap_or(0),
                )),
                _ => None,
            },
            work_unit: r.work_unit,
            card_uid: r.card_uid,
            version: r.version,
            full_identity: full,
        })
    }

    async fn person_row_tx(&self, tx: &mut Tx, id: i64) -> StoreResult<PersonRow> {
        let sql = format!("SELECT {PERSON_COLS} FROM person p JOIN org o ON o.id = p.org_id WHERE p.id = $1");
        let row: Option<PersonRow> =
            with_tx!(tx, c => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(c).await)?;
        row.ok_or(StoreError::NotFound)
    }

    pub async fn person_row(&self, scope: &Scope, id: i64) -> StoreResult<PersonRow> {
        let sql = format!("SELECT {PERSON_COLS} FROM person p JOIN org o ON o.id = p.org_id WHERE p.id = $1");
        let row: Option<PersonRow> = with_db!(&self.db, p => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(p).await)?;
        match row {
            Some(r) if scope.sees_person(r.id, &r.org_path) => Ok(r),
            _ => Err(StoreError::NotFound),
        }
    }

    pub async fn person(&self, scope: &Scope, id: i64) -> StoreResult<PersonView> {
        let row = self.person_row(scope, id).await?;
        self.view(scope, row)
    }

    /// The WHERE condition of a member search (scope and filters) and the values to bind in order.
    async fn person_where(&self, scope: &Scope, f: &PersonFilter) -> StoreResult<(String, Vec<String>)> {
        let mut conds: Vec<String> = Vec::new();
        let mut binds: Vec<String> = Vec::new();
        let (scope_sql, scope_binds) = scope.sql_filter("p.org_path", Some("p.id"), 0);
        conds.push(scope_sql);
        binds.extend(scope_binds);
        if let Some(org_id) = f.org_id {
            let org = self.org_unchecked(org_id).await?;
            // an org outside the scope shows nothing, like an unknown one
            if !scope.contains_path(&org.path) && !scope.sees_person(-1, &org.path) {
                return Err(StoreError::NotFound);
            }
            if f.subtree {
                let n = binds.len();
                conds.push(format!("(p.org_path >= ${} AND p.org_path < ${})", n + 1, n + 2));
                binds.push(org.path.clone());
                binds.push(crate::paths::upper_bound(&org.path));
            } else {
                conds.push(format!("p.org_id = {}", org.id));
            }
        }
        if !f.statuses.is_empty() {
            let list: Vec<String> = f.statuses.iter().map(|s| format!("'{}'", s.as_str())).collect();
            conds.push(format!("p.status IN ({})", list.join(",")));
        }
        if let Some(c) = f.category {
            conds.push(format!("p.category = '{}'", c.as_str()));
        }
        if let Some(q) = f.q.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
            if let Ok(id) = IdNumber::parse(q) {
                binds.push(self.keys.blind_index(ID_INDEX, id.as_str()));
                conds.push(format!("p.id_number_index = ${}", binds.len()));
            } else {
                let escaped = q.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
                binds.push(format!("%{escaped}%"));
                let n = binds.len();
                binds.push(format!("{}%", escaped.to_ascii_lowercase()));
                conds.push(format!(
                    "(p.name LIKE ${n} ESCAPE '\\' OR p.name_initials LIKE ${} ESCAPE '\\')",
                    n + 1
                ));
            }
        }
        // every literal above is an enum's fixed value or an integer; user text is bound
        Ok((conds.join(" AND "), binds))
    }

    pub async fn people(&self, scope: &Scope, f: &PersonFilter) -> StoreResult<(Vec<PersonView>, i64)> {
        let (where_sql, binds) = self.person_where(scope, f).await?;
        let n = binds.len();
        let sql = format!(
            "SELECT {PERSON_COLS} FROM person p JOIN org o ON o.id = p.org_id WHERE {where_sql} \
             ORDER BY p.org_path, p.id LIMIT ${} OFFSET ${}",
            n + 1,
            n + 2
        );
        let count_sql = format!("SELECT COUNT(*) FROM person p WHERE {where_sql}");
        let (rows, total): (Vec<PersonRow>, i64) = with_db!(&self.db, p => {
            let mut q = sqlx::query_as::<_, PersonRow>(sqlx::AssertSqlSafe(sql));
            let mut cq = sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(count_sql));
            for b in &binds { q = q.bind(b); cq = cq.bind(b); }
            let rows = q.bind(f.limit).bind(f.offset).fetch_all(p).await?;
            let total = cq.fetch_one(p).await?;
            Ok::<_, sqlx::Error>((rows, total))
        })?;
        let items = rows
            .into_iter()
            .map(|r| self.view(scope, r))
            .collect::<StoreResult<Vec<_>>>()?;
        Ok((items, total))
    }

    /// One page of a member search in id order (the order people were recorded), after the
    /// person `after` (keyset pagination: every page costs about the same however deep, so an
    /// export of any size reads the roster once). `f.limit` and `f.offset` are not read; the next
    /// page starts after the last item's id.
    pub async fn people_page(
        &self,
        scope: &Scope,
        f: &PersonFilter,
        after: Option<i64>,
        limit: i64,
    ) -> StoreResult<Vec<PersonView>> {
        let (mut where_sql, binds) = self.person_where(scope, f).await?;
        if let Some(id) = after {
            // an integer from our own database
            where_sql.push_str(&format!(" AND p.id > {id}"));
        }
        let sql = format!(
            "SELECT {PERSON_COLS} FROM person p JOIN org o ON o.id = p.org_id WHERE {where_sql} \
             ORDER BY p.id LIMIT ${}",
            binds.len() + 1
        );
        let rows: Vec<PersonRow> = with_db!(&self.db, p => {
            let mut q = sqlx::query_as::<_, PersonRow>(sqlx::AssertSqlSafe(sql));
            for b in &binds { q = q.bind(b); }
            q.bind(limit.max(1)).fetch_all(p).await
        })?;
        rows.into_iter().map(|r| self.view(scope, r)).collect()
    }

    pub(crate) async fn org_unchecked(&self, id: i64) -> StoreResult<crate::org::OrgRow> {
        self.orgs().org(&Scope::system(), id).await
    }

    pub async fn create_person(
        &self,
        scope: &Scope,
        actor: &Actor,
        new: NewPerson,
    ) -> StoreResult<PersonView> {
        let now = self.now();
        let today = self.today();
        check_dates(new.birth_date, new.joined_on, new.regularized_on, today)?;
        member::check_id_birth(new.id_number.birth_date(), new.birth_date, "birth_date")?;
        let mut tx = self.begin().await?;
        let org = org_in_scope(&mut tx, scope, new.org_id).await?;
        holds_members(&org)?;
        let id = match self.insert_person(&mut tx, &org, actor, &new, now, today).await {
            Err(e) if is_duplicate(&e) => {
                drop(tx);
                self.audit_id_probe(actor, &org.path, &[new.id_number.masked()], "create")
                    .await?;
                return Err(e);
            }
            other => other?,
        };
        let row = self.person_row_tx(&mut tx, id).await?;
        tx.into_audit(actor, now)
            .on("create", "person", id, &row.org_path)
            .after(row.audit_json())
            .commit()
            .await?;
        self.view(scope, row)
    }

    /// Creates many people in one transaction with one audit row for the batch (demo data,
    /// roster imports): all or nothing.
    pub async fn create_people(
        &self,
        scope: &Scope,
        actor: &Actor,
        people: &[NewPerson],
    ) -> StoreResult<Vec<i64>> {
        let now = self.now();
        let today = self.today();
        let mut tx = self.begin().await?;
        let mut orgs: std::collections::HashMap<i64, crate::org::OrgRow> = std::collections::HashMap::new();
        let mut ids = Vec::with_capacity(people.len());
        for new in people {
            check_dates(new.birth_date, new.joined_on, new.regularized_on, today)?;
            let org = match orgs.get(&new.org_id) {
                Some(org) => org.clone(),
                None => {
                    let org = org_in_scope(&mut tx, scope, new.org_id).await?;
                    holds_members(&org)?;
                    orgs.insert(new.org_id, org.clone());
                    org
                }
            };
            ids.push(self.insert_person(&mut tx, &org, actor, new, now, today).await?);
        }
        let top = orgs.values().map(|o| o.path.clone()).min();
        tx.into_audit(actor, now)
            .act("bulk_create", "person")
            .org(top)
            .after(json!({"count": ids.len(), "first_id": ids.first(), "last_id": ids.last()}))
            .commit()
            .await?;
        Ok(ids)
    }

    /// Inserts one person with their register event and counts, inside a transaction (no audit
    /// row: the caller writes one, or one for a whole batch).
    pub(crate) async fn insert_person(
        &self,
        tx: &mut Tx,
        org: &crate::org::OrgRow,
        actor: &Actor,
        new: &NewPerson,
        now: OffsetDateTime,
        today: Date,
    ) -> StoreResult<i64> {
        let index = self.keys.blind_index(ID_INDEX, new.id_number.as_str());
        let exists: Option<i64> = with_tx!(tx, c => sqlx::query_scalar(
            "SELECT id FROM person WHERE id_number_index = $1").bind(&index).fetch_optional(c).await)?;
        if exists.is_some() {
            return Err(StoreError::Conflict(RuleViolation::field(
                "id_number_duplicate",
                "id_number",
            )));
        }
        let phone = new.phone.as_deref().map(str::trim).filter(|p| !p.is_empty());
        let id: i64 = with_tx!(tx, c => sqlx::query_scalar(
            "INSERT INTO person (org_id, root_id, org_path, name, name_initials, gender, ethnicity, birth_date, \
             id_number_enc, id_number_index, id_number_masked, phone_enc, phone_masked, education, category, status, \
             joined_on, regularized_on, work_unit, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $20) RETURNING id")
            .bind(org.id).bind(org.root_id.unwrap_or(org.id)).bind(&org.path).bind(new.name.trim())
            .bind(dangjian_rules::pinyin::initials(new.name.trim()))
            .bind(new.gender.as_str()).bind(&new.ethnicity).bind(new.birth_date)
            .bind(self.keys.encrypt(new.id_number.as_str())).bind(&index).bind(new.id_number.masked())
            .bind(phone.map(|p| self.keys.encrypt(p))).bind(phone.map(dangjian_rules::mask_phone))
            .bind(&new.education).bind(new.category.as_str()).bind(new.status.as_str())
            .bind(new.joined_on).bind(new.regularized_on).bind(&new.work_unit).bind(now)
            .fetch_one(c).await)?;
        let mut events: Vec<(EventKind, Date, Option<MemberStatus>, MemberStatus)> = Vec::new();
        if new.history.is_empty() {
            events.push((
                EventKind::Register,
                new.recorded_on.unwrap_or(today),
                None,
                new.status,
            ));
        } else {
            let mut current = None;
            for (kind, date) in &new.history {
                let target = (*kind == EventKind::Register).then_some(new.status);
                let next = dangjian_rules::next_status(current, *kind, target)?;
                events.push((*kind, *date, current, next));
                current = Some(next);
            }
            if current != Some(new.status) {
                return Err(RuleViolation::field("status_history_mismatch", "status").into());
            }
        }
        for (kind, date, before, after) in events {
            with_tx!(tx, c => sqlx::query(
                "INSERT INTO person_event (person_id, org_id, kind, event_date, status_before, status_after, org_before, \
                 org_after, reason, recorded_by, recorded_at) VALUES ($1, $2, $3, $4, $5, $6, NULL, $2, NULL, $7, $8)")
                .bind(id).bind(org.id).bind(kind.as_str()).bind(date).bind(before.map(MemberStatus::as_str))
                .bind(after.as_str()).bind(actor.user_id).bind(now).execute(c).await.map(|r| r.rows_affected()))?;
        }
        let (m, f) = counts_of(new.status);
        adjust_counts(tx, &org.path, m, f).await?;
        Ok(id)
    }

    pub async fn update_person(
        &self,
        scope: &Scope,
        actor: &Actor,
        id: i64,
        patch: PersonPatch,
    ) -> StoreResult<PersonView> {
        let (mut tx, now) = self.begin_now().await?;
        let before = self.person_row_tx(&mut tx, id).await?;
        if !scope.contains_path(&before.org_path) {
            return Err(StoreError::NotFound);
        }
        let birth = patch.birth_date.unwrap_or(before.birth_date);
        check_dates(
            birth,
            patch.joined_on.or(before.joined_on),
            patch.regularized_on.or(before.regularized_on),
            self.today(),
        )?;
        let (id_enc, id_index, id_masked) = match &patch.id_number {
            Some(idn) => {
                member::check_id_birth(idn.birth_date(), birth, "id_number")?;
                let index = self.keys.blind_index(ID_INDEX, idn.as_str());
                let other: Option<i64> = with_tx!(&mut tx, c => sqlx::query_scalar(
                    "SELECT id FROM person WHERE id_number_index = $1 AND id <> $2").bind(&index).bind(id).fetch_optional(c).await)?;
                if other.is_some() {
                    drop(tx);
                    self.audit_id_probe(actor, &before.org_path, &[idn.masked()], "update")
                        .await?;
                    return Err(StoreError::Conflict(RuleViolation::field(
                        "id_number_duplicate",
                        "id_number",
                    )));
                }
                (
                    Some(self.keys.encrypt(idn.as_str())),
                    Some(index),
                    Some(idn.masked()),
                )
            }
            None => {
                if patch.birth_date.is_some() {
                    let current = IdNumber::parse(&self.keys.decrypt(&before.id_number_enc)?)?;
                    member::check_id_birth(current.birth_date(), birth, "birth_date")?;
                }
                (None, None, None)
            }
        };
        let phone = patch.phone.as_deref().map(str::trim);
        let (phone_enc, phone_masked) = match phone {
            Some("") => (Some(String::new()), Some(String::new())),
            Some(p) => (Some(self.keys.encrypt(p)), Some(dangjian_rules::mask_phone(p))),
            None => (None, None),
        };
        let name = patch.name.as_deref().map(str::trim);
        with_tx!(&mut tx, c => sqlx::query(
            "UPDATE person SET name = COALESCE($1, name), name_initials = COALESCE($2, name_initials), \
             gender = COALESCE($3, gender), ethnicity = COALESCE($4, ethnicity), birth_date = COALESCE($5, birth_date), \
             id_number_enc = COALESCE($6, id_number_enc), id_number_index = COALESCE($7, id_number_index), \
             id_number_masked = COALESCE($8, id_number_masked), phone_enc = NULLIF(COALESCE($9, phone_enc), ''), \
             phone_masked = NULLIF(COALESCE($10, phone_masked), ''), education = COALESCE($11, education), \
             category = COALESCE($12, category), joined_on = COALESCE($13, joined_on), \
             regularized_on = COALESCE($14, regularized_on), work_unit = COALESCE($15, work_unit), \
             card_uid = COALESCE($16, card_uid), version = version + 1, updated_at = $17 WHERE id = $18")
            .bind(name).bind(name.map(dangjian_rules::pinyin::initials)).bind(patch.gender.map(Gender::as_str))
            .bind(&patch.ethnicity).bind(patch.birth_date).bind(id_enc).bind(id_index).bind(id_masked)
            .bind(phone_enc).bind(phone_masked).bind(&patch.education).bind(patch.category.map(PersonCategory::as_str))
            .bind(patch.joined_on).bind(patch.regularized_on).bind(&patch.work_unit).bind(&patch.card_uid)
            .bind(now).bind(id).execute(c).await.map(|r| r.rows_affected()))?;
        let after = self.person_row_tx(&mut tx, id).await?;
        tx.into_audit(actor, now)
            .on("update", "person", id, &after.org_path)
            .before(before.audit_json())
            .after(after.audit_json())
            .commit()
            .await?;
        self.view(scope, after)
    }

    pub async fn person_events(&self, scope: &Scope, id: i64) -> StoreResult<Vec<EventRow>> {
        let person = self.person_row(scope, id).await?;
        Ok(with_db!(&self.db, p => sqlx::query_as(
            "SELECT id, person_id, kind, event_date, status_before, status_after, org_before, org_after, reason, \
             recorded_by, recorded_at, months FROM person_event WHERE person_id = $1 ORDER BY event_date, id")
            .bind(person.id).fetch_all(p).await)?)
    }

    /// Records a typed status event: the rules decide the status after; person row, subtree
    /// counts, event and audit change together.
    pub async fn record_event(
        &self,
        scope: &Scope,
        actor: &Actor,
        id: i64,
        ev: NewEvent,
    ) -> StoreResult<EventRow> {
        let now = self.now();
        member::check_event_date(ev.date, self.today())?;
        let mut tx = self.begin().await?;
        let before = self.person_row_tx(&mut tx, id).await?;
        if !scope.contains_path(&before.org_path) {
            return Err(StoreError::NotFound);
        }
        let status_before = before.status();
        // a record's first event (register, a transfer in as a new record) has no status before:
        // it tells the rules nothing
        let history: Vec<(String, Date, Option<String>, Option<i64>)> = with_tx!(&mut tx, c => sqlx::query_as(
            "SELECT kind, event_date, status_before, months FROM person_event WHERE person_id = $1 \
             ORDER BY event_date, id").bind(id).fetch_all(c).await)?;
        let history: Vec<events::PastEvent> = history
            .into_iter()
            .filter_map(|(kind, date, status_before, months)| {
                Some(events::PastEvent {
                    kind: EventKind::parse(&kind)?,
                    date,
                    status_before: MemberStatus::parse(&status_before?)?,
                    months: months.and_then(|m| u32::try_from(m).ok()),
                })
            })
            .collect();
        let facts = events::EventFacts::from_history(
            Some(status_before),
            Some(before.birth_date),
            before.joined_on,
            &history,
        );
        let request = events::EventRequest {
            kind: ev.kind,
            date: ev.date,
            target: ev.target_status,
            months: ev.months,
            reason: ev.reason.as_deref(),
        };
        let outcome = events::decide_event(org_rules_on(ev.date), &facts, &request, self.today())?;
        let status_after = outcome.status;
        let dues_from = match ev.kind {
            EventKind::TransferIn => {
                let month = ledger::ym(i64::from(ev.date.year()), i64::from(u8::from(ev.date.month())));
                let from = ledger::billed_from_after_transfer(month, ev.dues_paid_through)?;
                let (y, m) = ledger::split_ym(from);
                Some(crate::dues::month_start(y, m)?)
            }
            _ if ev.dues_paid_through.is_some() => {
                return Err(RuleViolation::field(
                    "dues_paid_through_only_on_transfer_in",
                    "dues_paid_through",
                )
                .into());
            }
            _ => None,
        };
        let target_org = match (ev.kind, ev.org_id) {
            (EventKind::TransferIn | EventKind::MoveWithin, Some(org_id)) => {
                let org = org_in_tx(&mut tx, org_id).await?;
                if !scope.contains_path(&org.path) {
                    return Err(RuleViolation::field("org_not_found", "org_id").into());
                }
                holds_members(&org)?;
                org
            }
            (EventKind::MoveWithin, None) => {
                return Err(RuleViolation::field("org_required", "org_id").into());
            }
            _ => org_in_tx(&mut tx, before.org_id).await?,
        };
        let (regularized_on, joined_on) = (outcome.regularized_on, outcome.joined_on);
        with_tx!(&mut tx, c => sqlx::query(
            "UPDATE person SET status = $1, org_id = $2, org_path = $3, root_id = $4, \
             regularized_on = COALESCE($5, regularized_on), joined_on = COALESCE($6, joined_on), \
             version = version + 1, updated_at = $7 WHERE id = $8")
            .bind(status_after.as_str()).bind(target_org.id).bind(&target_org.path)
            .bind(target_org.root_id.unwrap_or(target_org.id)).bind(regularized_on).bind(joined_on).bind(now).bind(id)
            .execute(c).await.map(|r| r.rows_affected()))?;
        if let Some(from) = dues_from {
            with_tx!(&mut tx, c => sqlx::query("UPDATE person SET dues_from = $1 WHERE id = $2")
                .bind(from).bind(id).execute(c).await.map(|r| r.rows_affected()))?;
        }
        let (m0, f0) = counts_of(status_before);
        let (m1, f1) = counts_of(status_after);
        adjust_counts(&mut tx, &before.org_path, -m0, -f0).await?;
        adjust_counts(&mut tx, &target_org.path, m1, f1).await?;
        if target_org.path != before.org_path {
            crate::paths::move_person(&mut tx, id, &target_org.path).await?;
        }
        // a member who dies, leaves, is transferred out or suspended owes no bills after that month
        let bills_ended = if status_before.is_member() && status_after.is_former() {
            crate::dues::end_bills_after(&mut tx, id, ev.date).await?
        } else {
            0
        };
        let event_id: i64 = with_tx!(&mut tx, c => sqlx::query_scalar(
            "INSERT INTO person_event (person_id, org_id, kind, event_date, status_before, status_after, org_before, \
             org_after, reason, recorded_by, recorded_at, months) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) \
             RETURNING id")
            .bind(id).bind(target_org.id).bind(ev.kind.as_str()).bind(ev.date).bind(status_before.as_str())
            .bind(status_after.as_str()).bind(before.org_id).bind(target_org.id).bind(&ev.reason)
            .bind(actor.user_id).bind(now).bind(outcome.months.map(i64::from)).fetch_one(c).await)?;
        let after = self.person_row_tx(&mut tx, id).await?;
        let row: EventRow = with_tx!(&mut tx, c => sqlx::query_as(
            "SELECT id, person_id, kind, event_date, status_before, status_after, org_before, org_after, reason, \
             recorded_by, recorded_at, months FROM person_event WHERE id = $1").bind(event_id).fetch_one(c).await)?;
        let mut after_json = after.audit_json();
        if bills_ended > 0 {
            after_json["dues_bills_ended"] = json!(bills_ended);
        }
        if let Some(from) = dues_from {
            after_json["dues_from"] = json!(from.to_string());
        }
        if let Some(end) = outcome.probation_ends_on {
            after_json["probation_ends_on"] = json!(end.to_string());
        }
        tx.into_audit(actor, now)
            .on(ev.kind.as_str(), "person", id, &after.org_path)
            .before(before.audit_json())
            .after(after_json)
            .commit()
            .await?;
        Ok(row)
    }

    /// Person ids of a subtree's members (formal and probationary), with whether they have a login.
    pub async fn members_for_accounts(
        &self,
        scope: &Scope,
        org_id: i64,
    ) -> StoreResult<Vec<(i64, String, Option<String>, bool)>> {
        let org = self.orgs().org(scope, org_id).await?;
        let upper = crate::paths::upper_bound(&org.path);
        let rows: Vec<(i64, String, Option<String>, Option<i64>)> = with_db!(&self.db, p => sqlx::query_as(
            "SELECT p.id, p.name, p.phone_enc, u.id FROM person p LEFT JOIN app_user u ON u.person_id = p.id \
             WHERE p.org_path >= $1 AND p.org_path < $2 AND p.status IN ('formal','probationary') ORDER BY p.org_path, p.id")
            .bind(&org.path).bind(&upper).fetch_all(p).await)?;
        rows.into_iter()
            .map(|(id, name, phone, user)| {
                let phone = phone.map(|e| self.keys.decrypt(&e)).transpose()?;
                Ok((id, name, phone, user.is_some()))
            })
            .collect()
    }
}

// ---------------------------------------------------------------------------------------------
// Roster imports: one transaction, one audit row, set-wise checks and multi-row inserts
// ---------------------------------------------------------------------------------------------

impl Members<'_> {
    /// The checks of each row that need no database (dates against each other and today, the
    /// birth date against the ID number) and the same ID number twice in the file (both rows
    /// named); also the blind index of each row, in order.
    fn import_row_checks(
        &self,
        rows: &[ImportRow],
        today: Date,
    ) -> (Vec<crate::error::RowError>, Vec<String>) {
        use crate::error::RowError;
        let mut errors = Vec::new();
        let mut indexes = Vec::with_capacity(rows.len());
        let mut seen: std::collections::HashMap<String, Vec<u32>> = std::collections::HashMap::new();
        for r in rows {
            let p = &r.person;
            if let Err(StoreError::Rule(v)) = check_dates(p.birth_date, p.joined_on, p.regularized_on, today)
            {
                errors.push(RowError {
                    row: r.row,
                    violation: v,
                });
            }
            if let Err(v) = member::check_id_birth(p.id_number.birth_date(), p.birth_date, "birth_date") {
                errors.push(RowError {
                    row: r.row,
                    violation: v,
                });
            }
            let index = self.keys.blind_index(ID_INDEX, p.id_number.as_str());
            seen.entry(index.clone()).or_default().push(r.row);
            indexes.push(index);
        }
        for rows_of_one in seen.values().filter(|v| v.len() > 1) {
            for &row in rows_of_one {
                let others: Vec<String> = rows_of_one
                    .iter()
                    .filter(|&&o| o != row)
                    .map(u32::to_string)
                    .collect();
                errors.push(RowError {
                    row,
                    violation: RuleViolation::field("import_id_duplicate_in_file", "id_number")
                        .arg("rows", others.join("、")),
                });
            }
        }
        (errors, indexes)
    }

    /// Leaves one audit row for the full records (ID number, phone, birth date) `people` that a
    /// user was just shown, `via` the API, a page or an export (domain-rules §8: access logged,
    /// who, what, when [U]; `Settings::audit_full_reads`, on by default). Masked records and the
    /// user's own are not counted; `detail` says what was asked (a list's filter). Up to
    /// [`FULL_READ_IDS_MAX`] ids are listed, beyond that their count and SHA-256.
    pub async fn audit_full_reads(
        &self,
        scope: &Scope,
        actor: &Actor,
        via: &str,
        people: impl IntoIterator<Item = (i64, bool)>,
        detail: serde_json::Value,
    ) -> StoreResult<()> {
        if !self.settings().audit_full_reads {
            return Ok(());
        }
        let ids: Vec<i64> = people
            .into_iter()
            .filter(|(id, full)| *full && scope.own_person() != Some(*id))
            .map(|(id, _)| id)
            .collect();
        if ids.is_empty() {
            return Ok(());
        }
        let sql = format!(
            "SELECT org_path FROM person WHERE id IN ({})",
            crate::db::id_list(ids.iter().copied())
        );
        let paths: Vec<String> =
            with_db!(&self.db, p => sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).fetch_all(p).await)?;
        let org_path = crate::paths::common_ancestor(&paths);
        let mut after = json!({"via": via, "count": ids.len(), "detail": detail});
        if ids.len() <= FULL_READ_IDS_MAX {
            after["person_ids"] = json!(ids);
        } else {
            let text = ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
            after["person_ids_sha256"] = json!(hex::encode(<sha2::Sha256 as sha2::Digest>::digest(
                text.as_bytes()
            )));
        }
        let (tx, now) = self.begin_now().await?;
        let entry = match ids.as_slice() {
            [one] => tx
                .into_audit(actor, now)
                .on("read_full", "person", *one, &org_path),
            _ => tx.into_audit(actor, now).act("read_full", "person").org(org_path),
        };
        entry.after(after).commit().await?;
        Ok(())
    }

    /// [`Self::audit_full_reads`] of one record, shown by itself (the record, its page, its form).
    pub async fn audit_full_read(
        &self,
        scope: &Scope,
        actor: &Actor,
        via: &str,
        p: &PersonView,
    ) -> StoreResult<()> {
        self.audit_full_reads(
            scope,
            actor,
            via,
            [(p.id, p.full_identity)],
            serde_json::Value::Null,
        )
        .await
    }

    /// A write that hit an ID number already on record anywhere reveals that the number exists
    /// (it must be refused), never where; who tried which (masked) numbers from which subtree
    /// is kept in the audit trail, in a transaction of its own since the refused one rolled back.
    pub async fn audit_id_probe(
        &self,
        actor: &Actor,
        org_path: &str,
        masked: &[String],
        via: &str,
    ) -> StoreResult<()> {
        let (tx, now) = self.begin_now().await?;
        tx.into_audit(actor, now)
            .act("id_number_on_record", "person")
            .org(org_path.to_owned())
            .after(json!({"via": via, "count": masked.len(), "id_numbers": masked}))
            .commit()
            .await?;
        Ok(())
    }

    /// Errors for the rows whose ID number is on record already (a member of any org).
    fn duplicate_rows(
        rows: &[ImportRow],
        indexes: &[String],
        existing: &std::collections::HashSet<String>,
    ) -> Vec<crate::error::RowError> {
        rows.iter()
            .zip(indexes)
            .filter(|(_, ix)| existing.contains(*ix))
            .map(|(r, _)| crate::error::RowError {
                row: r.row,
                violation: RuleViolation::field("id_number_duplicate", "id_number"),
            })
            .collect()
    }

    fn lookup_sql(n: usize) -> String {
        format!(
            "SELECT id_number_index FROM person WHERE id_number_index IN ({})",
            crate::db::placeholders(1, n)
        )
    }

    /// Checks an import without storing anything (dry runs, and listing every bad row when the
    /// file has other errors too): the rows' rules, duplicates in the file and on record.
    /// The org outside the scope → NotFound; an org that holds no members → Rule.
    pub async fn check_import(
        &self,
        scope: &Scope,
        org_id: i64,
        rows: &[ImportRow],
    ) -> StoreResult<Vec<crate::error::RowError>> {
        let org = self.orgs().org(scope, org_id).await?;
        holds_members(&org)?;
        let (mut errors, indexes) = self.import_row_checks(rows, self.today());
        let mut existing = std::collections::HashSet::new();
        for chunk in indexes.chunks(LOOKUP_CHUNK) {
            let sql = Self::lookup_sql(chunk.len());
            let found: Vec<String> = with_db!(&self.db, p => {
                let mut q = sqlx::query_scalar::<_, String>(sqlx::AssertSqlSafe(sql));
                for ix in chunk { q = q.bind(ix); }
                q.fetch_all(p).await
            })?;
            existing.extend(found);
        }
        errors.extend(Self::duplicate_rows(rows, &indexes, &existing));
        errors.sort_by_key(|e| e.row);
        Ok(errors)
    }

    /// Stores a roster import into `org_id` (each row's own `org_id` is not read): all rows or
    /// none, in one transaction with one audit row for the batch (count, id range, a digest of
    /// the rows' blind indexes and the source file's). Every bad row → `StoreError::Rows`.
    /// Duplicates are looked up set-wise, people and their register events are inserted many
    /// rows a statement, and the subtree counts move once.
    pub async fn import_people(
        &self,
        scope: &Scope,
        actor: &Actor,
        org_id: i64,
        rows: &[ImportRow],
        source_sha256: Option<&str>,
    ) -> StoreResult<ImportSummary> {
        use sha2::{Digest, Sha256};
        let now = self.now();
        let today = self.today();
        let (mut errors, indexes) = self.import_row_checks(rows, today);
        if !errors.is_empty() {
            errors.sort_by_key(|e| e.row);
            return Err(StoreError::Rows(errors));
        }
        let mut tx = self.begin().await?;
        let org = org_in_scope(&mut tx, scope, org_id).await?;
        holds_members(&org)?;
        let mut existing = std::collections::HashSet::new();
        for chunk in indexes.chunks(LOOKUP_CHUNK) {
            let sql = Self::lookup_sql(chunk.len());
            let found: Vec<String> = with_tx!(&mut tx, c => {
                let mut q = sqlx::query_scalar::<_, String>(sqlx::AssertSqlSafe(sql));
                for ix in chunk { q = q.bind(ix); }
                q.fetch_all(c).await
            })?;
            existing.extend(found);
        }
        let dups = Self::duplicate_rows(rows, &indexes, &existing);
        if !dups.is_empty() {
            drop(tx);
            let masked: Vec<String> = dups
                .iter()
                .filter_map(|d| rows.iter().find(|r| r.row == d.row))
                .map(|r| r.person.id_number.masked())
                .collect();
            self.audit_id_probe(actor, &org.path, &masked, "import").await?;
            return Err(StoreError::Rows(dups));
        }
        let root_id = org.root_id.unwrap_or(org.id);
        let mut first_id: Option<i64> = None;
        let mut last_id: Option<i64> = None;
        let (mut members, mut formal) = (0i64, 0i64);
        let mut digest = Sha256::new();
        let size = match self.db.engine() {
            crate::db::Engine::Sqlite => IMPORT_CHUNK_SQLITE,
            crate::db::Engine::Postgres => IMPORT_CHUNK_POSTGRES,
        };
        for (chunk, chunk_ix) in rows.chunks(size).zip(indexes.chunks(size)) {
            // $1 org_id, $2 root_id, $3 org_path, $4 now; then 16 values a row
            let mut values = Vec::with_capacity(chunk.len());
            for i in 0..chunk.len() {
                let row = crate::db::placeholders(5 + 16 * i, 16);
                values.push(format!("($1, $2, $3, {row}, $4, $4)"));
            }
            let sql = format!(
                "INSERT INTO person (org_id, root_id, org_path, name, name_initials, gender, ethnicity, birth_date, \
                 id_number_enc, id_number_index, id_number_masked, phone_enc, phone_masked, education, category, \
                 status, joined_on, regularized_on, work_unit, created_at, updated_at) VALUES {} RETURNING id, status",
                values.join(", ")
            );
            let ids: Vec<(i64, String)> = with_tx!(&mut tx, c => {
                let mut q = sqlx::query_as::<_, (i64, String)>(sqlx::AssertSqlSafe(sql))
                    .bind(org.id).bind(root_id).bind(&org.path).bind(now);
                for (r, index) in chunk.iter().zip(chunk_ix) {
                    let p = &r.person;
                    let name = p.name.trim();
                    let phone = p.phone.as_deref().map(str::trim).filter(|x| !x.is_empty());
                    q = q.bind(name.to_owned())
                        .bind(dangjian_rules::pinyin::initials(name))
                        .bind(p.gender.as_str())
                        .bind(p.ethnicity.clone())
                        .bind(p.birth_date)
                        .bind(self.keys.encrypt(p.id_number.as_str()))
                        .bind(index.clone())
                        .bind(p.id_number.masked())
                        .bind(phone.map(|x| self.keys.encrypt(x)))
                        .bind(phone.map(dangjian_rules::mask_phone))
                        .bind(p.education.clone())
                        .bind(p.category.as_str())
                        .bind(p.status.as_str())
                        .bind(p.joined_on)
                        .bind(p.regularized_on)
                        .bind(p.work_unit.clone());
                }
                q.fetch_all(c).await
            })
            .map_err(|e| match e {
                // another import committed one of these ID numbers since the check above
                sqlx::Error::Database(d) if d.is_unique_violation() => {
                    StoreError::Conflict(RuleViolation::field("id_number_duplicate", "id_number"))
                }
                e => e.into(),
            })?;
            for r in chunk {
                let (m, f) = counts_of(r.person.status);
                members += m;
                formal += f;
            }
            for index in chunk_ix {
                digest.update(index.as_bytes());
            }
            let min = ids.iter().map(|(id, _)| *id).min();
            let max = ids.iter().map(|(id, _)| *id).max();
            first_id = first_id.or(min);
            last_id = max.or(last_id);
            // the register events: $1 org, $2 date, $3 recorded_by, $4 recorded_at; then id, status a row
            let values: Vec<String> = (0..ids.len())
                .map(|i| {
                    format!(
                        "(${}, $1, 'register', $2, NULL, ${}, NULL, $1, NULL, $3, $4)",
                        5 + 2 * i,
                        6 + 2 * i
                    )
                })
                .collect();
            let sql = format!(
                "INSERT INTO person_event (person_id, org_id, kind, event_date, status_before, status_after, \
                 org_before, org_after, reason, recorded_by, recorded_at) VALUES {}",
                values.join(", ")
            );
            with_tx!(&mut tx, c => {
                let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(org.id).bind(today).bind(actor.user_id).bind(now);
                for (id, status) in &ids { q = q.bind(*id).bind(status.as_str()); }
                q.execute(c).await.map(|r| r.rows_affected())
            })?;
        }
        adjust_counts(&mut tx, &org.path, members, formal).await?;
        tx.into_audit(actor, now)
            .act("import", "person")
            .org(org.path.clone())
            .after(json!({
                "count": rows.len(), "org_id": org.id, "first_id": first_id, "last_id": last_id,
                "digest": hex::encode(digest.finalize()), "source_sha256": source_sha256,
            }))
            .commit()
            .await?;
        if rows.len() >= 1000
            && let crate::db::Db::Postgres(p) = &self.db
        {
            // fresh statistics, so the planner walks the new rows by index at once (exports page
            // by id) instead of waiting for autovacuum; a failure here loses nothing
            if let Err(e) = sqlx::query("ANALYZE person").execute(p).await {
                tracing::warn!(error = %e, "ANALYZE after an import failed");
            }
        }
        Ok(ImportSummary {
            count: rows.len(),
            first_id,
            last_id,
        })
    }
}
