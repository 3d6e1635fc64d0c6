//! Demo meetings: three months of 三会一课 for the demo branch and a few others (one of them
//! behind on cadence), one meeting live today with seats, next month's 主题党日 series ahead with
//! a pending leave request, and cards for a gate. Written through the store's own functions, so
//! rules and audit hold; seeded, so the same day gives the same meetings.

use anyhow::Context;
use dangjian_rules::meeting::{AttendanceState, CheckinMethod, Direction, MeetingKind, Poster};
use dangjian_rules::org::{CommitteePost, OrgKind};
use dangjian_store::meeting::plan::PlanChange;
use dangjian_store::meeting::{NewCheckin, NewMeeting, Who};
use dangjian_store::person::PersonPatch;
use dangjian_store::{Actor, Scope, Store};
use time::{Date, Duration, Month, OffsetDateTime, PrimitiveDateTime, Time};

use super::Loaded;
use super::generate::Rng;

const SEED: u64 = 0x5EED_3EE7_2026_0001;
pub(super) const VENUE: &str = "党员活动室";

/// One meeting to hold in the past.
struct Held {
    org: usize,
    kind: MeetingKind,
    title: String,
    starts_at: OffsetDateTime,
    minutes: i64,
}

/// The first day of the month `back` months before `d`'s month.
fn month_back(d: Date, back: i32) -> Option<Date> {
    let total = d.year() * 12 + i32::from(u8::from(d.month())) - 1 - back;
    let month = Month::try_from(u8::try_from(total.rem_euclid(12) + 1).ok()?).ok()?;
    Date::from_calendar_date(total.div_euclid(12), month, 1).ok()
}

fn on_day(first: Date, day: u8) -> Option<Date> {
    first
        .replace_day(day.min(first.month().length(first.year())))
        .ok()
}

const THEMES: &[&str] = &[
    "重温入党誓词，学习党章",
    "志愿服务进社区",
    "参观革命传统教育基地",
    "学习贯彻党的二十届四中全会精神",
    "廉政警示教育",
    "岗位建功比学赶超",
];

impl Loaded<'_> {
    pub(super) fn local(&self, d: Date, h: u8, m: u8) -> OffsetDateTime {
        let t = Time::from_hms(h, m, 0).unwrap_or(Time::MIDNIGHT);
        PrimitiveDateTime::new(d, t).assume_offset(self.store.local.offset)
    }

    /// The org's 党小组 (children of kind Group).
    fn groups_of(&self, org: usize) -> Vec<usize> {
        (0..self.tree.orgs.len())
            .filter(|&i| self.tree.orgs[i].parent == Some(org) && self.tree.orgs[i].kind == OrgKind::Group)
            .collect()
    }

    /// Indexes of the formal and probationary members of the org and its 党小组.
    pub(super) fn members_of(&self, org: usize) -> Vec<usize> {
        (0..self.tree.people.len())
            .filter(|&i| {
                let p = &self.tree.people[i];
                p.status.is_member() && (p.org == org || self.tree.orgs[p.org].parent == Some(org))
            })
            .collect()
    }

    /// The past meetings of a branch: the last three months of 三会一课, the yearly 组织生活会
    /// and 民主评议 early in the year. `behind` leaves out this and last month's 主题党日 and 支委会.
    fn schedule(&self, branch: usize, behind: bool, cutoff: OffsetDateTime) -> Vec<Held> {
        let today = self.store.today();
        let mut out = Vec::new();
        let mut push =
            |org: usize, kind: MeetingKind, title: String, d: Option<Date>, h: u8, minutes: i64| {
                if let Some(d) = d {
                    let starts_at = self.local(d, h, 0);
                    if starts_at + Duration::minutes(minutes) < cutoff {
                        out.push(Held {
                            org,
                            kind,
                            title,
                            starts_at,
                            minutes,
                        });
                    }
                }
            };
        for back in (0..3).rev() {
            let Some(first) = month_back(today, back) else {
                continue;
            };
            let m = u8::from(first.month());
            let skip = behind && back <= 1;
            if !skip {
                push(
                    branch,
                    MeetingKind::Committee,
                    format!("{m}月支委会"),
                    on_day(first, 5),
                    9,
                    60,
                );
                let theme = THEMES[usize::from(m) % THEMES.len()];
                push(
                    branch,
                    MeetingKind::ThemeDay,
                    format!("{m}月主题党日：{theme}"),
                    on_day(first, 18),
                    14,
                    120,
                );
            }
            for g in self.groups_of(branch) {
                let name = &self.tree.orgs[g].name;
                push(
                    g,
                    MeetingKind::Group,
                    format!("{name}{m}月学习会"),
                    on_day(first, 12),
                    15,
                    90,
                );
            }
        }
        // quarterly, this quarter and the last: 党课 in the quarter's first month, 党员大会 in its second
        let into_quarter = (i32::from(u8::from(today.month())) - 1) % 3;
        for back in [into_quarter + 3, into_quarter] {
            let (Some(q), Some(mid)) = (month_back(today, back), month_back(today, back - 1)) else {
                continue;
            };
            let (m, mm) = (u8::from(q.month()), u8::from(mid.month()));
            push(
                branch,
                MeetingKind::PartyLecture,
                format!("{m}月党课：书记讲党课"),
                on_day(q, 22),
                15,
                90,
            );
            push(
                branch,
                MeetingKind::BranchCongress,
                format!("{mm}月支部党员大会"),
                on_day(mid, 25),
                14,
                120,
            );
        }
        // yearly, early in this year and the last (for the year before)
        for year in [today.year() - 1, today.year()].into_iter().filter(|_| !behind) {
            let jan = Date::from_calendar_date(year, Month::January, 1).ok();
            let y = year - 1;
            push(
                branch,
                MeetingKind::LifeMeeting,
                format!("{y}年度组织生活会"),
                jan.and_then(|d| on_day(d, 20)),
                9,
                180,
            );
            push(
                branch,
                MeetingKind::Evaluation,
                format!("{y}年度民主评议党员"),
                jan.and_then(|d| on_day(d, 21)),
                9,
                150,
            );
        }
        out.sort_by_key(|h| h.starts_at);
        out
    }
}

