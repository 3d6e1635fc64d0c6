//! The permission guard's output. A `Scope` is the set of org subtrees (and, for a member, their
//! own record) a caller may see for one capability. Only `Grants::scope` makes one, and `Grants`
//! comes only from the database, so a store query that takes `&Scope` cannot be reached without
//! the check. Outside the scope, things do not exist (404).

use crate::error::{StoreError, StoreResult};

/// A role granted on an org subtree (API.md roles).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Admin,
    OrgAdmin,
    Secretary,
    Committee,
    Staff,
    Member,
    Device,
}

impl Role {
    pub const ALL: &'static [Role] = &[
        Role::Admin,
        Role::OrgAdmin,
        Role::Secretary,
        Role::Committee,
        Role::Staff,
        Role::Member,
        Role::Device,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::OrgAdmin => "org_admin",
            Role::Secretary => "secretary",
            Role::Committee => "committee",
            Role::Staff => "staff",
            Role::Member => "member",
            Role::Device => "device",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|r| r.as_str() == s)
    }
    pub fn label_zh(self) -> &'static str {
        match self {
            Role::Admin => "系统管理员",
            Role::OrgAdmin => "组织管理员",
            Role::Secretary => "支部书记",
            Role::Committee => "支委委员",
            Role::Staff => "会务人员",
            Role::Member => "党员",
            Role::Device => "设备",
        }
    }
    /// How much power a role carries; a grantor may give only roles at or below their own.
    pub fn rank(self) -> u8 {
        match self {
            Role::Admin => 6,
            Role::OrgAdmin => 5,
            Role::Secretary => 4,
            Role::Committee => 3,
            Role::Staff => 2,
            Role::Member => 1,
            Role::Device => 0,
        }
    }
    pub fn has(self, cap: Cap) -> bool {
        use Cap::*;
        match self {
            Role::Admin => true,
            Role::OrgAdmin => !matches!(cap, CheckIn),
            Role::Secretary => !matches!(cap, CheckIn | ManageTokens),
            Role::Committee => matches!(cap, ReadOrg | ReadMembers | RunMeetings | CollectDues),
            Role::Staff => matches!(cap, ReadOrg | ReadMembers | RunMeetings),
            Role::Member => matches!(cap, ReadOrg),
            Role::Device => matches!(cap, CheckIn),
        }
    }
}

/// What a request wants to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cap {
    ReadOrg,
    WriteOrg,
    ReadMembers,
    WriteMembers,
    /// See ID numbers and phones unmasked.
    FullIdentity,
    ManageAccounts,
    ReadAudit,
    RunMeetings,
    CheckIn,
    /// Record dues payments, hardship and arrears decisions, 上缴 (the branch's collector).
    CollectDues,
    /// List and revoke the bearer tokens of logins one may manage (admin, org_admin).
    ManageTokens,
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct Grant {
    pub id: i64,
    pub role: Role,
    pub org_id: i64,
    #[serde(skip)]
    pub org_path: String,
}

/// Whether a grant of `mine` outranks a grant of `theirs` — the rule for managing a login.
///
/// `mine` outranks `theirs` when `mine`'s org is `theirs`'s org or one of its ancestors, and
/// either `mine` carries a higher role (`Role::rank`), or the same role on a *strict* ancestor.
/// So a branch secretary outranks a member or staff of the branch and of its groups, the
/// secretary of a general branch outranks the secretaries of its branches, and nobody outranks
/// a peer: the same role on the same org. Paths are materialized (`/1/4/`), so "is the org or an
/// ancestor" is a prefix test.
pub fn outranks(mine: (Role, &str), theirs: (Role, &str)) -> bool {
    let (my_role, my_path) = mine;
    let (their_role, their_path) = theirs;
    if !their_path.starts_with(my_path) {
        return false;
    }
    my_role.rank() > their_role.rank() || (my_role == their_role && their_path.len() > my_path.len())
}

/// A user's grants as loaded from the database (no public constructor).
#[derive(Clone, Debug)]
pub struct Grants {
    pub(crate) user_id: i64,
    pub(crate) person_id: Option<i64>,
    pub(crate) list: Vec<Grant>,
}

impl Grants {
    pub fn list(&self) -> &[Grant] {
        &self.list
    }
    pub fn user_id(&self) -> i64 {
        self.user_id
    }
    pub fn person_id(&self) -> Option<i64> {
        self.person_id
    }
    pub fn has_role(&self, role: Role) -> bool {
        self.list.iter().any(|g| g.role == role)
    }
    /// The highest role held on `path` or one of its ancestors.
    pub fn best_rank_over(&self, path: &str) -> Option<u8> {
        self.list
            .iter()
            .filter(|g| path.starts_with(&g.org_path))
            .map(|g| g.role.rank())
            .max()
    }

