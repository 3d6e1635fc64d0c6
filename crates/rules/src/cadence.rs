//! 三会一课 cadence (domain-rules §3): which meeting kinds an organization must hold how often,
//! as versioned rule data, and the pure judgement of one organization's obligations on a date —
//! done, due (with the days left, a warning near the period's end) or overdue (the previous
//! period closed without its meeting: "Flag a cadence once a period closes without its meeting").
//!
//! Periods are calendar months, quarters and years of the deployment's local calendar: callers
//! pass local dates. A meeting counts for its period only once it has started and someone
//! attended it ([`standing`]); a 支部党员大会 without its quorum counts, flagged, or not at all,
//! as the subtree sets it (`cadence.inquorate_congress`). Meetings that were closed but do not
//! count are reported with the reason. This module reports completion, never rankings.

use time::macros::date;
use time::{Date, Month};

use crate::calendar::days_between;
use crate::meeting::MeetingKind;
use crate::org::OrgKind;
use crate::ruleset::{Versioned, in_force_on};
use crate::string_enum;

string_enum!(
    /// The length of a cadence period.
    PeriodUnit {
        Month = "month" / "每月",
        Quarter = "quarter" / "每季度",
        Year = "year" / "每年",
    }
);

string_enum!(
    /// Where an obligation stands on the day it is judged.
    CadenceStatus {
        Done = "done" / "已完成",
        Due = "due" / "待召开",
        DueSoon = "due_soon" / "临近期限",
        Overdue = "overdue" / "已逾期",
    }
);

string_enum!(
    /// Why a meeting held (closed, or open with check-ins) does not count, or counts flagged.
    NotCountedReason {
        NotStarted = "not_started" / "会议尚未开始",
        NoAttendance = "no_attendance" / "没有出席记录",
        Inquorate = "inquorate" / "到会正式党员未过半数",
    }
);

string_enum!(
    /// Whether a 支部党员大会 without its quorum counts for the cadence: the rules do not say
    /// (domain-rules §3); a subtree setting, default `counts_flagged`.
    InquoratePolicy {
        CountsFlagged = "counts_flagged" / "计入并标注",
        NotCounted = "not_counted" / "不计入",
    }
);

/// Where one meeting stands for the cadence.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Standing {
    Counted,
    /// Counts, with a remark (an inquorate 支部党员大会 under `counts_flagged`).
    Flagged(NotCountedReason),
    /// Still ahead, or under way with nobody checked in yet.
    Scheduled,
    NotCounted(NotCountedReason),
}

impl Standing {
    pub fn counts(self) -> bool {
        matches!(self, Standing::Counted | Standing::Flagged(_))
    }
    /// The remark shown on the cadence page, if any.
    pub fn reason(self) -> Option<NotCountedReason> {
        match self {
            Standing::Flagged(r) | Standing::NotCounted(r) => Some(r),
            Standing::Counted | Standing::Scheduled => None,
        }
    }
}

/// When an obligation applies beyond the organization's kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Condition {
    Always,
    /// Only a branch with a 支部委员会 holds 支委会: one with at least
    /// `OrgRuleSet::committee_needs_formal` 正式党员 (B1 2018; §3 "< 7 正式党员 → a secretary only").
    HasCommittee,
    /// A custom, not a regulation ([L]): held where the subtree keeps it
    /// (`OrgFacts::quarterly_lecture`, the setting `cadence.branch_lecture_quarterly`).
    QuarterlyLectureKept,
}

/// One "hold at least `min_count` meetings of `kind` every `unit`" rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Obligation {
    pub org_kind: OrgKind,
    pub kind: MeetingKind,
    pub unit: PeriodUnit,
    pub min_count: u32,
    pub condition: Condition,
    /// The regulation and domain-rules tag, shown with the obligation.
    pub rule: &'static str,
}

/// One version of the cadence rules.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CadenceRuleSet {
    pub version: &'static str,
    pub source: &'static str,
    pub effective_from: Date,
    pub obligations: &'static [Obligation],
    /// Days before a period's last day from which an unmet obligation is flagged `due_soon`
    /// (deployment defaults, not set by a regulation).
    pub warn_days_month: i64,
    pub warn_days_quarter: i64,
    pub warn_days_year: i64,
}

