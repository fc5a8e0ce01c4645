//! Secrets at rest: ChaCha20-Poly1305 with a random 96-bit nonce per value, stored as
//! `nonce || ciphertext+tag`, with the secret's name as associated data so a value copied to
//! another name does not decrypt.

use std::fmt;
use std::io::{ErrorKind, Write};
use std::path::Path;

use base64::Engine;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use rand::rngs::OsRng;
use rand::{RngCore, TryRngCore};

/// The key file created in the data directory when no key is configured.
pub const KEY_FILE: &str = "secret.key";
const KEY_LEN: usize = 32;
const NONCE_LEN: usize = 12;
const TAG_LEN: usize = 16;

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct KeyError(String);

/// The key secrets are sealed with. Its bytes never appear in `Debug` output.
#[derive(Clone)]
pub struct SecretKey(ChaCha20Poly1305);

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretKey(..)")
    }
}

impl SecretKey {
    pub fn from_bytes(bytes: [u8; KEY_LEN]) -> Self {
        Self(ChaCha20Poly1305::new(&Key::from(bytes)))
    }

    /// `SWITCHYARD_SECRET_KEY` when set (base64 of 32 bytes), else the key file in `data_dir`
    /// (created on first start).
    pub fn resolve(configured: Option<&str>, data_dir: &Path) -> Result<Self, KeyError> {
        match configured {
            Some(text) => Self::from_base64(text),
            None => Self::load_or_create(data_dir),
        }
    }

    pub fn from_base64(text: &str) -> Result<Self, KeyError> {
        const HINT: &str = "create one with `openssl rand -base64 32`";
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(text.trim())
            .map_err(|e| {
                KeyError(format!(
                    "SWITCHYARD_SECRET_KEY is not valid base64 ({e}); {HINT}"
                ))
            })?;
        let bytes: [u8; KEY_LEN] = bytes.try_into().map_err(|b: Vec<u8>| {
            KeyError(format!(
                "SWITCHYARD_SECRET_KEY must be base64 of exactly {KEY_LEN} bytes, not {}; {HINT}",
                b.len()
            ))
        })?;
        Ok(Self::from_bytes(bytes))
    }

    /// Reads `data_dir/secret.key`, creating it (mode 0600, 32 random bytes) when missing.
    pub fn load_or_create(data_dir: &Path) -> Result<Self, KeyError> {
        let path = data_dir.join(KEY_FILE);
        match std::fs::read(&path) {
            Ok(bytes) => Self::from_file_bytes(&path, bytes),
            Err(e) if e.kind() == ErrorKind::NotFound => create_key_file(data_dir, &path),
            Err(e) => Err(KeyError(format!(
                "cannot read the secret key file {}: {e}",
                path.display()
            ))),
        }
    }

    fn from_file_bytes(path: &Path, bytes: Vec<u8>) -> Result<Self, KeyError> {
        let len = bytes.len();
        let bytes: [u8; KEY_LEN] = bytes.try_into().map_err(|_| {
            KeyError(format!(
                "the secret key file {} must hold exactly {KEY_LEN} bytes, not {len}; restore \
                 the original (secrets stored with it cannot be read without it)",
                path.display()
            ))
        })?;
        warn_if_readable_by_others(path);
        Ok(Self::from_bytes(bytes))
    }

    /// `nonce || ciphertext+tag`, bound to `name`.
    pub fn seal(&self, name: &str, plaintext: &[u8]) -> Vec<u8> {
        let mut nonce = [0u8; NONCE_LEN];
        rand::rng().fill_bytes(&mut nonce);
        let payload = Payload {
            msg: plaintext,
            aad: name.as_bytes(),
        };
        let sealed = self
            .0
            .encrypt(&Nonce::from(nonce), payload)
            .expect("ChaCha20-Poly1305 encrypts any secret-sized input");
        [nonce.as_slice(), &sealed].concat()
    }

    /// None when the value was sealed with another key or name, or is not sealed at all.
    pub fn open(&self, name: &str, stored: &[u8]) -> Option<Vec<u8>> {
        if stored.len() < NONCE_LEN + TAG_LEN {
            return None;
        }
        let (nonce, sealed) = stored.split_at(NONCE_LEN);
        let nonce: [u8; NONCE_LEN] = nonce.try_into().ok()?;
        let payload = Payload {
            msg: sealed,
            aad: name.as_bytes(),
        };
        self.0.decrypt(&Nonce::from(nonce), payload).ok()
    }
}

