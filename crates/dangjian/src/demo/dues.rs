//! Demo dues over the last twelve months, whatever the date (on 1 January too): last year's and
//! this year's base for every member, bills from the same month last year to this month, most of
//! them paid (quarterly, by cash or transfer), a few members behind (two by four months, one by
//! seven, so an arrears case can be opened; on an early date their unpaid run crosses the year
//! boundary), one 代缴, one 补交, one 大额党费, an approved hardship waiver of the last six months
//! and one 上缴 of the demo branch. Through the store's own functions; seeded.

use anyhow::Context;
use dangjian_rules::member::{MemberStatus, PersonCategory};
use dangjian_store::dues::NewDuesBase;
use dangjian_store::dues::hardship::NewHardship;
use dangjian_store::dues::payment::{NewPayment, PayMethod};
use dangjian_store::dues::report::NewRemittance;
use dangjian_store::{Actor, Scope};
use time::{Date, Duration, Month};

use super::Loaded;
use super::generate::Rng;

const SEED: u64 = 0x5EED_D0E5_2026_0001;

/// A monthly base in 分, by category: after-tax pay for those in work, pension for retirees.
fn base_for(rng: &mut Rng, category: PersonCategory) -> Option<i64> {
    match category {
        PersonCategory::InService => Some(i64::from(rng.range(280, 1600)) * 1000),
        PersonCategory::Retired => Some(i64::from(rng.range(250, 800)) * 1000),
        _ => None,
    }
}

/// Months as one running count (`year * 12 + month - 1`), so the window may cross a year.
fn index(year: i64, month: i64) -> i64 {
    year * 12 + month - 1
}

/// `yyyymm` of a month index.
fn ym(i: i64) -> i64 {
    i.div_euclid(12) * 100 + i.rem_euclid(12) + 1
}

/// A day of the month with index `i` (clamped to its length).
fn day_of(i: i64, day: u8) -> Option<Date> {
    month_date(i32::try_from(i.div_euclid(12)).ok()?, i.rem_euclid(12) + 1, day)
}

/// How far a member has paid (a month index; the window's first month − 1 = nothing).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Plan {
    Through(i64),
    /// paid through `.0`, then 补交 of `.0+1 ..= .1` in one payment, then up to date
    BackPay(i64, i64),
}

fn month_date(year: i32, month: i64, day: u8) -> Option<Date> {
    let m = Month::try_from(u8::try_from(month).ok()?).ok()?;
    Date::from_calendar_date(year, m, day.min(m.length(year))).ok()
}

