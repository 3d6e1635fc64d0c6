//! The demo branch's meeting going on now (seats, half checked in, a text for the wall) and its
//! meetings ahead (next week's 主题党日, the first of a monthly series, with a leave request).

use anyhow::Context;
use dangjian_rules::meeting::{Direction, MeetingKind, Poster};
use dangjian_store::meeting::plan::{Every, PlanChange};
use dangjian_store::meeting::seats::{Block, NewSeatPlan, Reserved};
use dangjian_store::meeting::{NewCheckin, NewMeeting};
use dangjian_store::{Actor, Scope};
use time::Duration;

use super::Loaded;
use super::generate::Rng;
use super::meetings::{VENUE, checkin_all, plan_person};

/// The 党课 going on now: started an hour ago, seats assigned, about half checked in.
pub(super) async fn live_meeting(
    l: &Loaded<'_>,
    rng: &mut Rng,
    cards: &[Option<String>],
) -> anyhow::Result<()> {
    let store = l.store;
    let scope = Scope::system();
    let actor = Actor::system("demo");
    let first = l.tree.first_branch;
    let now = store.now();
    let start = now - Duration::hours(1);
    store
        .meetings()
        .put_seat_plan(
            &scope,
            &actor,
            l.orgs[first],
            NewSeatPlan {
                venue: VENUE.to_owned(),
                rows: 6,
                seats_per_row: 10,
                blocks: vec![
                    Block {
                        name: "左区".into(),
                        from_seat: 1,
                        to_seat: 5,
                    },
                    Block {
                        name: "右区".into(),
                        from_seat: 6,
                        to_seat: 10,
                    },
                ],
                reserved: vec![Reserved {
                    row: 1,
                    from_seat: 4,
                    to_seat: 7,
                    purpose: "presidium".into(),
                }],
            },
        )
        .await
        .context("demo seat plan")?;
    let m = store
        .meetings()
        .create_meeting(
            &scope,
            &actor,
            NewMeeting {
                org_id: l.orgs[first],
                kind: MeetingKind::PartyLecture,
                title: "专题党课：学习贯彻党的二十届四中全会精神".to_owned(),
                starts_at: start,
                ends_at: start + Duration::hours(2),
                venue: Some(VENUE.to_owned()),
            },
        )
        .await
        .context("demo live meeting")?;
    l.host_and_recorder(m.id, MeetingKind::PartyLecture, first)
        .await?;
    store
        .meetings()
        .update_plan(
            &scope,
            &actor,
            m.id,
            PlanChange {
                wall_title: Some(Some("专题党课提纲".to_owned())),
                wall_text: Some(Some(
                    "一、深刻认识全会的重大意义\n二、准确把握全会精神的核心要义\n三、结合岗位抓好贯彻落实"
                        .to_owned(),
                )),
                ..PlanChange::default()
            },
        )
        .await
        .context("demo wall text")?;
    // the branch committee on the 主席台 (row 1, seats 4–7), everyone else automatically
    let presidium: Vec<(i64, i64, i64)> = l
        .tree
        .posts
        .iter()
        .filter(|p| p.org == first)
        .map(|p| l.people[p.person])
        .take(4)
        .zip(4..)
        .map(|(pid, seat)| (pid, 1, seat))
        .collect();
    store
        .meetings()
        .assign_seats(&scope, &actor, m.id, &presidium, true)
        .await
        .context("demo seats")?;
    store.checkins.seats_changed();
    let mut events = Vec::new();
    for &i in &l.members_of(first) {
        if !rng.percent(50) {
            continue;
        }
        let pid = l.people[i];
        let (who, method, at) = plan_person(rng, start, pid, cards[i].as_deref());
        events.push(NewCheckin {
            event_id: format!("demo-{}-{pid}-in", m.id),
            who,
            method,
            direction: Direction::In,
            at: Some(at.min(now)),
            reason: None,
            poster: Poster::Staff,
            confirmed: true,
        });
    }
    checkin_all(store, m.id, events).await
}

/// Next week's 主题党日, the first of a monthly series, and the demo member's leave request.
pub(super) async fn upcoming(l: &Loaded<'_>) -> anyhow::Result<()> {
    let store = l.store;
    let first = l.tree.first_branch;
    let day = store.today() + Duration::days(7);
    let start = l.local(day, 14, 30);
    let (_, rows) = store
        .meetings()
        .create_series(
            &Scope::system(),
            &Actor::system("demo"),
            l.orgs[first],
            MeetingKind::ThemeDay,
            "主题党日",
            start,
            start + Duration::hours(2),
            Some(VENUE.to_owned()),
            Every::Month,
            3,
        )
        .await
        .context("demo series")?;
    if let Some(next) = rows.first() {
        let member = l.tree.member;
        store
            .meetings()
            .request_leave(
                &Actor::system("demo"),
                l.people[member],
                next.id,
                "单位安排外出培训，无法参加",
            )
            .await
            .context("demo leave request")?;
    }
    Ok(())
}
