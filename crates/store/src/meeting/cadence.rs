//! 三会一课 cadence of an organization and its subtree on a date (rules: `dangjian_rules::cadence`).
//!
//! One range scan loads the subtree's orgs, one the meetings from the start of the previous
//! year with whether anyone attended; each org is judged by the pure rules
//! (`cadence::standing`: started, someone present, a 支部党员大会's quorum). A closed 支部党员大会's
//! quorum is judged from its sheet once and kept on the meeting (`quorum_met`, cleared by an
//! attendance amendment), so a large subtree does not rebuild every sheet on every view.

use std::collections::HashMap;

use dangjian_rules::cadence::{self, CadenceRuleSet, Held, Judged, OrgFacts, Remark, Tally};
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
    /// Meetings of the judged periods that do not count, or count flagged, with their titles.
    pub remarks: Vec<(Remark, String)>,
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

/// (id, org_id, kind, title, starts_at, closed, attended, quorum_met)
type MeetingFact = (i64, i64, String, String, OffsetDateTime, bool, bool, Option<bool>);

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
        // cancelled meetings never count; attended = a person checked in, or an amendment marked
        // someone present (an amendment that marks everyone absent again is not looked through)
        let facts: Vec<MeetingFact> = with_db!(&self.db, p => sqlx::query_as(
            "SELECT m.id, m.org_id, m.kind, m.title, m.starts_at, m.status = 'closed', \
             (EXISTS (SELECT 1 FROM checkin_event e WHERE e.meeting_id = m.id AND e.person_id IS NOT NULL AND e.direction = 'in') \
              OR EXISTS (SELECT 1 FROM meeting_amendment a WHERE a.meeting_id = m.id AND a.target = 'attendance' \
                         AND a.after_json LIKE '%\"present\"%')), \
             m.quorum_met \
             FROM meeting m WHERE m.org_path >= $1 AND m.org_path < $2 AND m.starts_at >= $3 AND m.starts_at < $4 \
             AND m.cancelled_at IS NULL")
            .bind(&top.path).bind(&hi).bind(from).bind(to).fetch_all(p).await)?;
        let now = self.now();
        let mut by_org: HashMap<i64, Vec<Held>> = HashMap::new();
        let mut titles: HashMap<i64, String> = HashMap::new();
        for (id, org, kind, title, starts_at, closed, attended, quorum_met) in facts {
            let Some(kind) = MeetingKind::parse(&kind) else {
                continue;
            };
            let started = starts_at <= now;
            let quorum_met =
                if kind == MeetingKind::BranchCongress && started && attended && quorum_met.is_none() {
                    self.judge_quorum(scope, id, closed).await?
                } else {
                    quorum_met
                };
            titles.insert(id, title);
            by_org.entry(org).or_default().push(Held {
                meeting_id: id,
                kind,
                on: starts_at.to_offset(self.local.offset).date(),
                started,
                closed,
                attended,
                quorum_met,
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
                inquorate: settings.at(&o.path).inquorate_congress,
            };
            let held = by_org.get(&o.id).map_or(&[][..], Vec::as_slice);
            let lines = cadence::judge(rules, &facts, today, held);
            let remarks = cadence::remarks(rules, &facts, today, held)
                .into_iter()
                .map(|r| {
                    let title = titles.get(&r.meeting_id).cloned().unwrap_or_default();
                    (r, title)
                })
                .collect();
            OrgCadence {
                org_id: o.id,
                name: o.name.clone(),
                kind: o.kind,
                depth: o.depth - top.depth,
                tally: Tally::of(&lines),
                lines,
                remarks,
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

    /// Whether the 支部党员大会 had its quorum, from its sheet (`quorum_of`); kept on a closed
    /// meeting (bookkeeping of a judgement, cleared by an amendment: not audited).
    async fn judge_quorum(&self, scope: &Scope, meeting_id: i64, closed: bool) -> StoreResult<Option<bool>> {
        let sheet = self.attendance(scope, meeting_id).await?;
        let met = self
            .quorum_of(MeetingKind::BranchCongress, &sheet)
            .await?
            .map(|q| q.met);
        if closed && let Some(met) = met {
            let mut tx = self
                .begin_unaudited("a kept quorum judgement is a cache of the sheet, not a change")
                .await?;
            with_tx!(&mut tx, c => sqlx::query("UPDATE meeting SET quorum_met = $1 WHERE id = $2 AND status = 'closed'")
                .bind(met).bind(meeting_id).execute(c).await.map(|r| r.rows_affected()))?;
            tx.commit().await?;
        }
        Ok(met)
    }
}