pub(super) async fn load(l: &Loaded<'_>) -> anyhow::Result<()> {
    let store = l.store;
    let scope = Scope::system();
    let actor = Actor::system("demo");
    let mut rng = Rng(SEED);
    let today = store.today();
    let year = i64::from(today.year());
    let now = index(year, i64::from(u8::from(today.month())));
    let window = now - 11;
    let root = l.orgs[0];
    let first = l.tree.first_branch;

    let members: Vec<usize> = (0..l.tree.people.len())
        .filter(|&i| l.tree.people[i].status.is_member())
        .collect();
    for y in [year - 1, year] {
        for &i in &members {
            let p = &l.tree.people[i];
            let new = NewDuesBase {
                person_id: l.people[i],
                year: y,
                category: p.category,
                base_fen: base_for(&mut rng, p.category),
                override_monthly: None,
                change_reason: None,
                confirmed: false,
            };
            store
                .dues()
                .set_dues_base(&scope, &actor, new)
                .await
                .with_context(|| format!("demo dues base {y} of {}", p.name))?;
        }
    }
    for i in window..=now {
        let (y, m) = (i.div_euclid(12), i.rem_euclid(12) + 1);
        store
            .dues()
            .generate_dues_bills(&scope, &actor, root, y, Some(m))
            .await
            .with_context(|| format!("demo dues bills {y}-{m}"))?;
    }

    // the special cases: in the demo branch, away from the demo logins
    let logins = [l.tree.secretary, l.tree.member, l.tree.staff];
    let branch: Vec<usize> = l
        .members_of(first)
        .into_iter()
        .filter(|i| !logins.contains(i) && l.tree.people[*i].status == MemberStatus::Formal)
        .collect();
    let pick = |k: usize| branch.get(k).copied();
    let hardship = branch
        .iter()
        .copied()
        .find(|&i| {
            matches!(
                l.tree.people[i].category,
                PersonCategory::Unemployed | PersonCategory::Relief
            )
        })
        .or_else(|| pick(0));
    let others: Vec<usize> = branch.iter().copied().filter(|&i| Some(i) != hardship).collect();
    let behind = [others.first(), others.get(1)];
    let far_behind = others.get(2).copied();
    let back_pay = others.get(3).copied();
    let proxy_paid = others.get(4).copied();

    // the last six months waived, decided early in the first of them
    let waived_from = now - 5;
    if let Some(h) = hardship {
        let application = NewHardship {
            person_id: l.people[h],
            from_ym: ym(waived_from),
            to_ym: ym(now),
            reduced_to_fen: None,
            reason: "家人重病，医疗支出大，家庭生活困难，申请免交半年党费".to_owned(),
        };
        let app = store
            .dues()
            .apply_dues_hardship(&scope, &actor, application)
            .await
            .context("demo hardship")?;
        let meeting_on = day_of(waived_from, 5).filter(|d| *d <= today).unwrap_or(today);
        let h = store
            .dues()
            .discuss_dues_hardship(
                &scope,
                &actor,
                app.id,
                true,
                meeting_on,
                Some("支委会研究同意".to_owned()),
            )
            .await
            .context("demo hardship discussion")?;
        if h.status == "discussed" {
            store
                .dues()
                .decide_dues_hardship(&scope, &actor, h.id, true, Some("党委会议研究批准".to_owned()))
                .await
                .context("demo hardship decision")?;
        }
    }

    let in_first: Vec<usize> = l.members_of(first);
    let mut queued: Vec<Vec<NewPayment>> = Vec::with_capacity(members.len());
    for &i in &members {
        let person_id = l.people[i];
        let mut todo = Vec::new();
        let plan = if Some(i) == hardship {
            Plan::Through(waived_from - 1)
        } else if behind.contains(&Some(&i)) {
            Plan::Through(now - 4)
        } else if Some(i) == far_behind {
            Plan::Through(now - 7)
        } else if Some(i) == back_pay {
            Plan::BackPay(now - 8, now - 3)
        } else if rng.percent(8) {
            // a few more a month or two late: still within the usual period
            Plan::Through(now - 2)
        } else if rng.percent(55) {
            Plan::Through(now)
        } else {
            Plan::Through(now - 1)
        };
        let (through, back) = match plan {
            Plan::Through(t) => (t, None),
            Plan::BackPay(a, b) => (a, Some((a + 1, b))),
        };
        let method = if rng.percent(40) {
            PayMethod::Cash
        } else {
            PayMethod::Transfer
        };
        // the demo branch quarterly, the others half-yearly, paid early in the month after (or
        // lately, for this month);
        // a probationary member is billed from the month of their 支部大会
        let p = &l.tree.people[i];
        let mut m = match p.joined_on {
            Some(j) if p.status == MemberStatus::Probationary => {
                index(i64::from(j.year()), i64::from(u8::from(j.month()))).max(window)
            }
            _ => window,
        };
        while m <= through {
            let step = if in_first.contains(&i) { 3 } else { 6 };
            let end = (m.div_euclid(step) * step + step - 1).min(through);
            let paid_on = day_of(end + 1, u8::try_from(rng.range(3, 15)).unwrap_or(8))
                .filter(|d| *d < today)
                .unwrap_or(today - Duration::days(i64::from(rng.range(0, 3))));
            let proxied = Some(i) == proxy_paid && end == through;
            todo.push(NewPayment {
                person_id,
                method,
                months: (m..=end).map(ym).collect(),
                amount_fen: None,
                voluntary: false,
                payer_person_id: proxied.then(|| l.people[l.tree.staff]),
                payer_name: None,
                paid_on: Some(paid_on),
                note: proxied.then(|| "本人外派，由支部会务人员代缴".to_owned()),
                confirmed: true,
            });
            m = end + 1;
        }
        if let Some((a, b)) = back {
            todo.push(NewPayment {
                person_id,
                method: PayMethod::Transfer,
                months: (a..=b).map(ym).collect(),
                amount_fen: None,
                voluntary: false,
                payer_person_id: None,
                payer_name: None,
                paid_on: Some(today - Duration::days(10)),
                note: Some(format!("补交{}–{}党费", month_label(a), month_label(b))),
                confirmed: true,
            });
            if b < now - 1 {
                todo.push(NewPayment {
                    person_id,
                    method: PayMethod::Transfer,
                    months: (b + 1..now).map(ym).collect(),
                    amount_fen: None,
                    voluntary: false,
                    payer_person_id: None,
                    payer_name: None,
                    paid_on: Some(today - Duration::days(10)),
                    note: None,
                    confirmed: true,
                });
            }
        }
        queued.push(todo);
    }
    // each member's payments in order, the members side by side: the work between commits
    // overlaps (the rows are the same every time, their ids and audit order may differ)
    let mut set = tokio::task::JoinSet::new();
    for todo in queued {
        let s = store.clone();
        set.spawn(async move {
            for p in todo {
                let who = p.person_id;
                s.dues()
                    .record_dues_payment(&Scope::system(), &Actor::system("demo"), p)
                    .await
                    .with_context(|| format!("demo dues payment of person {who}"))?;
            }
            anyhow::Ok(())
        });
    }
    while let Some(r) = set.join_next().await {
        r.context("demo dues payment task")??;
    }

    // a 大额党费 from the secretary, passed up with the branch's 上缴
    let large = 200_000;
    // the last 1 July (建党纪念日) before today
    let large_on = month_date(today.year(), 7, 1)
        .filter(|d| *d < today)
        .or_else(|| month_date(today.year() - 1, 7, 1))
        .unwrap_or(today);
    let large_paid_on_year = i64::from(large_on.year());
    pay(
        l,
        &scope,
        &actor,
        NewPayment {
            person_id: l.people[l.tree.secretary],
            method: PayMethod::Transfer,
            months: Vec::new(),
            amount_fen: Some(large),
            voluntary: true,
            payer_person_id: None,
            payer_name: None,
            paid_on: Some(large_on),
            note: Some("庆祝建党纪念日，自愿交纳大额党费".to_owned()),
            confirmed: true,
        },
    )
    .await?;
    // the branch's 上缴: this year's months before this one, or in January last year's whole year
    let now_m = now.rem_euclid(12) + 1;
    let (remit_year, months) = if now_m >= 2 {
        (year, 1..now_m)
    } else {
        (year - 1, 1..13)
    };
    let mut collected = 0;
    for m in months.clone() {
        collected += store
            .dues()
            .dues_report(&scope, l.orgs[first], remit_year, Some(m))
            .await?
            .total
            .collected_fen;
    }
    let large_in = if large_paid_on_year == remit_year {
        large
    } else {
        0
    };
    store
        .dues()
        .record_dues_remittance(
            &scope,
            &actor,
            NewRemittance {
                org_id: l.orgs[first],
                year: remit_year,
                month: None,
                amount_fen: collected + large_in,
                large_fen: large_in,
                remitted_on: today - Duration::days(i64::from(today.day().min(20)) - 1),
                note: Some(format!(
                    "{remit_year}年{}–{}月党费{}上缴",
                    months.start,
                    months.end - 1,
                    if large_in > 0 { "及大额党费" } else { "" }
                )),
            },
        )
        .await
        .context("demo remittance")?;
    Ok(())
}

/// `2026年3月` for a month index.
fn month_label(i: i64) -> String {
    format!("{}年{}月", i.div_euclid(12), i.rem_euclid(12) + 1)
}

async fn pay(l: &Loaded<'_>, scope: &Scope, actor: &Actor, p: NewPayment) -> anyhow::Result<()> {
    let who = p.person_id;
    l.store
        .dues()
        .record_dues_payment(scope, actor, p)
        .await
        .with_context(|| format!("demo dues payment of person {who}"))?;
    Ok(())
}