/// How and when one person checks in: one in ten late, a card when they have one, else the QR
/// code on their phone or the staff by hand.
pub(super) fn plan_person(
    rng: &mut Rng,
    start: OffsetDateTime,
    person_id: i64,
    card: Option<&str>,
) -> (Who, CheckinMethod, OffsetDateTime) {
    let at = if rng.percent(10) {
        start + Duration::minutes(i64::from(rng.range(6, 25)))
    } else {
        start - Duration::minutes(i64::from(rng.range(0, 15)))
    };
    match (rng.below(100), card) {
        (0..=34, Some(c)) => (Who::Card(c.to_owned()), CheckinMethod::Card, at),
        (0..=59, _) => (Who::Person(person_id), CheckinMethod::Qr, at),
        _ => (Who::Person(person_id), CheckinMethod::Manual, at),
    }
}

pub(super) async fn load(l: &Loaded<'_>) -> anyhow::Result<()> {
    let (store, scope, actor) = (l.store, Scope::system(), Actor::system("demo"));
    let mut rng = Rng(SEED);
    let now = store.now();
    let first = l.tree.first_branch;

    // cards for two in three of the demo branch, so a gate can be tried
    let mut cards: Vec<Option<String>> = vec![None; l.tree.people.len()];
    for (k, &i) in l.members_of(first).iter().enumerate() {
        if k % 3 == 2 {
            continue;
        }
        let uid = format!("04{:06X}{:02X}", (rng.next_u64() & 0xFF_FFFF), k & 0xFF);
        store
            .members()
            .update_person(
                &scope,
                &actor,
                l.people[i],
                PersonPatch {
                    card_uid: Some(uid.clone()),
                    ..PersonPatch::default()
                },
            )
            .await
            .context("demo card")?;
        cards[i] = Some(uid);
    }

    // the demo branch, two on cadence and one behind
    let others: Vec<usize> = (0..l.tree.orgs.len())
        .filter(|&i| i != first && l.tree.orgs[i].kind == OrgKind::Branch && l.members_of(i).len() >= 8)
        .take(3)
        .collect();
    let cutoff = now - Duration::hours(3);
    let mut held = l.schedule(first, false, cutoff);
    for (k, &b) in others.iter().enumerate() {
        held.extend(l.schedule(b, k == 2, cutoff));
    }
    let mut closed_with_absent: Option<(i64, i64)> = None;
    for (n, h) in held.iter().enumerate() {
        let length = Duration::minutes(h.minutes);
        let m = store
            .meetings()
            .create_meeting(
                &scope,
                &actor,
                NewMeeting {
                    org_id: l.orgs[h.org],
                    kind: h.kind,
                    title: h.title.clone(),
                    starts_at: h.starts_at,
                    ends_at: h.starts_at + length,
                    venue: Some(if h.org == first {
                        VENUE.to_owned()
                    } else {
                        "会议室".to_owned()
                    }),
                },
            )
            .await
            .with_context(|| format!("demo meeting {}", h.title))?;
        // who comes: the committee to a 支委会, everyone else to the rest
        let branch = if l.tree.orgs[h.org].kind == OrgKind::Group {
            l.tree.orgs[h.org].parent.unwrap_or(h.org)
        } else {
            h.org
        };
        let attendees: Vec<usize> = if h.kind == MeetingKind::Committee {
            l.tree
                .posts
                .iter()
                .filter(|p| p.org == branch)
                .map(|p| p.person)
                .filter(|&p| l.tree.people[p].status.is_member())
                .collect()
        } else {
            l.members_of(h.org)
        };
        let mut events = Vec::new();
        for (k, &i) in attendees.iter().enumerate() {
            let pid = l.people[i];
            let roll = rng.below(100);
            if roll < 5 && h.kind != MeetingKind::Committee {
                store
                    .meetings()
                    .record_leave(&scope, &actor, m.id, pid, Some(l.pick_leave(&mut rng)))
                    .await
                    .context("demo leave")?;
                continue;
            }
            if roll < 9 && h.kind != MeetingKind::Committee {
                if closed_with_absent.is_none() && h.org == first {
                    closed_with_absent = Some((m.id, pid));
                }
                continue; // absent
            }
            let (who, method, at) = plan_person(&mut rng, h.starts_at, pid, cards[i].as_deref());
            // one 代签到 per meeting of the demo branch
            let (method, reason) = if k == 3 && h.org == first {
                (
                    CheckinMethod::Proxy,
                    Some("本人手机没电，由党小组长代为签到".to_owned()),
                )
            } else {
                (method, None)
            };
            let who = if method == CheckinMethod::Proxy {
                Who::Person(pid)
            } else {
                who
            };
            events.push(NewCheckin {
                event_id: format!("demo-{}-{pid}-in", m.id),
                who,
                method,
                direction: Direction::In,
                at: Some(at),
                reason,
                poster: Poster::Staff,
                confirmed: true,
            });
            // one leaves early from every second meeting
            if k == 5 && n % 2 == 0 {
                events.push(NewCheckin {
                    event_id: format!("demo-{}-{pid}-out", m.id),
                    who: Who::Person(pid),
                    method: CheckinMethod::Manual,
                    direction: Direction::Out,
                    at: Some(h.starts_at + length - Duration::minutes(40)),
                    reason: Some("单位临时有急事".to_owned()),
                    poster: Poster::Staff,
                    confirmed: true,
                });
            }
        }
        checkin_all(store, m.id, events).await?;
        if branch == first {
            l.host_and_recorder(m.id, h.kind, h.org).await?;
        }
        let (text, decisions) = minutes_for(h.kind, &h.title, attendees.len());
        store
            .meetings()
            .set_minutes(&scope, &actor, m.id, &text, &decisions)
            .await
            .context("demo minutes")?;
        store
            .meetings()
            .close_meeting(&scope, &actor, m.id)
            .await
            .context("demo close")?;
    }
    // one absence excused after the meeting, kept as an amendment
    if let Some((mid, pid)) = closed_with_absent {
        store
            .meetings()
            .amend_attendance(
                &scope,
                &actor,
                mid,
                pid,
                AttendanceState::Leave,
                false,
                "会后补交请假条（出差），经书记同意改为请假",
            )
            .await
            .context("demo amendment")?;
    }

    super::live::live_meeting(l, &mut rng, &cards).await?;
    super::live::upcoming(l).await
}

