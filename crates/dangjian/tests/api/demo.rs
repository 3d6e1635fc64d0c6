//! The demo data's meetings and dues: what `serve --demo` shows is there and adds up.

use std::sync::Arc;

use dangjian_store::meeting::plan::{MeetingFilter, PlanRow};
use dangjian_store::{Cap, FixedClock, Keys, Scope, Store};
use time::macros::datetime;

use crate::helpers::TestDb;

/// Loads the demo as of `now`; returns the store and the ids of the root and the secretary's branch.
#[expect(clippy::unwrap_used, reason = "test setup: a failure is the test's failure")]
async fn demo_at(now: time::OffsetDateTime) -> (TestDb, Store, i64, i64) {
    let db = TestDb::new().await;
    let store = Store::open(&db.target, Keys::generate(), Arc::new(FixedClock::new(now)))
        .await
        .unwrap();
    let hash = dangjian_web::auth::hash_password("demo1234").unwrap();
    dangjian::demo::load::load(&store, &hash).await.unwrap();
    let root_of = |name: &'static str| {
        let store = store.clone();
        async move {
            let user = store.accounts().user_by_name(name).await.unwrap().unwrap();
            let grants = store.accounts().grants(user.id, user.person_id).await.unwrap();
            let roots = store
                .orgs()
                .scope_roots(&grants.scope(Cap::WriteMembers).unwrap())
                .await
                .unwrap();
            assert_eq!(roots.len(), 1, "{name} has one root");
            roots[0].id
        }
    };
    let root = root_of("admin").await;
    let branch = root_of("secretary").await;
    (db, store, root, branch)
}

/// The meetings of `branch` and the organizations below it.
#[expect(clippy::unwrap_used, reason = "test setup: a failure is the test's failure")]
async fn meetings_of(store: &Store, branch: i64) -> Vec<PlanRow> {
    let filter = MeetingFilter {
        org_id: Some(branch),
        subtree: true,
        limit: 500,
        ..MeetingFilter::default()
    };
    store
        .meetings()
        .list_meetings(&Scope::system(), &filter)
        .await
        .unwrap()
        .0
}

