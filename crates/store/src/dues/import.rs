//! Bases for a year from a payroll sheet (name, ID number, base): every row checked against the
//! database first — the person found by the ID number's blind index inside the org's subtree,
//! the name on record, a member — and all bad rows reported at once; then all bases written in
//! one transaction with one audit row. A monthly amount above the usual 1000 元 is a warning to
//! confirm, never a cap (D1 第十一条).

use std::collections::HashMap;

use dangjian_rules::dues;
use dangjian_rules::member::PersonCategory;
use dangjian_rules::{IdNumber, RuleViolation, RuleWarning, dues_rules_on};
use serde_json::json;

use super::year_start;
use crate::Dues;
use crate::audit::Actor;
use crate::error::{RowError, StoreError, StoreResult};
use crate::paths::upper_bound;
use crate::person::ID_INDEX;
use crate::scope::Scope;

/// One row of the sheet as parsed: its Excel row number and values.
#[derive(Debug, Clone)]
pub struct BaseRow {
    pub row: u32,
    pub name: String,
    pub id_number: IdNumber,
    pub category: PersonCategory,
    pub base_fen: Option<i64>,
}

#[derive(sqlx::FromRow)]
struct Found {
    id: i64,
    name: String,
    org_path: String,
    #[sqlx(try_from = "String")]
    status: dangjian_rules::MemberStatus,
}

/// What an import would write (or wrote).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImportOutcome {
    pub count: usize,
    pub written: bool,
}