impl Loaded<'_> {
    /// The secretary hosts the branch's meetings (the group leader a group's), the staff member records.
    pub(super) async fn host_and_recorder(
        &self,
        meeting_id: i64,
        kind: MeetingKind,
        org: usize,
    ) -> anyhow::Result<()> {
        let name = |i: usize| self.tree.people[i].name.clone();
        let leader = self
            .tree
            .posts
            .iter()
            .find(|p| p.org == org && p.post == CommitteePost::GroupLeader);
        let host = match leader {
            Some(p) if kind == MeetingKind::Group => name(p.person),
            _ => name(self.tree.secretary),
        };
        let agenda = match kind {
            MeetingKind::Committee => "1. 通报上月工作\n2. 研究本月重点工作\n3. 发展党员和党费收缴情况",
            MeetingKind::BranchCongress => "1. 支委会工作报告\n2. 讨论表决有关事项\n3. 党员发言",
            _ => "1. 集中学习\n2. 交流发言\n3. 书记小结",
        };
        self.store
            .meetings()
            .update_plan(
                &Scope::system(),
                &Actor::system("demo"),
                meeting_id,
                PlanChange {
                    host: Some(Some(host)),
                    recorder: Some(Some(name(self.tree.staff))),
                    agenda: Some(Some(agenda.to_owned())),
                    ..PlanChange::default()
                },
            )
            .await
            .context("demo meeting host")?;
        Ok(())
    }

    fn pick_leave(&self, rng: &mut Rng) -> String {
        rng.pick(&["出差", "病假", "家中有事", "单位值班"]).to_owned()
    }
}