    /// Whether these grants may manage (reset, disable, enable, grant to, revoke from, revoke the
    /// tokens of) the login holding `target`, whose member record, if any, lies at `person_path`.
    ///
    /// Every grant of the login must be outranked ([`outranks`]) by one of our grants whose role
    /// carries `cap`, and so must its member record, taken as a `member` grant on the record's org
    /// (a login bound to a person acts as that member). So a login without grants is managed by
    /// whoever manages accounts over the person's record, and a login without either by nobody.
    /// Taking over a login gives all it holds: no part of it may lie outside or above us.
    pub fn may_manage(&self, cap: Cap, target: &[Grant], person_path: Option<&str>) -> bool {
        let mine: Vec<&Grant> = self.list.iter().filter(|g| g.role.has(cap)).collect();
        let covered = |role: Role, path: &str| {
            mine.iter()
                .any(|m| outranks((m.role, m.org_path.as_str()), (role, path)))
        };
        let held: Vec<(Role, &str)> = target
            .iter()
            .map(|g| (g.role, g.org_path.as_str()))
            .chain(person_path.map(|p| (Role::Member, p)))
            .collect();
        !held.is_empty() && held.into_iter().all(|(role, path)| covered(role, path))
    }

    /// The visible scope for a capability, or 403 if no grant carries it at all. Everyone may
    /// read their own member record (in full), whatever their grants.
    pub fn scope(&self, cap: Cap) -> StoreResult<Scope> {
        let mut paths: Vec<String> = self
            .list
            .iter()
            .filter(|g| g.role.has(cap))
            .map(|g| g.org_path.clone())
            .collect();
        let own_record = matches!(cap, Cap::ReadMembers | Cap::FullIdentity);
        if paths.is_empty() && !(own_record && self.person_id.is_some()) {
            return Err(StoreError::Forbidden);
        }
        // keep only the outermost paths: a subtree inside another adds nothing
        paths.sort();
        paths.dedup();
        let mut outer: Vec<String> = Vec::new();
        for p in paths {
            if !outer.iter().any(|o| p.starts_with(o.as_str())) {
                outer.push(p);
            }
        }
        let full_paths = if matches!(cap, Cap::FullIdentity) {
            outer.clone()
        } else {
            let mut f: Vec<String> = self
                .list
                .iter()
                .filter(|g| g.role.has(Cap::FullIdentity))
                .map(|g| g.org_path.clone())
                .collect();
            f.sort();
            f
        };
        Ok(Scope {
            paths: outer,
            full_paths,
            self_person: if own_record { self.person_id } else { None },
            own_person: self.person_id,
        })
    }
}

#[derive(Clone, Debug)]
pub struct Scope {
    paths: Vec<String>,
    full_paths: Vec<String>,
    self_person: Option<i64>,
    own_person: Option<i64>,
}

impl Scope {
    /// The scope of the system itself (CLI commands, demo loading): everything.
    pub fn system() -> Self {
        Self {
            paths: vec!["/".into()],
            full_paths: vec!["/".into()],
            self_person: None,
            own_person: None,
        }
    }

    pub fn contains_path(&self, path: &str) -> bool {
        self.paths.iter().any(|p| path.starts_with(p.as_str()))
    }

    pub fn sees_person(&self, person_id: i64, org_path: &str) -> bool {
        self.self_person == Some(person_id) || self.contains_path(org_path)
    }

    /// Whether ID numbers and phones of this person are shown in full.
    pub fn full_identity(&self, person_id: i64, org_path: &str) -> bool {
        self.own_person == Some(person_id) || self.full_paths.iter().any(|p| org_path.starts_with(p.as_str()))
    }

    pub fn paths(&self) -> &[String] {
        &self.paths
    }

    /// The user's own member record, if they have one.
    pub fn own_person(&self) -> Option<i64> {
        self.own_person
    }

