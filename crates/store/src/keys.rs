//! The deployment's secrets: field encryption (XChaCha20-Poly1305), the blind index (keyed
//! HMAC-SHA256 for exact lookup of encrypted values) and token signing (QR codes). They live in
//! a key file (created in the data dir on first start) or the environment, never in the
//! database; the database keeps only their fingerprint so a node with other keys refuses to start.

use std::path::Path;

use anyhow::{Context, bail};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use chacha20poly1305::XChaCha20Poly1305;
use chacha20poly1305::aead::{Aead, KeyInit};
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

type HmacSha256 = Hmac<Sha256>;

const KEY_LEN: usize = 32;
const NONCE_LEN: usize = 24;

#[derive(Clone)]
pub struct Keys {
    encryption: [u8; KEY_LEN],
    index: [u8; KEY_LEN],
    signing: [u8; KEY_LEN],
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Keys(fingerprint {})", self.fingerprint())
    }
}

#[derive(serde::Serialize, serde::Deserialize)]
struct KeyFile {
    encryption: String,
    index: String,
    signing: String,
}

pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut b = [0u8; N];
    // the OS random source failing is not something to carry on from
    if let Err(e) = getrandom::fill(&mut b) {
        panic!("the operating system's random source failed: {e}");
    }
    b
}

fn decode_key(name: &str, s: &str) -> anyhow::Result<[u8; KEY_LEN]> {
    let v = B64
        .decode(s.trim())
        .with_context(|| format!("key `{name}` is not base64"))?;
    v.try_into()
        .map_err(|_| anyhow::anyhow!("key `{name}` must be {KEY_LEN} bytes"))
}

impl Keys {
    pub fn generate() -> Self {
        Self {
            encryption: random_bytes(),
            index: random_bytes(),
            signing: random_bytes(),
        }
    }

    /// From the three env vars `DANGJIAN_ENCRYPTION_KEY`, `DANGJIAN_INDEX_KEY`,
    /// `DANGJIAN_SIGNING_KEY` (base64, 32 bytes each), if all are set.
    pub fn from_env() -> anyhow::Result<Option<Self>> {
        let get = |n: &str| std::env::var(n).ok().filter(|v| !v.is_empty());
        match (
            get("DANGJIAN_ENCRYPTION_KEY"),
            get("DANGJIAN_INDEX_KEY"),
            get("DANGJIAN_SIGNING_KEY"),
        ) {
            (Some(e), Some(i), Some(s)) => Ok(Some(Self {
                encryption: decode_key("DANGJIAN_ENCRYPTION_KEY", &e)?,
                index: decode_key("DANGJIAN_INDEX_KEY", &i)?,
                signing: decode_key("DANGJIAN_SIGNING_KEY", &s)?,
            })),
            (None, None, None) => Ok(None),
            _ => bail!(
                "set all three of DANGJIAN_ENCRYPTION_KEY, DANGJIAN_INDEX_KEY, DANGJIAN_SIGNING_KEY, or none"
            ),
        }
    }

