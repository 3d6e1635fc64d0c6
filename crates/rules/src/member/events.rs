//! Status events judged over a person's history (facts → decision): the transition of
//! [`next_status`] plus the rules that span time and status — age on applying and admission,
//! 转正 only once probation has ended and dated at its end, one extension of 6–12 months, no 劝退
//! of a probationary member, 自行脱党 only two years after 停止党籍, and restorations and
//! transfers that keep the status the person had (domain-rules §1, §6; edge cases 1, 13–15).

use time::Date;

use super::{EventKind, MemberStatus, check_apply_age, check_event_date, check_event_reason, next_status};
use crate::RuleViolation;
use crate::calendar::add_years;
use crate::ruleset::OrgRuleSet;

/// One recorded event as the history gives it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PastEvent {
    pub kind: EventKind,
    pub date: Date,
    pub status_before: MemberStatus,
    /// The extension's length, for `extend_probation`.
    pub months: Option<u32>,
}

/// What the rules need to know about a person before an event.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct EventFacts {
    /// `None`: no record yet.
    pub status: Option<MemberStatus>,
    pub birth: Option<Date>,
    /// 入党时间: the 支部大会 date of the admission (probation runs from it).
    pub joined_on: Option<Date>,
    /// Months of extension of the current probation (`None`: not extended).
    pub extended_months: Option<u32>,
    /// While suspended: the day of the 停止党籍 and the status held before it.
    pub suspended: Option<(Date, MemberStatus)>,
    /// While transferred out: the status held before the transfer.
    pub before_transfer_out: Option<MemberStatus>,
}

impl EventFacts {
    /// The facts after a person's history (events in date order), on top of the record's own
    /// status and dates. A new admission starts a new probation; a restoration or a transfer in
    /// closes what the suspension or the transfer out opened.
    pub fn from_history(
        status: Option<MemberStatus>,
        birth: Option<Date>,
        joined_on: Option<Date>,
        history: &[PastEvent],
    ) -> Self {
        let mut f = EventFacts {
            status,
            birth,
            joined_on,
            ..EventFacts::default()
        };
        for e in history {
            match e.kind {
                EventKind::Admit => f.extended_months = None,
                EventKind::ExtendProbation => {
                    f.extended_months = Some(f.extended_months.unwrap_or(0) + e.months.unwrap_or(0));
                }
                EventKind::Suspend => f.suspended = Some((e.date, e.status_before)),
                EventKind::Restore | EventKind::Leave => f.suspended = None,
                EventKind::TransferOut => f.before_transfer_out = Some(e.status_before),
                EventKind::TransferIn => f.before_transfer_out = None,
                _ => {}
            }
        }
        f
    }
}

/// The event asked for.
#[derive(Clone, Copy, Debug)]
pub struct EventRequest<'a> {
    pub kind: EventKind,
    pub date: Date,
    /// The status after, where the caller names one (register, transfer in, restore).
    pub target: Option<MemberStatus>,
    /// The extension's length, for `extend_probation`.
    pub months: Option<u32>,
    pub reason: Option<&'a str>,
}

/// What recording the event does to the record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EventOutcome {
    pub status: MemberStatus,
    /// Set by an admission: the 支部大会 date.
    pub joined_on: Option<Date>,
    /// Set by 转正: the end of probation (of the extension, if any), not the day it was recorded.
    pub regularized_on: Option<Date>,
    /// The extension recorded with the event.
    pub months: Option<u32>,
    /// The last day of probation after this event, while probationary.
    pub probation_ends_on: Option<Date>,
}

/// The last day of the current probation, for a probationary member with an admission date.
pub fn probation_ends_on(rs: &OrgRuleSet, f: &EventFacts) -> Option<Date> {
    Some(super::probation_end(
        rs,
        f.joined_on?,
        f.extended_months.unwrap_or(0),
    ))
}