    /// A SQL condition restricting `path_col` to the scope (and `person_col` to the own record),
    /// using placeholders from `$first+1` on; returns the condition and the values to bind in order.
    /// Subtrees are index-friendly ranges: `path >= '/1/4/' AND path < '/1/40'` ('0' follows '/').
    pub fn sql_filter(
        &self,
        path_col: &str,
        person_col: Option<&str>,
        first: usize,
    ) -> (String, Vec<String>) {
        let mut parts = Vec::new();
        let mut binds = Vec::new();
        for p in &self.paths {
            let upper = crate::paths::upper_bound(p);
            let n = first + binds.len();
            parts.push(format!("({path_col} >= ${} AND {path_col} < ${})", n + 1, n + 2));
            binds.push(p.clone());
            binds.push(upper);
        }
        if let (Some(col), Some(id)) = (person_col, self.self_person) {
            // an integer from our own database: safe to write into the SQL text
            parts.push(format!("{col} = {id}"));
        }
        if parts.is_empty() {
            return ("1 = 0".into(), binds);
        }
        (format!("({})", parts.join(" OR ")), binds)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grants(list: &[(Role, &str)], person: Option<i64>) -> Grants {
        Grants {
            user_id: 1,
            person_id: person,
            list: list
                .iter()
                .enumerate()
                .map(|(i, (r, p))| Grant {
                    id: i as i64,
                    role: *r,
                    org_id: 1,
                    org_path: (*p).into(),
                })
                .collect(),
        }
    }

    #[test]
    fn a_member_without_grants_still_reads_their_own_record() {
        let s = grants(&[(Role::Member, "/1/2/")], Some(7))
            .scope(Cap::ReadMembers)
            .unwrap();
        assert!(s.sees_person(7, "/1/2/"));
        assert!(!s.sees_person(8, "/1/2/"));
        assert!(s.full_identity(7, "/1/2/"));
    }

    #[test]
    fn no_grant_with_the_capability_is_forbidden() {
        assert!(matches!(
            grants(&[(Role::Staff, "/1/")], None).scope(Cap::WriteMembers),
            Err(StoreError::Forbidden)
        ));
    }

    #[test]
    fn nested_grants_collapse_to_the_outer_subtree() {
        let s = grants(&[(Role::Secretary, "/1/2/"), (Role::Admin, "/1/")], None)
            .scope(Cap::ReadMembers)
            .unwrap();
        assert_eq!(s.paths(), ["/1/"]);
        assert!(!s.contains_path("/10/"));
    }

    #[test]
    fn a_higher_role_on_the_org_or_an_ancestor_outranks() {
        assert!(outranks((Role::Secretary, "/1/4/"), (Role::Member, "/1/4/")));
        assert!(outranks((Role::Secretary, "/1/4/"), (Role::Staff, "/1/4/9/")));
        assert!(outranks((Role::Admin, "/1/"), (Role::OrgAdmin, "/1/")));
        for (mine, theirs, why) in [
            (
                (Role::Secretary, "/1/4/"),
                (Role::Member, "/1/"),
                "below is not above",
            ),
            ((Role::Secretary, "/1/4/"), (Role::Member, "/1/5/"), "a sibling"),
            (
                (Role::Secretary, "/1/4/"),
                (Role::Member, "/1/40/"),
                "a prefix of digits is no ancestor",
            ),
            (
                (Role::Staff, "/1/"),
                (Role::Secretary, "/1/4/"),
                "a lower role anywhere",
            ),
        ] {
            assert!(!outranks(mine, theirs), "{why}");
        }
    }

    #[test]
    fn the_same_role_outranks_only_from_a_strict_ancestor() {
        assert!(outranks((Role::Secretary, "/1/4/"), (Role::Secretary, "/1/4/9/")));
        assert!(outranks((Role::OrgAdmin, "/1/"), (Role::OrgAdmin, "/1/4/")));
        assert!(
            !outranks((Role::Secretary, "/1/4/"), (Role::Secretary, "/1/4/")),
            "a peer"
        );
        assert!(!outranks((Role::OrgAdmin, "/1/4/"), (Role::OrgAdmin, "/1/")));
    }

    fn target(list: &[(Role, &str)]) -> Vec<Grant> {
        grants(list, None).list
    }

    #[test]
    fn a_login_is_managed_only_if_every_grant_and_its_record_are_outranked() {
        let sec = grants(&[(Role::Secretary, "/1/4/")], None);
        // a member of the branch who is also secretary of the whole committee
        let boss = target(&[(Role::Member, "/1/4/"), (Role::Secretary, "/1/")]);
        assert!(!sec.may_manage(Cap::ManageAccounts, &boss, Some("/1/4/")));
        assert!(sec.may_manage(
            Cap::ManageAccounts,
            &target(&[(Role::Member, "/1/4/")]),
            Some("/1/4/")
        ));
        // the record counts as a member grant: a member of another branch is not ours to take over
        assert!(!sec.may_manage(
            Cap::ManageAccounts,
            &target(&[(Role::Staff, "/1/4/")]),
            Some("/1/5/")
        ));
        // no grants: whoever manages accounts over the record
        assert!(sec.may_manage(Cap::ManageAccounts, &[], Some("/1/4/9/")));
        assert!(
            !sec.may_manage(Cap::ManageAccounts, &[], None),
            "nothing to hold it by"
        );
        // an org_admin of a branch does not manage the root's org_admin
        let branch_admin = grants(&[(Role::OrgAdmin, "/1/4/")], None);
        assert!(!branch_admin.may_manage(
            Cap::ManageAccounts,
            &target(&[(Role::OrgAdmin, "/1/")]),
            Some("/1/4/")
        ));
        // grants without the capability do not count, however high
        let committee = grants(&[(Role::Committee, "/1/")], None);
        assert!(!committee.may_manage(Cap::ManageAccounts, &target(&[(Role::Member, "/1/4/")]), None));
        // a secretary manages accounts but not tokens
        assert!(!sec.may_manage(Cap::ManageTokens, &target(&[(Role::Member, "/1/4/")]), None));
        assert!(branch_admin.may_manage(Cap::ManageTokens, &target(&[(Role::Member, "/1/4/")]), None));
    }

    #[test]
    fn staff_see_members_masked() {
        let s = grants(&[(Role::Staff, "/1/2/")], None)
            .scope(Cap::ReadMembers)
            .unwrap();
        assert!(s.sees_person(9, "/1/2/5/"));
        assert!(!s.full_identity(9, "/1/2/5/"));
    }
}
