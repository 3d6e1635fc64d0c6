//! The organization tree browser and the org page.

use askama::Template;
use axum::extract::{Path, State};
use axum::response::Response;
use dangjian_store::Cap;
use dangjian_store::org::{OrgHistoryRow, PostRow};

use crate::AppState;
use crate::home::{ChildView, MemberLine, term_ends_on, warning_messages};
use crate::page::PageUser;
use crate::page::Shell;

struct TreeLine {
    id: i64,
    name: String,
    kind: String,
    /// Depth below the top of the visible subtree (for indentation).
    indent: i64,
    member_count: i64,
    formal_count: i64,
    warnings: usize,
}

#[derive(Template)]
#[template(path = "org/tree.html")]
struct TreePage {
    shell: Shell,
    lines: Vec<TreeLine>,
    truncated: bool,
}

const TREE_LIMIT: i64 = 3000;

pub async fn tree(State(state): State<AppState>, PageUser(a): PageUser) -> Response {
    crate::page::page_or_error(&a, async {
        let scope = a.scope(Cap::ReadOrg)?;
        let today = state.store.today();
        let mut lines = Vec::new();
        let mut truncated = false;
        for root in state.store.orgs().scope_roots(&scope).await? {
            let (rows, total) = state.store.orgs().subtree(&scope, root.id, TREE_LIMIT, 0).await?;
            truncated |= total > TREE_LIMIT;
            lines.extend(rows.iter().map(|o| TreeLine {
                id: o.id,
                name: o.name.clone(),
                kind: o.kind.to_string(),
                indent: o.depth - root.depth,
                member_count: o.member_count,
                formal_count: o.formal_count,
                warnings: warning_messages(o, today).len(),
            }));
        }
        Ok(TreePage {
            shell: Shell::of(&a),
            lines,
            truncated,
        })
    })
    .await
}

#[derive(Template)]
#[template(path = "org/show.html")]
struct OrgPage {
    shell: Shell,
    id: i64,
    name: String,
    kind: String,
    branch_type: Option<String>,
    category: String,
    established_on: String,
    term_started_on: String,
    term_ends_on: Option<String>,
    member_count: i64,
    formal_count: i64,
    /// (id, name) from the top of the caller's view down to the parent.
    breadcrumb: Vec<(i64, String)>,
    warnings: Vec<String>,
    posts: Vec<PostRow>,
    children: Vec<ChildView>,
    history: Vec<OrgHistoryRow>,
    members: Vec<MemberLine>,
    members_total: i64,
    can_write_members: bool,
}

pub async fn show(State(state): State<AppState>, PageUser(a): PageUser, Path(id): Path<i64>) -> Response {
    crate::page::page_or_error(&a, async {
        let scope = a.scope(Cap::ReadOrg)?;
        let org = state.store.orgs().org(&scope, id).await?;
        let today = state.store.today();
        let ancestors: Vec<i64> = org.ancestor_ids().into_iter().filter(|i| *i != org.id).collect();
        let breadcrumb = state
            .store
            .orgs()
            .orgs_by_ids(&ancestors)
            .await?
            .into_iter()
            .filter(|o| scope.contains_path(&o.path))
            .map(|o| (o.id, o.name))
            .collect();
        let children = state.store.orgs().children(&scope, id).await?;
        let (members, members_total) = match a.scope(Cap::ReadMembers) {
            Ok(ms) if ms.contains_path(&org.path) => {
                let f = dangjian_store::person::PersonFilter {
                    org_id: Some(id),
                    limit: 20,
                    ..Default::default()
                };
                state.store.members().people(&ms, &f).await?
            }
            _ => (Vec::new(), 0),
        };
        let page = OrgPage {
            id: org.id,
            name: org.name.clone(),
            kind: org.kind.to_string(),
            branch_type: crate::home::named_branch_type(&org),
            category: org.category.to_string(),
            established_on: crate::home::date_or_dash(org.established_on),
            term_started_on: crate::home::date_or_dash(org.term_started_on),
            term_ends_on: term_ends_on(&org),
            member_count: org.member_count,
            formal_count: org.formal_count,
            breadcrumb,
            warnings: warning_messages(&org, today),
            posts: state.store.orgs().posts(&scope, id, false).await?,
            children: children.iter().map(|c| ChildView::of(c, today)).collect(),
            history: state.store.orgs().org_history(&scope, id).await?,
            members: members.into_iter().map(MemberLine::of).collect(),
            members_total,
            can_write_members: a
                .scope(Cap::WriteMembers)
                .is_ok_and(|s| s.contains_path(&org.path))
                && org.kind().holds_members(),
            shell: Shell::of(&a),
        };
        Ok(page)
    })
    .await
}