/// Publishes the new key with a hard link so that processes starting together in the same data
/// directory all end up with the one key that won (never a half-written file).
fn create_key_file(data_dir: &Path, path: &Path) -> Result<SecretKey, KeyError> {
    let fail = |what: &str, e: std::io::Error| {
        KeyError(format!(
            "cannot {what} the secret key file {}: {e}",
            path.display()
        ))
    };
    std::fs::create_dir_all(data_dir).map_err(|e| fail("create the folder of", e))?;
    let mut key = [0u8; KEY_LEN];
    OsRng
        .try_fill_bytes(&mut key)
        .map_err(|e| KeyError(format!("the OS random number generator failed: {e}")))?;
    let temp = data_dir.join(format!(
        ".{KEY_FILE}.{}.{:x}",
        std::process::id(),
        rand::rng().next_u64()
    ));
    let written = write_private(&temp, &key).map_err(|e| fail("write", e));
    let linked = written.and_then(|()| match std::fs::hard_link(&temp, path) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == ErrorKind::AlreadyExists => Ok(false),
        Err(e) => Err(fail("create", e)),
    });
    let _ = std::fs::remove_file(&temp);
    if !linked? {
        let bytes = std::fs::read(path).map_err(|e| fail("read", e))?;
        return SecretKey::from_file_bytes(path, bytes);
    }
    if let Ok(dir) = std::fs::File::open(data_dir) {
        let _ = dir.sync_all();
    }
    tracing::info!(path = %path.display(), "created the secret key file; back it up with the database");
    Ok(SecretKey::from_bytes(key))
}

fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

fn warn_if_readable_by_others(path: &Path) {
    #[cfg(unix)]
    if let Ok(meta) = std::fs::metadata(path) {
        use std::os::unix::fs::PermissionsExt;
        if meta.permissions().mode() & 0o077 != 0 {
            tracing::warn!(path = %path.display(), "the secret key file is readable by other users; chmod 600 it");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_values_open_only_with_the_same_key_and_name() {
        let key = SecretKey::from_bytes([7; KEY_LEN]);
        let sealed = key.seal("API_KEY", b"hunter2-value");
        assert_eq!(sealed.len(), NONCE_LEN + 13 + TAG_LEN);
        assert!(!sealed.windows(13).any(|w| w == b"hunter2-value"));
        assert_eq!(
            key.open("API_KEY", &sealed).as_deref(),
            Some(&b"hunter2-value"[..])
        );
        assert_ne!(sealed, key.seal("API_KEY", b"hunter2-value"), "fresh nonce");
        assert_eq!(key.open("OTHER", &sealed), None, "swapped between names");
        assert_eq!(
            SecretKey::from_bytes([8; KEY_LEN]).open("API_KEY", &sealed),
            None
        );
        let mut flipped = sealed.clone();
        flipped[NONCE_LEN] ^= 1;
        assert_eq!(key.open("API_KEY", &flipped), None);
        assert_eq!(key.open("API_KEY", b"plaintext from before"), None);
        assert_eq!(key.open("API_KEY", b"short"), None);
    }

    #[test]
    fn configured_keys_must_be_base64_of_32_bytes() {
        let good = base64::engine::general_purpose::STANDARD.encode([1u8; KEY_LEN]);
        assert!(SecretKey::from_base64(&format!(" {good}\n")).is_ok());
        let short = SecretKey::from_base64("c2hvcnQ=").unwrap_err().to_string();
        assert!(short.contains("exactly 32 bytes, not 5"), "{short}");
        let junk = SecretKey::from_base64("not base64!")
            .unwrap_err()
            .to_string();
        assert!(junk.contains("not valid base64"), "{junk}");
        assert_eq!(
            format!("{:?}", SecretKey::from_bytes([1; 32])),
            "SecretKey(..)"
        );
    }

    #[test]
    fn the_key_file_is_created_once_private_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("nested");
        let first = SecretKey::resolve(None, &data).unwrap();
        let path = data.join(KEY_FILE);
        assert_eq!(std::fs::read(&path).unwrap().len(), KEY_LEN);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let sealed = first.seal("N", b"v");
        let again = SecretKey::load_or_create(&data).unwrap();
        assert_eq!(again.open("N", &sealed).as_deref(), Some(&b"v"[..]));
        assert_eq!(
            std::fs::read_dir(&data).unwrap().count(),
            1,
            "no temp files left"
        );

        std::fs::write(&path, b"too short").unwrap();
        let err = SecretKey::load_or_create(&data).unwrap_err().to_string();
        assert!(err.contains("exactly 32 bytes, not 9"), "{err}");
    }

    #[test]
    fn processes_starting_together_agree_on_one_key() {
        let dir = tempfile::tempdir().unwrap();
        let keys: Vec<SecretKey> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..8)
                .map(|_| s.spawn(|| SecretKey::load_or_create(dir.path()).unwrap()))
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let sealed = keys[0].seal("N", b"v");
        for key in &keys {
            assert_eq!(key.open("N", &sealed).as_deref(), Some(&b"v"[..]));
        }
    }
}
