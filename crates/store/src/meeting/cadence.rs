//! 三会一课 cadence of an organization and its subtree on a date (rules: `dangjian_rules::cadence`).
//!
//! One range scan loads the subtree's orgs, one the meetings from the start of the previous
//! year; each org is judged by the pure rules. A meeting counts when it happened: closed, or
//! with at least one check-in, and not cancelled; meetings still ahead are reported as scheduled.

use std::collections::HashMap;

use dangjian_rules::cadence::{self, CadenceRuleSet, Held, Judged, OrgFacts, Tally};
use dangjian_rules::meeting::MeetingKind;
use dangjian_rules::org_rules_on;
use time::{Date, OffsetDateTime};

use crate::Meetings;
use crate::error::StoreResult;
use crate::org::OrgRow;
use crate::paths::upper_bound;
use crate::scope::Scope;

/// Organizations a subtree report covers at most (the rest is counted, not listed).
pub const CADENCE_ORG_LIMIT: usize = 3000;

/// One organization's obligations.
#[derive(Debug, Clone)]
pub struct OrgCadence {
    pub org_id: i64,
    pub name: String,
    pub kind: dangjian_rules::org::OrgKind,
    pub depth: i64,
    pub lines: Vec<Judged>,
    pub tally: Tally,
}

#[derive(Debug, Clone)]
pub struct CadenceReport {
    pub today: Date,
    pub rules: &'static CadenceRuleSet,
    /// The organization asked about.
    pub org: OrgCadence,
    /// The organizations below it, in path order: those with obligations (branches, groups) and
    /// the upper levels between them (with none).
    pub below: Vec<OrgCadence>,
    /// Sums over the organization and everything below it.
    pub total: Tally,
    /// Organizations below with obligations that did not fit in the report.
    pub truncated: bool,
}

/// (org_id, kind, starts_at, happened)
type MeetingFact = (i64, String, OffsetDateTime, bool);

impl Meetings<'_> {
    /// The local midnight starting `d`, in UTC.
    fn local_midnight(&self, d: Date) -> OffsetDateTime {
        self.local.midnight(d)
    }

    /// The cadence of the organization and each organization below it, judged on `today`
    /// (a local date). Outside the scope → 404.
    pub async fn cadence(&self, scope: &Scope, org_id: i64, today: Date) -> StoreResult<CadenceReport> {
        let top = self.orgs().org(scope, org_id).await?;
        let rules = cadence::cadence_rules_on(today);
        let org_rules = org_rules_on(today);
        let hi = upper_bound(&top.path);
        let orgs: Vec<OrgRow> = self.orgs().subtree(scope, top.id, i64::MAX, 0).await?.0;
        let from = self.local_midnight(cadence::horizon(today));
        let to = self.local_midnight(
            cadence::Period::containing(cadence::PeriodUnit::Year, today)
                .last
                .next_day()
                .unwrap_or(today),
        );
        // cancelled meetings never count; an open meeting counts once someone checked in
        let facts: Vec<MeetingFact> = with_db!(&self.db, p => sqlx::query_as(
            "SELECT m.org_id, m.kind, m.starts_at, \
             (m.status = 'closed' OR EXISTS (SELECT 1 FROM checkin_event e WHERE e.meeting_id = m.id)) \
             FROM meeting m WHERE m.org_path >= $1 AND m.org_path < $2 AND m.starts_at >= $3 AND m.starts_at < $4 \
             AND m.cancelled_at IS NULL")
            .bind(&top.path).bind(&hi).bind(from).bind(to).fetch_all(p).await)?;
        let mut by_org: HashMap<i64, Vec<Held>> = HashMap::new();
        for (org, kind, starts_at, happened) in facts {
            let Some(kind) = MeetingKind::parse(&kind) else {
                continue;
            };
            by_org.entry(org).or_default().push(Held {
                kind,
                on: starts_at.to_offset(self.local.offset).date(),
                happened,
            });
        }
        let settings = self.settings_under(&top.path).await?;
        let judge_org = |o: &OrgRow| {
            let facts = OrgFacts {
                quarterly_lecture: settings.at(&o.path).branch_lecture_quarterly,
                kind: o.kind(),
                formal_count: o.formal_count,
                committee_needs_formal: org_rules.committee_needs_formal,
                established_on: o.established_on,
            };
            let held = by_org.get(&o.id).map_or(&[][..], Vec::as_slice);
            let lines = cadence::judge(rules, &facts, today, held);
            OrgCadence {
                org_id: o.id,
                name: o.name.clone(),
                kind: o.kind,
                depth: o.depth - top.depth,
                tally: Tally::of(&lines),
                lines,
            }
        };
        let org = judge_org(&top);
        let mut total = org.tally;
        let mut below = Vec::new();
        let mut truncated = false;
        for o in orgs
            .iter()
            .filter(|o| o.id != top.id && scope.contains_path(&o.path))
        {
            let c = judge_org(o);
            // upper levels without obligations of their own stay as headings of their branches
            if c.lines.is_empty() && o.kind().holds_members() {
                continue;
            }
            total.merge(c.tally);
            if below.len() < CADENCE_ORG_LIMIT {
                below.push(c);
            } else {
                truncated = true;
            }
        }
        Ok(CadenceReport {
            today,
            rules,
            org,
            below,
            total,
            truncated,
        })
    }
}