#[tokio::test]
async fn the_demo_has_a_live_meeting_closed_ones_with_minutes_and_dues_that_add_up() {
    let (_db, store, root, branch) = demo_at(datetime!(2026-11-25 02:00 UTC)).await;
    let scope = Scope::system();
    let meetings = meetings_of(&store, branch).await;

    // one meeting going on, about half of the branch checked in
    let open: Vec<_> = meetings.iter().filter(|m| m.status == "open").collect();
    assert_eq!(open.len(), 1, "one live meeting");
    let live = store.meetings().attendance(&scope, open[0].id).await.unwrap();
    assert!(live.counts.present >= 5, "{:?}", live.counts);
    assert!(live.counts.absent >= 5, "{:?}", live.counts);
    assert!(
        !store.meetings().seat_labels(open[0].id).await.unwrap().is_empty(),
        "seats assigned"
    );

    // closed meetings with minutes, decisions and a full sheet
    let closed: Vec<_> = meetings.iter().filter(|m| m.status == "closed").collect();
    assert!(closed.len() >= 10, "{} closed", closed.len());
    let mut late = 0;
    let mut leave = 0;
    for m in &closed {
        let minutes = store.meetings().minutes(&scope, m.id).await.unwrap();
        assert!(!minutes.minutes.is_empty(), "minutes of {}", m.title);
        assert!(!minutes.decisions.is_empty(), "decisions of {}", m.title);
        let sheet = store.meetings().attendance(&scope, m.id).await.unwrap();
        let c = sheet.counts;
        assert_eq!(c.present + c.leave + c.absent + c.left_early, c.expected);
        assert!(c.present > 0, "{} had people", m.title);
        late += sheet.lines.iter().filter(|l| l.line.late).count();
        leave += c.leave;
    }
    assert!(late > 0 && leave > 0, "late {late}, leave {leave}");

    // ahead: a monthly 主题党日 series, the first with the demo member's pending leave request
    let planned: Vec<_> = meetings
        .iter()
        .filter(|m| m.status == "planned" && m.series_id.is_some())
        .collect();
    assert_eq!(planned.len(), 3);
    let first = planned.iter().min_by_key(|m| m.starts_at).unwrap();
    let requests = store.meetings().leave_requests(&scope, first.id).await.unwrap();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].status, "pending");

    // the branch is on cadence; somewhere in the tree a branch is behind
    let today = store.today();
    let cadence = store.meetings().cadence(&scope, branch, today).await.unwrap();
    assert!(cadence.org.tally.done >= 4, "{:?}", cadence.org.tally);
    assert_eq!(cadence.org.tally.overdue, 0, "{:?}", cadence.org.tally);
    let all = store.meetings().cadence(&scope, root, today).await.unwrap();
    assert!(all.total.overdue > 0);

    // dues: January to November billed, most paid, a few behind, and the report adds up
    let report = store.dues().dues_report(&scope, root, 2026, None).await.unwrap();
    let t = &report.total;
    assert!(t.bills > 11 * 400, "{} bills", t.bills);
    assert_eq!(t.billed_fen, t.collected_fen + t.outstanding_fen + t.waived_fen);
    assert!(t.collected_fen > t.outstanding_fen * 5, "{t:?}");
    assert!(t.waived_fen > 0, "a hardship waiver: {t:?}");
    let sum = |f: fn(&dangjian_store::dues::report::DuesFigures) -> i64| {
        report.by_category.iter().map(f).sum::<i64>()
    };
    assert_eq!(sum(|c| c.billed_fen), t.billed_fen);
    assert_eq!(sum(|c| c.collected_fen), t.collected_fen);
    assert!(report.large_fen >= 100_000, "a 大额党费");
    let branch_report = store
        .dues()
        .dues_report(&scope, branch, 2026, None)
        .await
        .unwrap();
    assert!(branch_report.remitted_fen > 0, "the branch's 上缴");

    let member = store.accounts().user_by_name("member").await.unwrap().unwrap();
    let mine = store
        .dues()
        .member_dues(&scope, member.person_id.unwrap(), 2026)
        .await
        .unwrap();
    let status = |s: &str| {
        mine.months
            .iter()
            .filter(|m| m.status.map(|st| st.as_str()) == Some(s))
            .count()
    };
    assert!(status("paid") >= 9, "{:?}", mine.months);
    assert_eq!(status("paid") + status("due"), 11, "{:?}", mine.months);

    let arrears = store.dues().dues_arrears(&scope, branch).await.unwrap();
    assert!(arrears.items.len() >= 3, "{:?}", arrears.items);
    assert!(arrears.items.iter().any(|l| l.months_unpaid >= 6));

    assert_eq!(
        crate::helpers::verify_audit_chain(&store.db, &store.keys).await,
        Ok(crate::helpers::audit_count(&store).await)
    );
}

#[tokio::test]
async fn the_demo_loads_early_in_the_year_too() {
    let (_db, store, root, _) = demo_at(datetime!(2027-01-04 01:00 UTC)).await;
    let report = store
        .dues()
        .dues_report(&Scope::system(), root, 2027, None)
        .await
        .unwrap();
    let t = &report.total;
    assert!(t.bills > 400);
    assert_eq!(t.billed_fen, t.collected_fen + t.outstanding_fen + t.waived_fen);
}