/// Every event of one meeting at once, so the node's writer stores them in a few batches.
pub(super) async fn checkin_all(
    store: &Store,
    meeting_id: i64,
    events: Vec<NewCheckin>,
) -> anyhow::Result<()> {
    let mut set = tokio::task::JoinSet::new();
    for ev in events {
        let s = store.clone();
        set.spawn(async move {
            s.meetings()
                .checkin(&Scope::system(), &Actor::system("demo"), meeting_id, ev)
                .await
        });
    }
    while let Some(r) = set.join_next().await {
        r.context("demo check-in task")?.context("demo check-in")?;
    }
    Ok(())
}

fn minutes_for(kind: MeetingKind, title: &str, n: usize) -> (String, Vec<String>) {
    let (body, decisions): (&str, &[&str]) = match kind {
        MeetingKind::Committee => (
            "书记通报上月工作，支委逐项研究本月党建重点工作、发展党员和党费收缴情况。",
            &[
                "确定本月主题党日活动方案",
                "同意将2名入党积极分子列为发展对象，报上级党委预审",
            ],
        ),
        MeetingKind::BranchCongress => (
            "书记代表支委会报告本季度工作；党员围绕岗位履职发言讨论。",
            &["通过本季度支部工作报告", "表决通过1名预备党员按期转正"],
        ),
        MeetingKind::PartyLecture => (
            "支部书记讲专题党课，党员交流学习体会。",
            &["各党小组于月底前提交学习心得"],
        ),
        MeetingKind::ThemeDay => (
            "按“固定动作+自选动作”开展主题党日，重温入党誓词，交纳党费，开展学习交流。",
            &["下月主题党日结合志愿服务开展"],
        ),
        MeetingKind::Group => (
            "党小组长领学，党员逐一发言，交流学习体会和思想工作情况。",
            &["小组成员结对帮带新入党同志"],
        ),
        MeetingKind::LifeMeeting => (
            "支委会对照检查，党员开展批评和自我批评。",
            &["形成问题清单并明确整改时限"],
        ),
        MeetingKind::Evaluation => ("党员个人自评、党员互评和民主测评。", &["评定优秀等次党员3名"]),
        _ => ("会议按议程进行。", &[]),
    };
    (
        format!("{title}\n应到{n}人。{body}"),
        decisions.iter().map(|d| (*d).to_owned()).collect(),
    )
}