impl CadenceRuleSet {
    pub fn warn_days(&self, unit: PeriodUnit) -> i64 {
        match unit {
            PeriodUnit::Month => self.warn_days_month,
            PeriodUnit::Quarter => self.warn_days_quarter,
            PeriodUnit::Year => self.warn_days_year,
        }
    }
}

const fn ob(
    org_kind: OrgKind,
    kind: MeetingKind,
    unit: PeriodUnit,
    condition: Condition,
    rule: &'static str,
) -> Obligation {
    Obligation {
        org_kind,
        kind,
        unit,
        min_count: 1,
        condition,
        rule,
    }
}

/// Every version, oldest first, effective dates increasing.
pub static CADENCE_RULE_SETS: &[CadenceRuleSet] = &[CadenceRuleSet {
    version: "b1-2018-cadence",
    source: "中国共产党支部工作条例（试行）2018 第十五、十六、十八、十九条；党章 2022",
    effective_from: date!(2018 - 10 - 28),
    obligations: &[
        ob(
            OrgKind::Branch,
            MeetingKind::BranchCongress,
            PeriodUnit::Quarter,
            Condition::Always,
            "支部党员大会一般每季度召开1次（支部工作条例第十五条）[C]",
        ),
        ob(
            OrgKind::Branch,
            MeetingKind::Committee,
            PeriodUnit::Month,
            Condition::HasCommittee,
            "支部委员会会议一般每月召开1次（支部工作条例第十五条）[C]",
        ),
        ob(
            OrgKind::Branch,
            MeetingKind::PartyLecture,
            PeriodUnit::Quarter,
            Condition::QuarterlyLectureKept,
            "支部党课按季度安排（惯例，可按部署调整）[L]",
        ),
        ob(
            OrgKind::Branch,
            MeetingKind::ThemeDay,
            PeriodUnit::Month,
            Condition::Always,
            "每月相对固定1天开展主题党日（支部工作条例第十六条）[C]",
        ),
        ob(
            OrgKind::Branch,
            MeetingKind::LifeMeeting,
            PeriodUnit::Year,
            Condition::Always,
            "组织生活会一般每年召开1次（支部工作条例第十八条）[C]",
        ),
        ob(
            OrgKind::Branch,
            MeetingKind::Evaluation,
            PeriodUnit::Year,
            Condition::Always,
            "民主评议党员一般每年开展1次（支部工作条例第十九条）[C]",
        ),
        ob(
            OrgKind::Group,
            MeetingKind::Group,
            PeriodUnit::Month,
            Condition::Always,
            "党小组会一般每月召开1次（支部工作条例第十五条）[C]",
        ),
        ob(
            OrgKind::Committee,
            MeetingKind::PartyLecture,
            PeriodUnit::Year,
            Condition::Always,
            "党委书记每年至少讲1次党课（党员教育管理工作条例）[C]",
        ),
        ob(
            OrgKind::WorkingCommittee,
            MeetingKind::PartyLecture,
            PeriodUnit::Year,
            Condition::Always,
            "党工委书记每年至少讲1次党课（党员教育管理工作条例）[C]",
        ),
    ],
    warn_days_month: 7,
    warn_days_quarter: 15,
    warn_days_year: 30,
}];

/// The set in force on `date`; dates before the first set are judged by the first.
pub fn cadence_rules_on(date: Date) -> &'static CadenceRuleSet {
    in_force_on(CADENCE_RULE_SETS, date).unwrap_or(&CADENCE_RULE_SETS[0])
}

impl Versioned for CadenceRuleSet {
    fn effective_from(&self) -> Date {
        self.effective_from
    }
}

/// A calendar period, both ends included.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Period {
    pub unit: PeriodUnit,
    pub first: Date,
    pub last: Date,
}