/// What the demo must show whatever the date: a live meeting, held meetings with minutes, the
/// demo branch on cadence and another behind, twelve months of dues for the demo member, members
/// behind on dues (one by six months or more, across a year boundary early in the year), a
/// report that adds up, and an intact audit chain.
#[expect(clippy::unwrap_used, reason = "test: a failure is the test's failure")]
async fn assert_demo_looks_right(now: time::OffsetDateTime) {
    let (_db, store, root, branch) = demo_at(now).await;
    let scope = Scope::system();
    let today = store.today();
    let meetings = meetings_of(&store, branch).await;
    let open: Vec<_> = meetings.iter().filter(|m| m.status == "open").collect();
    assert_eq!(open.len(), 1, "{today}: one live meeting");
    assert!(
        open[0].starts_at <= store.now(),
        "{today}: the live meeting has started"
    );
    let live = store.meetings().attendance(&scope, open[0].id).await.unwrap();
    assert!(live.counts.present >= 5, "{today}: {:?}", live.counts);
    let closed = meetings.iter().filter(|m| m.status == "closed").count();
    assert!(closed >= 10, "{today}: {closed} closed");
    assert!(
        meetings
            .iter()
            .filter(|m| m.status == "closed")
            .all(|m| m.ends_at < store.now()),
        "{today}: closed meetings lie in the past"
    );
    let planned = meetings
        .iter()
        .filter(|m| m.status == "planned" && m.series_id.is_some())
        .count();
    assert_eq!(planned, 3, "{today}: the series ahead");

    let cadence = store.meetings().cadence(&scope, branch, today).await.unwrap();
    assert_eq!(cadence.org.tally.overdue, 0, "{today}: {:?}", cadence.org.tally);
    let all = store.meetings().cadence(&scope, root, today).await.unwrap();
    assert!(all.total.overdue > 0, "{today}: a branch behind");

    // the member: each of the last twelve months billed, this year's and last year's
    let member = store.accounts().user_by_name("member").await.unwrap().unwrap();
    let year = i64::from(today.year());
    let month = i64::from(u8::from(today.month()));
    let mut billed = 0;
    for y in [year - 1, year] {
        let d = store
            .dues()
            .member_dues(&scope, member.person_id.unwrap(), y)
            .await
            .unwrap();
        assert!(d.base.is_some(), "{today}: a base for {y}");
        billed += d.months.iter().filter(|m| m.status.is_some()).count();
    }
    assert_eq!(billed, 12, "{today}: the last twelve months billed");

    let arrears = store.dues().dues_arrears(&scope, branch).await.unwrap();
    assert!(arrears.items.len() >= 3, "{today}: {:?}", arrears.items);
    let far = arrears.items.iter().find(|l| l.months_unpaid >= 6);
    assert!(far.is_some(), "{today}: someone six months behind");
    if month < 7 {
        let first = &far.unwrap().first_unpaid;
        assert!(
            first.starts_with(&(year - 1).to_string()),
            "{today}: the run starts last year ({first})"
        );
    }
    for y in [year - 1, year] {
        let t = store
            .dues()
            .dues_report(&scope, root, y, None)
            .await
            .unwrap()
            .total;
        assert_eq!(
            t.billed_fen,
            t.collected_fen + t.outstanding_fen + t.waived_fen,
            "{today}"
        );
    }
    let waived: i64 = {
        let mut w = 0;
        for y in [year - 1, year] {
            w += store
                .dues()
                .dues_report(&scope, root, y, None)
                .await
                .unwrap()
                .total
                .waived_fen;
        }
        w
    };
    assert!(waived > 0, "{today}: a hardship waiver");

    assert_eq!(
        crate::helpers::verify_audit_chain(&store.db, &store.keys).await,
        Ok(crate::helpers::audit_count(&store).await)
    );
}

#[tokio::test]
async fn the_demo_looks_right_on_new_years_day() {
    assert_demo_looks_right(datetime!(2027-01-01 10:00 +8)).await;
}

#[tokio::test]
async fn the_demo_looks_right_on_29_february() {
    assert_demo_looks_right(datetime!(2028-02-29 10:00 +8)).await;
}

#[tokio::test]
async fn the_demo_looks_right_on_a_quarters_last_and_first_day() {
    assert_demo_looks_right(datetime!(2026-03-31 10:00 +8)).await;
    assert_demo_looks_right(datetime!(2026-04-01 10:00 +8)).await;
}

#[tokio::test]
async fn the_demo_looks_right_late_on_new_years_eve() {
    assert_demo_looks_right(datetime!(2026-12-31 23:30 +8)).await;
}
