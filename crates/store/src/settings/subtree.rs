//! Settings per org subtree (`org_setting`): an org sets a [`SubtreeKey`] for everything under
//! it; the nearest org up the tree that sets a key wins, else the deployment's value. Read where
//! a rule needs the threshold for one org (a meeting's, a member's), written with an audit row.

use serde_json::json;

use super::{Settings, SubtreeKey};
use crate::Store;
use crate::audit::Actor;
use crate::error::StoreResult;
use crate::org::{OrgRow, path_ids};
use crate::scope::Grants;

/// The keys set in and above a subtree (`Store::settings_under`), to read any of its orgs'
/// settings without a query each.
pub struct SettingsUnder {
    deployment: Settings,
    set: std::collections::HashMap<i64, Vec<(SubtreeKey, String)>>,
}

impl SettingsUnder {
    /// The settings in force at the org of `path`, nearest org last (it wins).
    pub fn at(&self, path: &str) -> Settings {
        let mut s = self.deployment;
        for org in path_ids(path) {
            for (key, value) in self.set.get(&org).map_or(&[][..], Vec::as_slice) {
                apply_stored(&mut s, *key, value, path);
            }
        }
        s
    }
}

/// A stored value applied to `s`. One that no longer fits (bounds narrowed by a later release)
/// leaves the value above it in force rather than failing every read under the org.
fn apply_stored(s: &mut Settings, key: SubtreeKey, value: &str, path: &str) {
    if key.apply(s, value).is_err() {
        tracing::warn!(
            path,
            key = key.as_str(),
            value,
            "org setting out of bounds, ignored"
        );
    }
}

/// One key as it holds at an org: its value, where it comes from, and the deployment's value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SettingInForce {
    pub key: SubtreeKey,
    pub value: String,
    pub deployment_value: String,
    /// The org that sets it (this org or an ancestor); `None`: the deployment's value holds.
    pub set_by_org: Option<i64>,
}

impl Store {
    /// The settings in force at the org of `path` (`/1/4/9/`).
    pub async fn settings_at(&self, path: &str) -> StoreResult<Settings> {
        let mut s = *self.settings();
        for (_, key, value) in self.overrides_on(path).await? {
            apply_stored(&mut s, key, &value, path);
        }
        Ok(s)
    }

    /// The settings in force at every org of the subtree at `top_path` (a report over many
    /// orgs), from one query: the keys set on the path above it and anywhere below it.
    pub async fn settings_under(&self, top_path: &str) -> StoreResult<SettingsUnder> {
        // paths hold only digits and '/', so LIKE matches prefixes exactly
        let rows: Vec<(i64, String, String)> = with_db!(&self.db, p => sqlx::query_as(
            "SELECT org_id, key, value FROM org_setting \
             WHERE $1 LIKE org_path || '%' OR org_path LIKE $1 || '%'")
            .bind(top_path).fetch_all(p).await)?;
        let mut set: std::collections::HashMap<i64, Vec<(SubtreeKey, String)>> = Default::default();
        for (org, key, value) in rows {
            if let Some(key) = SubtreeKey::parse(&key) {
                set.entry(org).or_default().push((key, value));
            }
        }
        Ok(SettingsUnder {
            deployment: *self.settings(),
            set,
        })
    }