impl Period {
    /// The period of `unit` containing `d`.
    pub fn containing(unit: PeriodUnit, d: Date) -> Self {
        let year = d.year();
        let (first_month, months) = match unit {
            PeriodUnit::Month => (d.month(), 1),
            PeriodUnit::Quarter => {
                let q0 = (u8::from(d.month()) - 1) / 3;
                (Month::January.nth_next(q0 * 3), 3)
            }
            PeriodUnit::Year => (Month::January, 12),
        };
        let first = Date::from_calendar_date(year, first_month, 1).unwrap_or(d);
        let last_month = first_month.nth_next(months - 1);
        let last = Date::from_calendar_date(year, last_month, last_month.length(year)).unwrap_or(d);
        Self { unit, first, last }
    }

    /// The period just before this one.
    pub fn previous(&self) -> Self {
        match self.first.previous_day() {
            Some(d) => Self::containing(self.unit, d),
            None => *self,
        }
    }

    pub fn contains(&self, d: Date) -> bool {
        self.first <= d && d <= self.last
    }

    /// A short label: 2026年5月, 2026年第2季度, 2026年.
    pub fn label_zh(&self) -> String {
        let y = self.first.year();
        match self.unit {
            PeriodUnit::Month => format!("{y}年{}月", u8::from(self.first.month())),
            PeriodUnit::Quarter => format!("{y}年第{}季度", (u8::from(self.first.month()) - 1) / 3 + 1),
            PeriodUnit::Year => format!("{y}年"),
        }
    }
}

/// The facts about an organization the cadence depends on.
#[derive(Clone, Copy, Debug)]
pub struct OrgFacts {
    pub kind: OrgKind,
    /// 正式党员 of the organization (its subtree).
    pub formal_count: i64,
    /// 正式党员 from which a branch has a committee (`OrgRuleSet::committee_needs_formal`).
    pub committee_needs_formal: u32,
    /// A period that ended before the organization existed was not missed.
    pub established_on: Option<Date>,
    /// Whether the subtree keeps the quarterly branch 党课 custom (domain-rules §3 [L], default on).
    pub quarterly_lecture: bool,
    /// Whether an inquorate 支部党员大会 counts (the setting `cadence.inquorate_congress`).
    pub inquorate: InquoratePolicy,
}

/// A meeting of the organization (not cancelled), as the store found it.
#[derive(Clone, Copy, Debug)]
pub struct Held {
    pub meeting_id: i64,
    pub kind: MeetingKind,
    /// The local date it starts.
    pub on: Date,
    /// Its start has passed (by the clock, not the date judged on).
    pub started: bool,
    pub closed: bool,
    /// Someone was present: checked in, or marked present by an amendment.
    pub attended: bool,
    /// For a meeting that decides by vote, whether the quorum was met (None: not judged).
    pub quorum_met: Option<bool>,
}

/// Where a meeting stands: it counts once it has started and someone attended; a closed one
/// that had not started or had nobody present does not count (with the reason); one ahead, or
/// under way with nobody checked in yet, is scheduled. A 支部党员大会 without its quorum counts
/// flagged or not at all, by `policy`.
pub fn standing(h: &Held, policy: InquoratePolicy) -> Standing {
    if !h.started {
        return if h.closed {
            Standing::NotCounted(NotCountedReason::NotStarted)
        } else {
            Standing::Scheduled
        };
    }
    if !h.attended {
        return if h.closed {
            Standing::NotCounted(NotCountedReason::NoAttendance)
        } else {
            Standing::Scheduled
        };
    }
    if h.kind == MeetingKind::BranchCongress && h.quorum_met == Some(false) {
        return match policy {
            InquoratePolicy::CountsFlagged => Standing::Flagged(NotCountedReason::Inquorate),
            InquoratePolicy::NotCounted => Standing::NotCounted(NotCountedReason::Inquorate),
        };
    }
    Standing::Counted
}

/// A meeting of a judged period that does not count, or counts flagged, and why.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Remark {
    pub meeting_id: i64,
    pub kind: MeetingKind,
    pub on: Date,
    pub reason: NotCountedReason,
    /// Counted all the same (flagged).
    pub counted: bool,
}