impl Dues<'_> {
    /// Checks the rows and, unless `dry_run`, writes the year's bases (replacing earlier ones).
    #[expect(clippy::too_many_arguments, reason = "one import: where, what, and how")]
    pub async fn import_dues_bases(
        &self,
        scope: &Scope,
        actor: &Actor,
        org_id: i64,
        year: i64,
        rows: Vec<BaseRow>,
        sha256: &str,
        dry_run: bool,
        confirmed: bool,
    ) -> StoreResult<ImportOutcome> {
        let org = self.orgs().org(scope, org_id).await?;
        let upper = upper_bound(&org.path);
        let rs = dues_rules_on(year_start(year)?)?;
        let mut errors: Vec<RowError> = Vec::new();
        let mut seen: HashMap<String, u32> = HashMap::new();
        let mut good: Vec<(i64, String, &BaseRow, i64)> = Vec::new();
        let mut warnings: Vec<RuleWarning> = Vec::new();
        // each member's amount rounds as their own subtree says; one lookup per branch
        let mut rounding_at: HashMap<String, dues::Rounding> = HashMap::new();
        for r in &rows {
            let err = |v: RuleViolation| RowError {
                row: r.row,
                violation: v,
            };
            if let Some(first) = seen.insert(r.id_number.as_str().to_owned(), r.row) {
                errors.push(err(RuleViolation::field(
                    "import_id_duplicate_in_file",
                    "id_number",
                )
                .arg("rows", first)));
                continue;
            }
            let index = self.keys.blind_index(ID_INDEX, r.id_number.as_str());
            let found: Option<Found> = with_db!(&self.db, p => sqlx::query_as(
                "SELECT id, name, org_path, status FROM person WHERE id_number_index = $1")
                .bind(&index).fetch_optional(p).await)?;
            let Some(p) = found
                .filter(|p| p.org_path >= org.path && p.org_path < upper && scope.contains_path(&p.org_path))
            else {
                errors.push(err(RuleViolation::field(
                    "dues_import_person_unknown",
                    "id_number",
                )));
                continue;
            };
            if p.name.trim() != r.name.trim() {
                errors.push(err(
                    RuleViolation::field("dues_import_name_mismatch", "name").arg("value", &r.name)
                ));
                continue;
            }
            if !p.status.is_member() {
                errors.push(err(
                    RuleViolation::field("dues_not_a_member", "id_number").arg("status", p.status)
                ));
                continue;
            }
            let rounding = match rounding_at.get(&p.org_path) {
                Some(r) => *r,
                None => {
                    let r = self.settings_at(&p.org_path).await?.dues_rounding;
                    rounding_at.insert(p.org_path.clone(), r);
                    r
                }
            };
            match dues::quote(rs, r.category, r.base_fen, rounding) {
                Ok(q) => {
                    if dues::above_normal_cap(rs, q.monthly_fen).is_some() {
                        warnings.push(
                            RuleWarning::new("dues_import_above_normal_cap")
                                .arg("row", r.row)
                                .arg("amount", dues::yuan(q.monthly_fen))
                                .arg("max", dues::yuan(rs.normal_monthly_max_fen)),
                        );
                    }
                    // the year's base is fixed once bills were issued: a file does not change it
                    let existing: Option<(String, Option<i64>, i64, i64)> = with_db!(&self.db, c => sqlx::query_as(
                        "SELECT b.category, b.base_fen, b.monthly_fen, \
                         (SELECT COUNT(*) FROM dues_bill d WHERE d.person_id = b.person_id AND d.year = b.year) \
                         FROM dues_base b WHERE b.person_id = $1 AND b.year = $2")
                        .bind(p.id).bind(year).fetch_optional(c).await)?;
                    if let Some((category, base_fen, monthly_fen, bills)) = existing {
                        let before = dues::YearBase {
                            category: crate::error::decode(&category)?,
                            base_fen,
                            monthly_fen,
                        };
                        let after = dues::YearBase {
                            category: r.category,
                            base_fen: match r.category {
                                PersonCategory::InService | PersonCategory::Retired => r.base_fen,
                                _ => None,
                            },
                            monthly_fen: q.monthly_fen,
                        };
                        if let Err(v) = dues::check_base_change(
                            Some(&before),
                            &after,
                            u64::try_from(bills).unwrap_or(0),
                            None,
                        ) {
                            errors.push(err(RuleViolation {
                                code: "dues_import_base_fixed_for_year",
                                field: Some("base_yuan"),
                                ..v
                            }));
                            continue;
                        }
                    }
                    good.push((p.id, p.org_path, r, q.monthly_fen));
                }
                Err(v) => errors.push(err(RuleViolation {
                    field: Some("base_yuan"),
                    ..v
                })),
            }
        }
        if !errors.is_empty() {
            errors.sort_by_key(|e| e.row);
            return Err(StoreError::Rows(errors));
        }
        if !warnings.is_empty() && !confirmed {
            return Err(StoreError::ConfirmationRequired(warnings));
        }
        if dry_run {
            return Ok(ImportOutcome {
                count: good.len(),
                written: false,
            });
        }
        let (mut tx, now) = self.begin_now().await?;
        for (person_id, path, r, monthly) in &good {
            let stored_base = match r.category {
                PersonCategory::InService | PersonCategory::Retired => r.base_fen,
                _ => None,
            };
            let updated = with_tx!(&mut tx, c => sqlx::query(
                "UPDATE dues_base SET org_path = $1, category = $2, base_fen = $3, monthly_fen = $4, rule_set = $5, \
                 override_reason = NULL, recorded_by = $6, recorded_at = $7 WHERE person_id = $8 AND year = $9")
                .bind(path).bind(r.category.as_str()).bind(stored_base).bind(monthly).bind(rs.version)
                .bind(actor.user_id).bind(now).bind(person_id).bind(year)
                .execute(c).await.map(|r| r.rows_affected()))?;
            if updated == 0 {
                with_tx!(&mut tx, c => sqlx::query(
                    "INSERT INTO dues_base (person_id, org_path, year, category, base_fen, monthly_fen, rule_set, \
                     recorded_by, recorded_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)")
                    .bind(person_id).bind(path).bind(year).bind(r.category.as_str()).bind(stored_base).bind(monthly)
                    .bind(rs.version).bind(actor.user_id).bind(now)
                    .execute(c).await.map(|r| r.rows_affected()))?;
            }
        }
        let confirmed_codes: Vec<&str> = warnings.iter().map(|w| w.code).collect();
        tx.into_audit(actor, now)
            .act("import", "dues_base")
            .org(org.path.clone())
            .after(
                json!({"org_id": org.id, "year": year, "count": good.len(), "sha256": sha256,
                    "confirmed_warnings": confirmed_codes}),
            )
            .commit()
            .await?;
        Ok(ImportOutcome {
            count: good.len(),
            written: true,
        })
    }
}
