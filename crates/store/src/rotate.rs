//! Key rotation: every encrypted field re-encrypted and every blind index recomputed under new
//! keys, and the fingerprint replaced, in one transaction — so the database is never half under
//! one key and half under another.

use serde_json::json;

use crate::Store;
use crate::audit::{self, Actor};
use crate::error::StoreResult;
use crate::keys::Keys;
use crate::person::ID_INDEX;

#[derive(sqlx::FromRow)]
struct EncryptedRow {
    id: i64,
    id_number_enc: String,
    phone_enc: Option<String>,
}

impl Store {
    /// Re-keys the database from this store's keys to `new`. Returns the number of people
    /// re-encrypted. Run with every node stopped; then give the nodes the new key file.
    pub async fn rotate_keys(&self, actor: &Actor, new: &Keys) -> StoreResult<i64> {
        let (mut tx, now) = self.begin_now().await?;
        let mut after = 0i64;
        let mut count = 0i64;
        loop {
            let rows: Vec<EncryptedRow> = with_tx!(&mut tx, c => sqlx::query_as(
                "SELECT id, id_number_enc, phone_enc FROM person WHERE id > $1 ORDER BY id LIMIT 1000")
                .bind(after).fetch_all(c).await)?;
            let Some(last) = rows.last() else { break };
            after = last.id;
            for r in rows {
                let id_number = self.keys.decrypt(&r.id_number_enc)?;
                let phone = r.phone_enc.as_deref().map(|p| self.keys.decrypt(p)).transpose()?;
                with_tx!(&mut tx, c => sqlx::query(
                    "UPDATE person SET id_number_enc = $1, id_number_index = $2, phone_enc = $3 WHERE id = $4")
                    .bind(new.encrypt(&id_number)).bind(new.blind_index(ID_INDEX, &id_number))
                    .bind(phone.as_deref().map(|p| new.encrypt(p))).bind(r.id)
                    .execute(c).await.map(|r| r.rows_affected()))?;
                count += 1;
            }
        }
        with_tx!(&mut tx, c => sqlx::query("UPDATE meta SET value = $1 WHERE key = 'key_fingerprint'")
            .bind(new.fingerprint()).execute(c).await.map(|r| r.rows_affected()))?;
        tx.audit(actor, now)
            .act("rotate_keys", "keys")
            .before(json!({"fingerprint": self.keys.fingerprint()}))
            .after(json!({"fingerprint": new.fingerprint(), "people": count}))
            .append()
            .await?;
        // every chain's links move to the new keys too (checked under the old ones first)
        audit::rechain_all(
            &self.db,
            &mut tx,
            &audit::ChainKey::of(&self.keys),
            &audit::ChainKey::of(new),
        )
        .await?;
        tx.commit().await?;
        Ok(count)
    }
}