/// One obligation judged on a date.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Judged {
    pub obligation: &'static Obligation,
    pub period: Period,
    /// Meetings that happened in the current period.
    pub done: u32,
    /// Meetings planned in the current period that have not happened yet.
    pub scheduled: u32,
    /// Of `done`, those counted with a remark (an inquorate 支部党员大会).
    pub flagged: u32,
    pub status: CadenceStatus,
    /// Days from the judging date to the period's last day (0 on the last day).
    pub days_left: i64,
    pub previous: Period,
    pub previous_done: u32,
    /// The previous period closed without enough meetings (and the org existed then).
    pub previous_missed: bool,
}

fn applies(o: &Obligation, org: &OrgFacts) -> bool {
    o.org_kind == org.kind
        && match o.condition {
            Condition::Always => true,
            Condition::HasCommittee => org.formal_count >= i64::from(org.committee_needs_formal),
            Condition::QuarterlyLectureKept => org.quarterly_lecture,
        }
}

fn count(
    held: &[Held],
    org: &OrgFacts,
    kind: MeetingKind,
    p: &Period,
    which: impl Fn(Standing) -> bool,
) -> u32 {
    let n = held
        .iter()
        .filter(|h| h.kind == kind && p.contains(h.on) && which(standing(h, org.inquorate)))
        .count();
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// The meetings of the periods a judgement on `today` looks at (each applying obligation's
/// current and previous period) that do not count or count flagged, by date.
pub fn remarks(rules: &'static CadenceRuleSet, org: &OrgFacts, today: Date, held: &[Held]) -> Vec<Remark> {
    let looked_at: Vec<(MeetingKind, Period, Period)> = rules
        .obligations
        .iter()
        .filter(|o| applies(o, org))
        .map(|o| {
            let p = Period::containing(o.unit, today);
            (o.kind, p.previous(), p)
        })
        .collect();
    let mut out: Vec<Remark> = held
        .iter()
        .filter(|h| {
            looked_at
                .iter()
                .any(|(k, prev, cur)| *k == h.kind && prev.first <= h.on && h.on <= cur.last)
        })
        .filter_map(|h| {
            let s = standing(h, org.inquorate);
            s.reason().map(|reason| Remark {
                meeting_id: h.meeting_id,
                kind: h.kind,
                on: h.on,
                reason,
                counted: s.counts(),
            })
        })
        .collect();
    out.sort_by_key(|r| (r.on, r.meeting_id));
    out
}

/// The organization's obligations on `today`, judged by the rule set in force on `today`.
/// Status: `done` once the current period has its meetings; otherwise `overdue` when the
/// previous period was missed, `due_soon` within the warning days of the period's end, else
/// `due`.
pub fn judge(rules: &'static CadenceRuleSet, org: &OrgFacts, today: Date, held: &[Held]) -> Vec<Judged> {
    rules
        .obligations
        .iter()
        .filter(|o| applies(o, org))
        .map(|o| {
            let period = Period::containing(o.unit, today);
            let previous = period.previous();
            let done = count(held, org, o.kind, &period, Standing::counts);
            let flagged = count(held, org, o.kind, &period, |s| matches!(s, Standing::Flagged(_)));
            let scheduled = count(held, org, o.kind, &period, |s| s == Standing::Scheduled);
            let previous_done = count(held, org, o.kind, &previous, Standing::counts);
            // a period that began before the org existed, or before these rules, is not judged
            let existed = org.established_on.is_none_or(|e| e <= previous.first)
                && rules.effective_from <= previous.first;
            let previous_missed = existed && previous_done < o.min_count;
            let days_left = days_between(today, period.last);
            let status = if done >= o.min_count {
                CadenceStatus::Done
            } else if previous_missed {
                CadenceStatus::Overdue
            } else if days_left < rules.warn_days(o.unit) {
                CadenceStatus::DueSoon
            } else {
                CadenceStatus::Due
            };
            Judged {
                obligation: o,
                period,
                done,
                scheduled,
                flagged,
                status,
                days_left,
                previous,
                previous_done,
                previous_missed,
            }
        })
        .collect()
}

/// Counts by status, for a subtree summary.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Tally {
    pub done: u32,
    pub due: u32,
    pub due_soon: u32,
    pub overdue: u32,
}

