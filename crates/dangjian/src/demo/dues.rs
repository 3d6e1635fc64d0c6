//! Demo dues: this year's base for every member, bills from January to this month, most of
//! them paid (quarterly, by cash or transfer), a few members behind (one more than six months
//! when the year is that far on), one 代缴, one 补交, one 大额党费, one approved hardship waiver
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

/// How far a member has paid this year (a month number, 0 = nothing).
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
    let now_m = i64::from(u8::from(today.month()));
    let root = l.orgs[0];
    let first = l.tree.first_branch;

    let members: Vec<usize> = (0..l.tree.people.len())
        .filter(|&i| l.tree.people[i].status.is_member())
        .collect();
    for &i in &members {
        let p = &l.tree.people[i];
        let new = NewDuesBase {
            person_id: l.people[i],
            year,
            category: p.category,
            base_fen: base_for(&mut rng, p.category),
            override_monthly: None,
            confirmed: false,
        };
        store
            .set_dues_base(&scope, &actor, new)
            .await
            .with_context(|| format!("demo dues base of {}", p.name))?;
    }
    for m in 1..=now_m {
        store
            .generate_dues_bills(&scope, &actor, root, year, Some(m))
            .await
            .with_context(|| format!("demo dues bills {year}-{m}"))?;
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

    if let Some(h) = hardship.filter(|_| now_m >= 7) {
        let app = store
            .apply_dues_hardship(
                &scope,
                &actor,
                NewHardship {
                    person_id: l.people[h],
                    from_ym: year * 100 + 7,
                    to_ym: year * 100 + 12,
                    reduced_to_fen: None,
                    reason: "家人重病，医疗支出大，家庭生活困难，申请免交下半年党费".to_owned(),
                },
            )
            .await
            .context("demo hardship")?;
        let meeting_on = month_date(today.year(), 7, 5).unwrap_or(today);
        let h = store
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
        let plan = if Some(i) == hardship && now_m >= 7 {
            Plan::Through(6)
        } else if behind.contains(&Some(&i)) {
            Plan::Through((now_m - 4).max(0))
        } else if Some(i) == far_behind {
            Plan::Through((now_m - 7).max(0))
        } else if Some(i) == back_pay && now_m >= 9 {
            Plan::BackPay(now_m - 8, now_m - 3)
        } else if rng.percent(8) && now_m >= 3 {
            // a few more a month or two late: still within the usual period
            Plan::Through(now_m - 2)
        } else if rng.percent(55) {
            Plan::Through(now_m)
        } else {
            Plan::Through(now_m - 1)
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
            Some(j) if p.status == MemberStatus::Probationary && i64::from(j.year()) == year => {
                i64::from(u8::from(j.month()))
            }
            _ => 1,
        };
        while m <= through {
            let step = if in_first.contains(&i) { 3 } else { 6 };
            let end = ((m - 1) / step * step + step).min(through);
            let paid_on = month_date(today.year(), end + 1, u8::try_from(rng.range(3, 15)).unwrap_or(8))
                .filter(|d| *d < today)
                .unwrap_or(today - Duration::days(i64::from(rng.range(0, 3))));
            let proxied = Some(i) == proxy_paid && end == through;
            todo.push(NewPayment {
                person_id,
                method,
                months: (m..=end).map(|k| year * 100 + k).collect(),
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
                months: (a..=b).map(|k| year * 100 + k).collect(),
                amount_fen: None,
                voluntary: false,
                payer_person_id: None,
                payer_name: None,
                paid_on: Some(today - Duration::days(10)),
                note: Some(format!("补交{a}–{b}月党费")),
                confirmed: true,
            });
            if b < now_m {
                todo.push(NewPayment {
                    person_id,
                    method: PayMethod::Transfer,
                    months: (b + 1..=now_m - 1).map(|k| year * 100 + k).collect(),
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
                s.record_dues_payment(&Scope::system(), &Actor::system("demo"), p)
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
            paid_on: Some(
                month_date(today.year(), 7, 1)
                    .filter(|d| *d < today)
                    .unwrap_or(today),
            ),
            note: Some("庆祝建党纪念日，自愿交纳大额党费".to_owned()),
            confirmed: true,
        },
    )
    .await?;
    if now_m >= 2 {
        let mut collected = 0;
        for m in 1..now_m {
            collected += store
                .dues_report(&scope, l.orgs[first], year, Some(m))
                .await?
                .total
                .collected_fen;
        }
        store
            .record_dues_remittance(
                &scope,
                &actor,
                NewRemittance {
                    org_id: l.orgs[first],
                    year,
                    month: None,
                    amount_fen: collected + large,
                    large_fen: large,
                    remitted_on: today - Duration::days(i64::from(today.day().min(20)) - 1),
                    note: Some(format!("1–{}月党费及大额党费上缴", now_m - 1)),
                },
            )
            .await
            .context("demo remittance")?;
    }
    Ok(())
}

async fn pay(l: &Loaded<'_>, scope: &Scope, actor: &Actor, p: NewPayment) -> anyhow::Result<()> {
    let who = p.person_id;
    l.store
        .record_dues_payment(scope, actor, p)
        .await
        .with_context(|| format!("demo dues payment of person {who}"))?;
    Ok(())
}