    /// The late grace in force at each of `paths` (meetings of several orgs), each path read once.
    pub async fn grace_of<'p>(
        &self,
        paths: impl Iterator<Item = &'p str>,
    ) -> StoreResult<std::collections::HashMap<String, time::Duration>> {
        let mut out = std::collections::HashMap::new();
        for p in paths {
            if !out.contains_key(p) {
                out.insert(p.to_owned(), self.settings_at(p).await?.grace());
            }
        }
        Ok(out)
    }

    /// Every key at the org of `path`, with where its value comes from.
    pub async fn settings_in_force(&self, path: &str) -> StoreResult<Vec<SettingInForce>> {
        let overrides = self.overrides_on(path).await?;
        let here = self.settings_at(path).await?;
        Ok(SubtreeKey::ALL
            .iter()
            .map(|&key| SettingInForce {
                key,
                value: key.value_in(&here),
                deployment_value: key.value_in(self.settings()),
                set_by_org: overrides
                    .iter()
                    .rev()
                    .find(|(_, k, _)| *k == key)
                    .map(|(org, _, _)| *org),
            })
            .collect())
    }

    /// Sets (`Some`) or clears (`None`) keys for the subtree of `org_id`, in one audited
    /// transaction. Each key needs its capability (`SubtreeKey::cap`) on the org: 403 without
    /// it anywhere, 404 where the org is outside the grant. All or nothing.
    pub async fn set_subtree_settings(
        &self,
        grants: &Grants,
        actor: &Actor,
        org_id: i64,
        changes: &[(SubtreeKey, Option<String>)],
    ) -> StoreResult<Vec<SettingInForce>> {
        let mut org = None;
        for (key, value) in changes {
            org = Some(self.orgs().org(&grants.scope(key.cap())?, org_id).await?);
            if let Some(v) = value {
                key.apply(&mut Settings::default(), v)?;
            }
        }
        let Some(org) = org else {
            return self
                .settings_in_force(
                    &self
                        .orgs()
                        .org(&grants.scope(crate::Cap::ReadOrg)?, org_id)
                        .await?
                        .path,
                )
                .await;
        };
        self.write_settings(actor, &org, changes).await
    }

    /// Writes checked `changes` for the subtree of `org` with its audit row (what the org set
    /// before, what it sets now).
    pub(crate) async fn write_settings(
        &self,
        actor: &Actor,
        org: &OrgRow,
        changes: &[(SubtreeKey, Option<String>)],
    ) -> StoreResult<Vec<SettingInForce>> {
        let before = self.settings_in_force(&org.path).await?;
        let (mut tx, now) = self.begin_now().await?;
        let mut after = serde_json::Map::new();
        for (key, value) in changes {
            with_tx!(&mut tx, c => sqlx::query("DELETE FROM org_setting WHERE org_id = $1 AND key = $2")
                .bind(org.id).bind(key.as_str()).execute(c).await.map(|r| r.rows_affected()))?;
            if let Some(v) = value {
                with_tx!(&mut tx, c => sqlx::query(
                    "INSERT INTO org_setting (org_id, org_path, key, value, updated_by, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6)")
                    .bind(org.id).bind(&org.path).bind(key.as_str()).bind(v.trim()).bind(actor.user_id).bind(now)
                    .execute(c).await.map(|r| r.rows_affected()))?;
            }
            after.insert(key.as_str().into(), json!(value.as_deref().map(str::trim)));
        }
        let set_here = |list: &[SettingInForce]| {
            list.iter()
                .filter(|s| s.set_by_org == Some(org.id))
                .map(|s| (s.key.as_str().to_owned(), json!(s.value)))
                .collect::<serde_json::Map<_, _>>()
        };
        tx.into_audit(actor, now)
            .on("update", "org_setting", org.id, &org.path)
            .before(serde_json::Value::Object(set_here(&before)))
            .after(serde_json::Value::Object(after))
            .commit()
            .await?;
        self.settings_in_force(&org.path).await
    }

    /// The keys set on the path, root first: `(org_id, key, value)`. Keys this release does not
    /// know (written by a newer node during an upgrade) are passed over.
    async fn overrides_on(&self, path: &str) -> StoreResult<Vec<(i64, SubtreeKey, String)>> {
        let ids = path_ids(path);
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT org_id, key, value FROM org_setting WHERE org_id IN ({})",
            crate::db::id_list(ids.iter().copied())
        );
        let rows: Vec<(i64, String, String)> =
            with_db!(&self.db, p => sqlx::query_as(sqlx::AssertSqlSafe(sql)).fetch_all(p).await)?;
        let mut known: Vec<(usize, i64, SubtreeKey, String)> = rows
            .into_iter()
            .filter_map(|(org, key, value)| {
                let depth = ids.iter().position(|&i| i == org)?;
                Some((depth, org, SubtreeKey::parse(&key)?, value))
            })
            .collect();
        known.sort_by_key(|(depth, ..)| *depth);
        Ok(known
            .into_iter()
            .map(|(_, org, key, value)| (org, key, value))
            .collect())
    }
}