    pub fn read_file(path: &Path) -> anyhow::Result<Self> {
        // like ssh with a private key: a key file others can read is refused, not used
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(path)
                .with_context(|| format!("reading key file {}", path.display()))?
                .permissions()
                .mode();
            if mode & 0o077 != 0 {
                anyhow::bail!(
                    "key file {} can be read or written by others (mode {:o}): run `chmod 600 {}` \
                     (or give the keys in DANGJIAN_*_KEY)",
                    path.display(),
                    mode & 0o777,
                    path.display()
                );
            }
        }
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading key file {}", path.display()))?;
        let f: KeyFile = serde_json::from_str(&text).with_context(|| {
            format!(
                "key file {} is not valid JSON with encryption/index/signing",
                path.display()
            )
        })?;
        Ok(Self {
            encryption: decode_key("encryption", &f.encryption)?,
            index: decode_key("index", &f.index)?,
            signing: decode_key("signing", &f.signing)?,
        })
    }

    /// Writes the key file readable by its owner only; refuses to overwrite an existing one.
    pub fn write_new_file(&self, path: &Path) -> anyhow::Result<()> {
        let f = KeyFile {
            encryption: B64.encode(self.encryption),
            index: B64.encode(self.index),
            signing: B64.encode(self.signing),
        };
        let text = serde_json::to_string_pretty(&f)?;
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        use std::io::Write;
        let mut file = opts
            .open(path)
            .with_context(|| format!("creating key file {}", path.display()))?;
        file.write_all(text.as_bytes())?;
        file.sync_all()?;
        Ok(())
    }

    /// A short public fingerprint: SHA-256 over the three keys, first 16 hex characters.
    pub fn fingerprint(&self) -> String {
        let mut h = Sha256::new();
        h.update(b"dangjian-keys-v1");
        h.update(self.encryption);
        h.update(self.index);
        h.update(self.signing);
        hex::encode(&h.finalize()[..8])
    }

    /// Encrypts a field value: base64(nonce ‖ ciphertext ‖ tag), a fresh nonce each time.
    pub fn encrypt(&self, plain: &str) -> String {
        let cipher = XChaCha20Poly1305::new(&self.encryption.into());
        let nonce: [u8; NONCE_LEN] = random_bytes();
        match cipher.encrypt(&nonce.into(), plain.as_bytes()) {
            Ok(ct) => {
                let mut out = nonce.to_vec();
                out.extend_from_slice(&ct);
                B64.encode(out)
            }
            // only possible for plaintexts of gigabytes
            Err(_) => panic!("field too large to encrypt"),
        }
    }

    pub fn decrypt(&self, stored: &str) -> anyhow::Result<String> {
        let raw = B64.decode(stored).context("encrypted field is not base64")?;
        if raw.len() < NONCE_LEN {
            bail!("encrypted field too short");
        }
        let (nonce, ct) = raw.split_at(NONCE_LEN);
        let nonce: [u8; NONCE_LEN] = nonce.try_into()?;
        let cipher = XChaCha20Poly1305::new(&self.encryption.into());
        let plain = cipher
            .decrypt(&nonce.into(), ct)
            .map_err(|_| anyhow::anyhow!("encrypted field does not decrypt with this key"))?;
        Ok(String::from_utf8(plain)?)
    }

    /// The blind index of a value: HMAC-SHA256 with the index key, hex. Equal inputs give equal
    /// indexes, so exact lookup works without decrypting; the key keeps it from being guessed.
    pub fn blind_index(&self, purpose: &str, value: &str) -> String {
        hex::encode(self.mac(&self.index, purpose, value.as_bytes()))
    }

    /// Signs a message (QR tokens and the like) with the signing key.
    pub fn sign(&self, purpose: &str, msg: &[u8]) -> [u8; 32] {
        self.mac(&self.signing, purpose, msg)
    }

    pub fn verify(&self, purpose: &str, msg: &[u8], tag: &[u8]) -> bool {
        let Ok(mut m) = HmacSha256::new_from_slice(&self.signing) else {
            return false;
        };
        m.update(purpose.as_bytes());
        m.update(&[0]);
        m.update(msg);
        m.verify_slice(tag).is_ok()
    }

    fn mac(&self, key: &[u8; KEY_LEN], purpose: &str, msg: &[u8]) -> [u8; 32] {
        let mut m = match HmacSha256::new_from_slice(key) {
            Ok(m) => m,
            Err(_) => unreachable!("HMAC takes keys of any length"),
        };
        m.update(purpose.as_bytes());
        m.update(&[0]);
        m.update(msg);
        m.finalize().into_bytes().into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encrypted_fields_round_trip_and_differ_each_time() {
        let k = Keys::generate();
        let a = k.encrypt("11010519491231002X");
        let b = k.encrypt("11010519491231002X");
        assert_ne!(a, b);
        assert_eq!(k.decrypt(&a).unwrap(), "11010519491231002X");
        assert!(Keys::generate().decrypt(&a).is_err());
    }

    #[test]
    fn blind_index_is_stable_per_key() {
        let k = Keys::generate();
        assert_eq!(k.blind_index("id", "x"), k.blind_index("id", "x"));
        assert_ne!(k.blind_index("id", "x"), Keys::generate().blind_index("id", "x"));
    }

    #[test]
    fn signatures_verify_only_with_the_same_key() {
        let k = Keys::generate();
        let tag = k.sign("qr", b"m1");
        assert!(k.verify("qr", b"m1", &tag));
        assert!(!k.verify("qr", b"m2", &tag));
        assert!(!Keys::generate().verify("qr", b"m1", &tag));
    }
}