impl Tally {
    pub fn of(lines: &[Judged]) -> Self {
        let mut t = Self::default();
        for l in lines {
            t.add(l.status);
        }
        t
    }
    pub fn add(&mut self, s: CadenceStatus) {
        match s {
            CadenceStatus::Done => self.done += 1,
            CadenceStatus::Due => self.due += 1,
            CadenceStatus::DueSoon => self.due_soon += 1,
            CadenceStatus::Overdue => self.overdue += 1,
        }
    }
    pub fn merge(&mut self, o: Tally) {
        self.done += o.done;
        self.due += o.due;
        self.due_soon += o.due_soon;
        self.overdue += o.overdue;
    }
    pub fn total(&self) -> u32 {
        self.done + self.due + self.due_soon + self.overdue
    }
}

/// The earliest local date any judgement on `today` looks at (the previous year's first day):
/// the store loads meetings from there.
pub fn horizon(today: Date) -> Date {
    Period::containing(PeriodUnit::Year, today).previous().first
}

#[cfg(test)]
mod tests {
    use super::*;

    fn branch(formal: i64) -> OrgFacts {
        OrgFacts {
            kind: OrgKind::Branch,
            formal_count: formal,
            committee_needs_formal: 7,
            established_on: Some(date!(2010 - 01 - 01)),
            quarterly_lecture: true,
            inquorate: InquoratePolicy::CountsFlagged,
        }
    }
    fn held(kind: MeetingKind, on: Date) -> Held {
        Held {
            meeting_id: 1,
            kind,
            on,
            started: true,
            closed: true,
            attended: true,
            quorum_met: None,
        }
    }
    fn line(lines: &[Judged], kind: MeetingKind) -> Judged {
        *lines
            .iter()
            .find(|l| l.obligation.kind == kind)
            .unwrap_or_else(|| panic!("no line for {kind}"))
    }
    fn rules() -> &'static CadenceRuleSet {
        cadence_rules_on(date!(2026 - 05 - 20))
    }

    #[test]
    fn periods_are_calendar_months_quarters_and_years() {
        let d = date!(2026 - 05 - 20);
        let m = Period::containing(PeriodUnit::Month, d);
        assert_eq!((m.first, m.last), (date!(2026 - 05 - 01), date!(2026 - 05 - 31)));
        let q = Period::containing(PeriodUnit::Quarter, d);
        assert_eq!((q.first, q.last), (date!(2026 - 04 - 01), date!(2026 - 06 - 30)));
        let y = Period::containing(PeriodUnit::Year, d);
        assert_eq!((y.first, y.last), (date!(2026 - 01 - 01), date!(2026 - 12 - 31)));
        let pq = Period::containing(PeriodUnit::Quarter, date!(2026 - 02 - 10)).previous();
        assert_eq!(
            (pq.first, pq.last),
            (date!(2025 - 10 - 01), date!(2025 - 12 - 31))
        );
        let feb = Period::containing(PeriodUnit::Month, date!(2024 - 03 - 01)).previous();
        assert_eq!(feb.last, date!(2024 - 02 - 29));
        assert_eq!(q.label_zh(), "2026年第2季度");
        assert_eq!(m.label_zh(), "2026年5月");
    }

    #[test]
    fn a_branch_has_the_six_branch_obligations_and_a_committee_only_from_seven_formal() {
        let small = judge(rules(), &branch(6), date!(2026 - 05 - 20), &[]);
        assert!(small.iter().all(|l| l.obligation.kind != MeetingKind::Committee));
        assert_eq!(small.len(), 5);
        let big = judge(rules(), &branch(7), date!(2026 - 05 - 20), &[]);
        assert_eq!(big.len(), 6);
        // the quarterly 党课 is a custom [L] a subtree may drop; the regulations' lines stay
        let no_lecture = OrgFacts {
            quarterly_lecture: false,
            ..branch(7)
        };
        let kept = judge(rules(), &no_lecture, date!(2026 - 05 - 20), &[]);
        assert_eq!(kept.len(), 5);
        assert!(
            kept.iter()
                .all(|l| l.obligation.kind != MeetingKind::PartyLecture)
        );
        let group = OrgFacts {
            kind: OrgKind::Group,
            ..branch(3)
        };
        let g = judge(rules(), &group, date!(2026 - 05 - 20), &[]);
        assert_eq!(g.len(), 1);
        assert_eq!(
            (g[0].obligation.kind, g[0].obligation.unit),
            (MeetingKind::Group, PeriodUnit::Month)
        );
        let general = OrgFacts {
            kind: OrgKind::GeneralBranch,
            ..branch(30)
        };
        assert!(judge(rules(), &general, date!(2026 - 05 - 20), &[]).is_empty());
    }

    #[test]
    fn done_due_due_soon_and_overdue() {
        let today = date!(2026 - 05 - 20);
        let h = [
            // April (previous month) had a 主题党日, May not yet
            held(MeetingKind::ThemeDay, date!(2026 - 04 - 15)),
            // this quarter's 支部党员大会 is done; the previous quarter's too
            held(MeetingKind::BranchCongress, date!(2026 - 04 - 02)),
            held(MeetingKind::BranchCongress, date!(2026 - 03 - 31)),
            // 支委会 in May, none in April
            held(MeetingKind::Committee, date!(2026 - 05 - 06)),
            // 民主评议 of last year
            held(MeetingKind::Evaluation, date!(2025 - 12 - 20)),
        ];
        let lines = judge(rules(), &branch(8), today, &h);
        let theme = line(&lines, MeetingKind::ThemeDay);
        assert_eq!(
            (theme.status, theme.done, theme.days_left),
            (CadenceStatus::Due, 0, 11)
        );
        assert!(!theme.previous_missed);
        let congress = line(&lines, MeetingKind::BranchCongress);
        assert_eq!((congress.status, congress.done), (CadenceStatus::Done, 1));
        let committee = line(&lines, MeetingKind::Committee);
        assert_eq!(
            committee.status,
            CadenceStatus::Done,
            "done now even though April was missed"
        );
        assert!(committee.previous_missed);
        // no 党课 last quarter → overdue
        let lecture = line(&lines, MeetingKind::PartyLecture);
        assert_eq!(
            (lecture.status, lecture.previous_done),
            (CadenceStatus::Overdue, 0)
        );
        // 组织生活会: none in 2025 → overdue; 民主评议 held in 2025 → due this year
        assert_eq!(
            line(&lines, MeetingKind::LifeMeeting).status,
            CadenceStatus::Overdue
        );
        let ev = line(&lines, MeetingKind::Evaluation);
        assert_eq!((ev.status, ev.days_left), (CadenceStatus::Due, 225));
    }

    #[test]
    fn the_warning_comes_within_the_warning_days_of_the_period_end() {
        let h = [held(MeetingKind::ThemeDay, date!(2026 - 04 - 15))];
        let at = |d: Date| line(&judge(rules(), &branch(3), d, &h), MeetingKind::ThemeDay);
        assert_eq!(at(date!(2026 - 04 - 30)).status, CadenceStatus::Done);
        assert_eq!(at(date!(2026 - 05 - 24)).status, CadenceStatus::Due);
        // 7 days left on the 24th; 6 on the 25th is inside the week
        assert_eq!(at(date!(2026 - 05 - 25)).status, CadenceStatus::DueSoon);
        assert_eq!(at(date!(2026 - 05 - 31)).days_left, 0);
        // June 1st: May closed without it
        assert_eq!(at(date!(2026 - 06 - 01)).status, CadenceStatus::Overdue);
    }

    #[test]
    fn only_meetings_that_happened_count_and_scheduled_ones_are_reported() {
        let h = [Held {
            started: false,
            closed: false,
            attended: false,
            ..held(MeetingKind::ThemeDay, date!(2026 - 05 - 28))
        }];
        let l = line(
            &judge(rules(), &branch(3), date!(2026 - 05 - 20), &h),
            MeetingKind::ThemeDay,
        );
        assert_eq!((l.done, l.scheduled), (0, 1));
        assert_ne!(l.status, CadenceStatus::Done);
    }

    #[test]
    fn a_meeting_counts_once_started_and_attended_and_an_inquorate_congress_by_the_setting() {
        let today = date!(2026 - 05 - 20);
        let theme = held(MeetingKind::ThemeDay, date!(2026 - 05 - 06));
        let closed_early = Held {
            meeting_id: 2,
            started: false,
            ..held(MeetingKind::ThemeDay, date!(2026 - 05 - 28))
        };
        let nobody = Held {
            meeting_id: 3,
            attended: false,
            ..theme
        };
        let under_way = Held {
            meeting_id: 4,
            closed: false,
            attended: false,
            ..theme
        };
        let p = InquoratePolicy::CountsFlagged;
        assert_eq!(standing(&theme, p), Standing::Counted);
        assert_eq!(
            standing(&closed_early, p),
            Standing::NotCounted(NotCountedReason::NotStarted)
        );
        assert_eq!(
            standing(&nobody, p),
            Standing::NotCounted(NotCountedReason::NoAttendance)
        );
        assert_eq!(standing(&under_way, p), Standing::Scheduled);
        let l = line(
            &judge(rules(), &branch(3), today, &[closed_early, nobody, under_way]),
            MeetingKind::ThemeDay,
        );
        assert_eq!((l.done, l.scheduled), (0, 1), "{l:?}");
        let r = remarks(rules(), &branch(3), today, &[closed_early, nobody, under_way]);
        assert_eq!(
            r.iter()
                .map(|r| (r.meeting_id, r.reason, r.counted))
                .collect::<Vec<_>>(),
            [
                (3, NotCountedReason::NoAttendance, false),
                (2, NotCountedReason::NotStarted, false)
            ]
        );
        // the inquorate 支部党员大会: counted and flagged by default, not at all if so set
        let congress = Held {
            meeting_id: 5,
            quorum_met: Some(false),
            ..held(MeetingKind::BranchCongress, date!(2026 - 04 - 09))
        };
        let flagged = line(
            &judge(rules(), &branch(3), today, &[congress]),
            MeetingKind::BranchCongress,
        );
        assert_eq!(
            (flagged.done, flagged.flagged, flagged.status),
            (1, 1, CadenceStatus::Done)
        );
        let strict = OrgFacts {
            inquorate: InquoratePolicy::NotCounted,
            ..branch(3)
        };
        let not = line(
            &judge(rules(), &strict, today, &[congress]),
            MeetingKind::BranchCongress,
        );
        assert_eq!((not.done, not.flagged), (0, 0));
        assert_eq!(
            remarks(rules(), &strict, today, &[congress])[0].reason,
            NotCountedReason::Inquorate
        );
        // a meeting of a kind or a period nobody judges is not remarked on
        let old = Held {
            attended: false,
            ..held(MeetingKind::ThemeDay, date!(2026 - 01 - 06))
        };
        assert!(remarks(rules(), &branch(3), today, &[old]).is_empty());
    }

    #[test]
    fn a_period_before_the_org_existed_is_not_missed() {
        let org = OrgFacts {
            established_on: Some(date!(2026 - 05 - 03)),
            ..branch(3)
        };
        let lines = judge(rules(), &org, date!(2026 - 05 - 20), &[]);
        assert!(lines.iter().all(|l| !l.previous_missed), "{lines:?}");
        assert!(lines.iter().all(|l| l.status != CadenceStatus::Overdue));
    }

    #[test]
    fn tallies_add_up() {
        let lines = judge(rules(), &branch(8), date!(2026 - 05 - 20), &[]);
        let t = Tally::of(&lines);
        assert_eq!(t.total() as usize, lines.len());
        assert_eq!(horizon(date!(2026 - 05 - 20)), date!(2025 - 01 - 01));
    }

    #[test]
    fn rule_sets_are_ordered_and_the_first_applies_before_it() {
        assert!(crate::ruleset::ordered_by_effective_date(CADENCE_RULE_SETS));
        assert_eq!(cadence_rules_on(date!(2000 - 01 - 01)), &CADENCE_RULE_SETS[0]);
    }
}
