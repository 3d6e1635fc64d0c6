//! Where rows live in the tree. Every table with an `org_path` column is listed here with what its
//! rows follow, and the two ways the tree changes under them go through this one file: an org
//! moving (everything under its old path moves to the new one) and a person moving (their own
//! records follow them). Visibility is decided by `org_path`, so a row left behind would stay
//! visible to the old subtree's staff and hidden from the new one's (issue 11, item 8). A test
//! compares this list with the schema, so a new table with an `org_path` cannot be forgotten.

use crate::db::Tx;
use crate::error::StoreResult;

/// What a table's `org_path` follows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Follows {
    /// The org the row belongs to (a meeting, a seat plan, a setting): moves with org moves.
    Org,
    /// The person in column `.0` (their dues records): moves with the org and with the person.
    Person(&'static str),
    /// A record of what happened where (the audit trail): never rewritten, and the hash chain
    /// covers it.
    History,
}

/// Every table with an `org_path` column.
pub const PATH_TABLES: &[(&str, Follows)] = &[
    ("person", Follows::Person("id")),
    ("meeting", Follows::Org),
    ("meeting_series", Follows::Org),
    ("seat_plan", Follows::Org),
    ("org_setting", Follows::Org),
    ("dues_remittance", Follows::Org),
    ("dues_base", Follows::Person("person_id")),
    ("dues_bill", Follows::Person("person_id")),
    ("dues_order", Follows::Person("person_id")),
    ("dues_payment", Follows::Person("person_id")),
    ("dues_hardship", Follows::Person("person_id")),
    ("dues_arrears_case", Follows::Person("person_id")),
    ("audit", Follows::History),
];

/// The exclusive upper bound of the subtree at `path` (`/1/4/` → `/1/40`; '0' is the byte
/// after '/'): `org_path >= path AND org_path < upper_bound(path)` is the subtree as one index
/// range. Every subtree query takes its bound from here.
pub(crate) fn upper_bound(path: &str) -> String {
    format!("{}0", &path[..path.len().saturating_sub(1)])
}

/// The deepest org path every one of `paths` lies under (`/1/4/7/` and `/1/4/9/` → `/1/4/`);
/// `/` when they share nothing, or there are none.
pub(crate) fn common_ancestor(paths: &[String]) -> String {
    let Some(first) = paths.first() else {
        return "/".to_owned();
    };
    let mut common: &str = first;
    for p in &paths[1..] {
        while !p.starts_with(common) {
            // drop the last segment: "/1/4/7/" → "/1/4/"
            let trimmed = &common[..common.len().saturating_sub(1)];
            common = match trimmed.rfind('/') {
                Some(i) => &common[..=i],
                None => "/",
            };
            if common == "/" {
                break;
            }
        }
    }
    common.to_owned()
}

/// Rewrites `org_path` of every row under `old` (an org's path, `/1/4/`) to lie under `new`,
/// in every table but the history. The caller rewrites `org.path` itself and the counts.
pub(crate) async fn move_subtree(tx: &mut Tx, old: &str, new: &str) -> StoreResult<()> {
    let cut = i64::try_from(old.len()).unwrap_or(0) + 1;
    let hi = upper_bound(old);
    for (table, follows) in PATH_TABLES {
        if *follows == Follows::History {
            continue;
        }
        // SAFETY of the SQL text: the table name comes from the constant list above
        let sql = format!(
            "UPDATE {table} SET org_path = $1 || substr(org_path, CAST($2 AS INTEGER)) \
             WHERE org_path >= $3 AND org_path < $4"
        );
        with_tx!(tx, c => sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(new).bind(cut).bind(old).bind(&hi)
            .execute(c).await.map(|r| r.rows_affected()))?;
    }
    Ok(())
}

/// Moves a person's own records (everything that follows the person, the person row excepted:
/// its owner sets that with the org, status and counts) to `path`.
pub(crate) async fn move_person(tx: &mut Tx, person_id: i64, path: &str) -> StoreResult<()> {
    for (table, follows) in PATH_TABLES {
        let Follows::Person(column) = follows else {
            continue;
        };
        if *table == "person" {
            continue;
        }
        // SAFETY of the SQL text: table and column names come from the constant list above
        let sql = format!("UPDATE {table} SET org_path = $1 WHERE {column} = $2 AND org_path <> $1");
        with_tx!(tx, c => sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(path).bind(person_id)
            .execute(c).await.map(|r| r.rows_affected()))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::common_ancestor;

    #[test]
    fn the_common_ancestor_is_the_deepest_shared_org_path() {
        let p = |v: &[&str]| common_ancestor(&v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>());
        assert_eq!(p(&["/1/4/7/", "/1/4/9/"]), "/1/4/");
        assert_eq!(p(&["/1/4/7/"]), "/1/4/7/");
        assert_eq!(p(&["/1/4/7/", "/1/4/7/12/"]), "/1/4/7/");
        // /1/4/ is not an ancestor of /1/40/
        assert_eq!(p(&["/1/4/", "/1/40/"]), "/1/");
        assert_eq!(p(&["/1/", "/2/"]), "/");
        assert_eq!(p(&[]), "/");
    }
}
