//! Puts the generated demo tree into a database, with the demo logins of API.md.

use anyhow::Context;
use dangjian_rules::org::OrgKind;
use dangjian_store::org::{NewOrg, NewPost};
use dangjian_store::person::NewPerson;
use dangjian_store::{Actor, Role, Scope, Store};

use super::generate::{DemoTree, generate};

pub const DEMO_PASSWORD: &str = "demo1234";

/// The demo logins: username, role, what they see.
pub const DEMO_LOGINS: &[(&str, &str)] = &[
    ("admin", "系统管理员，全部组织"),
    ("secretary", "第一个党支部的书记"),
    ("member", "该支部的普通党员"),
    ("staff", "该支部的会务人员"),
];

/// Loads the demo data into an empty database. Returns the generated tree.
pub async fn load(store: &Store, password_hash: &str) -> anyhow::Result<DemoTree> {
    let tree = generate(store.today());
    let scope = Scope::system();
    let actor = Actor::system("demo");
    let mut org_ids: Vec<i64> = Vec::with_capacity(tree.orgs.len());
    for o in &tree.orgs {
        let row = store
            .orgs()
            .create_org(
                &scope,
                &actor,
                NewOrg {
                    parent_id: o.parent.map(|p| org_ids[p]),
                    name: o.name.clone(),
                    kind: o.kind,
                    branch_type: o.branch_type,
                    category: o.category,
                    established_on: Some(o.established_on),
                    term_started_on: o.term_started_on,
                    term_years: o.term_years.map(i64::from),
                    joint_units: (o.branch_type == Some(dangjian_rules::BranchType::Joint)).then_some(4),
                },
            )
            .await
            .with_context(|| format!("creating demo org {}", o.name))?;
        org_ids.push(row.id);
    }
    let people: Vec<NewPerson> = tree
        .people
        .iter()
        .map(|p| NewPerson {
            org_id: org_ids[p.org],
            name: p.name.clone(),
            gender: p.gender,
            ethnicity: Some(p.ethnicity.clone()),
            birth_date: p.birth_date,
            id_number: p.id_number.clone(),
            phone: Some(p.phone.clone()),
            education: Some(p.education.clone()),
            category: p.category,
            status: p.status,
            joined_on: p.joined_on,
            regularized_on: p.regularized_on,
            work_unit: Some(p.work_unit.clone()),
            recorded_on: None,
            history: p.history.clone(),
        })
        .collect();
    let person_ids = store
        .members()
        .create_people(&scope, &actor, &people)
        .await
        .context("creating demo people")?;
    for post in &tree.posts {
        let org = &tree.orgs[post.org];
        let started = org.term_started_on.unwrap_or(org.established_on);
        store
            .orgs()
            .add_post(
                &scope,
                &actor,
                NewPost {
                    org_id: org_ids[post.org],
                    person_id: person_ids[post.person],
                    post: post.post,
                    started_on: started,
                    confirmed_warnings: &[],
                },
            )
            .await
            .context("creating demo posts")?;
    }
    let root = org_ids[0];
    let branch = org_ids[tree.first_branch];
    // a login with a member record holds a member grant on that record's org
    let person_org = |i: usize| org_ids[tree.people[i].org];
    // (username, index of its member record, grants)
    type Login<'a> = (&'a str, Option<usize>, Vec<(Role, i64)>);
    let logins: [Login; 4] = [
        ("admin", None, vec![(Role::Admin, root)]),
        (
            "secretary",
            Some(tree.secretary),
            vec![
                (Role::Secretary, branch),
                (Role::Member, person_org(tree.secretary)),
            ],
        ),
        (
            "member",
            Some(tree.member),
            vec![(Role::Member, person_org(tree.member))],
        ),
        (
            "staff",
            Some(tree.staff),
            vec![(Role::Staff, branch), (Role::Member, person_org(tree.staff))],
        ),
    ];
    for (username, person, grants) in logins {
        let person_id = person.map(|i| person_ids[i]);
        store
            .accounts()
            .create_user(&actor, username, password_hash, person_id, false, &grants)
            .await?;
    }
    debug_assert!(tree.orgs[0].kind == OrgKind::Committee);
    let loaded = super::Loaded {
        store,
        tree: &tree,
        orgs: &org_ids,
        people: &person_ids,
    };
    // the demo's check-ins go through a writer of their own, stopped (drained) before the
    // server starts the node's
    let writer = store
        .start_checkin_writer(None)
        .context("the demo's check-in writer")?;
    let meetings = super::meetings::load(&loaded).await.context("demo meetings");
    writer.stop().await;
    meetings?;
    super::dues::load(&loaded).await.context("demo dues")?;
    Ok(tree)
}