/// Decides an event over the facts, judged on `today`. Refusals name the rule (codes below and
/// those of [`next_status`], [`check_apply_age`], [`super::check_extension`]).
///
/// - `apply`, `admit`: 18 or older on the event's date → else `applicant_under_18` on `date`.
/// - `regularize`: only from the end of probation → else `probation_not_over` on `date`
///   (`ends_on`); `regularized_on` is that end.
/// - `extend_probation`: once, `months` 6–12 (`probation_extended_once`,
///   `probation_extension_range` on `months`).
/// - `leave` of a probationary member → `probationary_cannot_leave` on `kind` (cancel the
///   probation instead); of a suspended member before two years of 停止党籍 →
///   `suspension_under_two_years` on `date` (`since`, `until`).
/// - `restore` and `transfer_in` after a transfer out bring back the status held before; naming
///   another → `status_not_allowed` on `status`.
pub fn decide_event(
    rs: &OrgRuleSet,
    f: &EventFacts,
    req: &EventRequest<'_>,
    today: Date,
) -> Result<EventOutcome, RuleViolation> {
    use EventKind as E;
    check_event_date(req.date, today)?;
    let kept = match (req.kind, f.status) {
        (E::Restore, Some(MemberStatus::Suspended)) => f.suspended.map(|(_, s)| s),
        (E::TransferIn, Some(MemberStatus::TransferredOut)) => f.before_transfer_out,
        _ => None,
    };
    if let (Some(k), Some(t)) = (kept, req.target)
        && k != t
    {
        return Err(RuleViolation::field("status_not_allowed", "status")
            .arg("status", t.label_zh())
            .arg("event", req.kind.label_zh()));
    }
    let status = match (req.kind, kept) {
        (E::Restore, Some(k)) => {
            next_status(f.status, req.kind, None)?;
            k
        }
        (E::TransferIn, Some(k)) => next_status(f.status, req.kind, Some(k))?,
        _ => next_status(f.status, req.kind, req.target)?,
    };
    let mut out = EventOutcome {
        status,
        joined_on: None,
        regularized_on: None,
        months: None,
        probation_ends_on: None,
    };
    let ends_on = probation_ends_on(rs, f);
    match req.kind {
        E::Apply | E::Admit => {
            if let Some(birth) = f.birth {
                check_apply_age(birth, req.date).map_err(|e| match req.kind {
                    E::Admit => RuleViolation {
                        code: "admitted_under_18",
                        ..e
                    },
                    _ => e,
                })?;
            }
            if req.kind == E::Admit {
                out.joined_on = Some(req.date);
                out.probation_ends_on = Some(super::probation_end(rs, req.date, 0));
            }
        }
        E::Regularize => {
            let Some(end) = ends_on else {
                return Err(RuleViolation::field("joined_on_required", "joined_on"));
            };
            if req.date < end {
                return Err(RuleViolation::field("probation_not_over", "date").arg("ends_on", end));
            }
            out.regularized_on = Some(end);
        }
        E::ExtendProbation => {
            let months = req.months.unwrap_or(0);
            super::check_extension(rs, months, f.extended_months.is_some())?;
            out.months = Some(months);
            out.probation_ends_on = f
                .joined_on
                .map(|j| super::probation_end(rs, j, f.extended_months.unwrap_or(0) + months));
        }
        E::Leave => match (f.status, f.suspended) {
            (Some(MemberStatus::Probationary), _) => {
                return Err(RuleViolation::field("probationary_cannot_leave", "kind"));
            }
            (Some(MemberStatus::Suspended), Some((since, _))) => {
                let until = add_years(since, 2);
                if req.date < until {
                    return Err(RuleViolation::field("suspension_under_two_years", "date")
                        .arg("since", since)
                        .arg("until", until));
                }
            }
            _ => {}
        },
        _ => {}
    }
    if status == MemberStatus::Probationary && out.probation_ends_on.is_none() {
        out.probation_ends_on = ends_on;
    }
    check_event_reason(req.kind, req.reason)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use time::macros::date;

    use super::*;
    use crate::ruleset::ORG_RULE_SETS;
    use EventKind as E;
    use MemberStatus as S;

    fn rs() -> &'static OrgRuleSet {
        &ORG_RULE_SETS[0]
    }

    fn req(kind: EventKind, date: Date) -> EventRequest<'static> {
        EventRequest {
            kind,
            date,
            target: None,
            months: None,
            reason: Some("支部大会决定"),
        }
    }

    const TODAY: Date = date!(2030 - 01 - 01);

    fn probationer(joined: Date) -> EventFacts {
        EventFacts {
            status: Some(S::Probationary),
            birth: Some(date!(1990 - 01 - 01)),
            joined_on: Some(joined),
            ..EventFacts::default()
        }
    }

    fn refusal(f: &EventFacts, r: &EventRequest<'_>) -> (&'static str, Option<&'static str>) {
        let e = decide_event(rs(), f, r, TODAY).unwrap_err();
        (e.code, e.field)
    }

    #[test]
    fn regularizing_waits_for_the_end_of_probation_and_is_dated_at_it() {
        // edge cases 13 and 14: 支部大会 2024-06-15 → probation ends 2025-06-15
        let f = probationer(date!(2024 - 06 - 15));
        let early = req(E::Regularize, date!(2024 - 12 - 01));
        assert_eq!(refusal(&f, &early), ("probation_not_over", Some("date")));
        let before_joining = req(E::Regularize, date!(2024 - 01 - 01));
        assert_eq!(refusal(&f, &before_joining), ("probation_not_over", Some("date")));
        let voted = decide_event(rs(), &f, &req(E::Regularize, date!(2025 - 08 - 01)), TODAY).unwrap();
        assert_eq!(
            (voted.status, voted.regularized_on),
            (S::Formal, Some(date!(2025 - 06 - 15)))
        );
    }

    #[test]
    fn one_extension_of_six_to_twelve_months_moves_the_end_of_probation() {
        let f = probationer(date!(2024 - 06 - 15));
        for (months, ok) in [
            (None, false),
            (Some(5), false),
            (Some(13), false),
            (Some(6), true),
            (Some(12), true),
        ] {
            let r = EventRequest {
                months,
                ..req(E::ExtendProbation, date!(2025 - 06 - 20))
            };
            match decide_event(rs(), &f, &r, TODAY) {
                Ok(o) => assert!(ok, "{months:?} accepted: {o:?}"),
                Err(e) => {
                    assert!(!ok, "{months:?} refused: {e:?}");
                    assert_eq!((e.code, e.field), ("probation_extension_range", Some("months")));
                }
            }
        }
        let history = [
            PastEvent {
                kind: E::Admit,
                date: date!(2024 - 06 - 15),
                status_before: S::Candidate,
                months: None,
            },
            PastEvent {
                kind: E::ExtendProbation,
                date: date!(2025 - 06 - 20),
                status_before: S::Probationary,
                months: Some(6),
            },
        ];
        let f = EventFacts::from_history(
            Some(S::Probationary),
            Some(date!(1990 - 01 - 01)),
            Some(date!(2024 - 06 - 15)),
            &history,
        );
        assert_eq!(probation_ends_on(rs(), &f), Some(date!(2025 - 12 - 15)));
        let again = EventRequest {
            months: Some(6),
            ..req(E::ExtendProbation, date!(2025 - 12 - 01))
        };
        assert_eq!(refusal(&f, &again).0, "probation_extended_once");
        // edge case 15: 转正 six months after the original end
        assert_eq!(
            refusal(&f, &req(E::Regularize, date!(2025 - 07 - 01))),
            ("probation_not_over", Some("date"))
        );
        let o = decide_event(rs(), &f, &req(E::Regularize, date!(2026 - 01 - 10)), TODAY).unwrap();
        assert_eq!(o.regularized_on, Some(date!(2025 - 12 - 15)));
    }

    #[test]
    fn under_eighteen_neither_applies_nor_is_admitted() {
        let young = EventFacts {
            status: None,
            birth: Some(date!(2010 - 03 - 01)),
            ..EventFacts::default()
        };
        assert_eq!(
            refusal(&young, &req(E::Apply, date!(2026 - 02 - 28))),
            ("applicant_under_18", Some("date"))
        );
        decide_event(rs(), &young, &req(E::Apply, date!(2028 - 03 - 01)), TODAY).unwrap();
        let candidate = EventFacts {
            status: Some(S::Candidate),
            ..young
        };
        assert_eq!(
            refusal(&candidate, &req(E::Admit, date!(2027 - 01 - 01))),
            ("admitted_under_18", Some("date"))
        );
    }

    #[test]
    fn a_probationer_is_not_asked_to_leave_and_the_suspended_leave_after_two_years() {
        let f = probationer(date!(2024 - 06 - 15));
        assert_eq!(
            refusal(&f, &req(E::Leave, date!(2024 - 09 - 01))),
            ("probationary_cannot_leave", Some("kind"))
        );
        let suspended = EventFacts {
            status: Some(S::Suspended),
            suspended: Some((date!(2026 - 03 - 01), S::Formal)),
            ..f
        };
        assert_eq!(
            refusal(&suspended, &req(E::Leave, date!(2026 - 03 - 02))),
            ("suspension_under_two_years", Some("date"))
        );
        let o = decide_event(rs(), &suspended, &req(E::Leave, date!(2028 - 03 - 01)), TODAY).unwrap();
        assert_eq!(o.status, S::Left);
    }

    #[test]
    fn restoring_and_transferring_keep_the_status_the_person_had() {
        let suspended = EventFacts {
            status: Some(S::Suspended),
            suspended: Some((date!(2024 - 09 - 01), S::Probationary)),
            ..probationer(date!(2024 - 06 - 15))
        };
        let o = decide_event(rs(), &suspended, &req(E::Restore, date!(2024 - 10 - 01)), TODAY).unwrap();
        assert_eq!(o.status, S::Probationary);
        assert_eq!(o.probation_ends_on, Some(date!(2025 - 06 - 15)));
        let formal = EventRequest {
            target: Some(S::Formal),
            ..req(E::Restore, date!(2024 - 10 - 01))
        };
        assert_eq!(
            refusal(&suspended, &formal),
            ("status_not_allowed", Some("status"))
        );

        let out = EventFacts {
            status: Some(S::TransferredOut),
            before_transfer_out: Some(S::Probationary),
            ..probationer(date!(2024 - 06 - 15))
        };
        let back = decide_event(rs(), &out, &req(E::TransferIn, date!(2024 - 10 - 01)), TODAY).unwrap();
        assert_eq!(back.status, S::Probationary);
        let as_formal = EventRequest {
            target: Some(S::Formal),
            ..req(E::TransferIn, date!(2024 - 10 - 01))
        };
        assert_eq!(refusal(&out, &as_formal), ("status_not_allowed", Some("status")));
    }

    fn any_kind() -> impl Strategy<Value = EventKind> {
        proptest::sample::select(
            E::ALL
                .iter()
                .copied()
                .filter(|k| *k != E::Register && *k != E::MoveWithin)
                .collect::<Vec<_>>(),
        )
    }

    proptest! {
        /// Random event sequences, applied as the store applies them (facts from the history,
        /// the decision, the record updated): nobody becomes formal before their probation
        /// ended, a probationer who was suspended and restored or transferred out and in is
        /// still a probationer, and nothing follows a death.
        #[test]
        fn random_event_sequences_keep_the_status_rules(
            steps in proptest::collection::vec((any_kind(), 0u32..400, proptest::option::of(0u32..15), proptest::option::of(0usize..9)), 1..40)
        ) {
            let birth = date!(1980 - 01 - 01);
            let mut status = Some(S::Applicant);
            let mut joined: Option<Date> = None;
            let mut history: Vec<PastEvent> = Vec::new();
            let mut day = date!(2000 - 01 - 01);
            for (kind, gap, months, target) in steps {
                day = day.checked_add(time::Duration::days(i64::from(gap))).unwrap();
                let facts = EventFacts::from_history(status, Some(birth), joined, &history);
                let r = EventRequest {
                    kind,
                    date: day,
                    target: target.map(|i| S::ALL[i]),
                    months,
                    reason: Some("原因"),
                };
                let Ok(o) = decide_event(rs(), &facts, &r, TODAY) else { continue };
                prop_assert_ne!(facts.status, Some(S::Deceased), "an event after death: {:?}", r);
                if o.status == S::Formal && facts.status == Some(S::Probationary) {
                    let end = probation_ends_on(rs(), &facts).unwrap();
                    prop_assert!(day >= end && o.regularized_on == Some(end), "{:?} {:?}", facts, r);
                }
                if matches!(kind, E::Restore | E::TransferIn) && facts.status.is_some() {
                    let before = facts.suspended.map(|(_, s)| s).or(facts.before_transfer_out);
                    if let Some(b) = before {
                        prop_assert_eq!(o.status, b);
                    }
                }
                history.push(PastEvent { kind, date: day, status_before: facts.status.unwrap_or(S::Applicant), months: o.months });
                status = Some(o.status);
                joined = o.joined_on.or(joined);
            }
        }
    }
}
