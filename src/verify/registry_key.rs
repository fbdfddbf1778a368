//! The registry's own Ed25519 key: it signs status lists and offline bundles, so a reader can
//! tell the registry's statements from anyone else's. Kept in a file (mode 0600), created on
//! first start; only its public half is ever logged or served.

use std::path::Path;

use ed25519_dalek::SigningKey;
use rand::Rng;

use crate::crypto::multikey;

/// A key file that cannot be read, parsed or written; the text names the file.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct KeyFileError(pub String);

pub struct RegistryKey {
    signing: SigningKey,
    /// Multikey `z6Mk…`.
    pub public: String,
}

impl std::fmt::Debug for RegistryKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegistryKey").field("public", &self.public).finish_non_exhaustive()
    }
}

impl RegistryKey {
    pub fn from_signing(signing: SigningKey) -> RegistryKey {
        let public = multikey::encode_public(&signing.verifying_key());
        RegistryKey { signing, public }
    }

    /// A fresh random key.
    pub fn generate() -> RegistryKey {
        RegistryKey::from_signing(SigningKey::from_bytes(&rand::rng().random()))
    }

    /// Reads the key file, or creates it (mode 0600) when it does not exist.
    pub fn load_or_create(path: &Path) -> Result<RegistryKey, KeyFileError> {
        if path.exists() {
            let text = std::fs::read_to_string(path)
                .map_err(|e| KeyFileError(format!("cannot read {}: {e}", path.display())))?;
            let signing = multikey::decode_secret(text.trim())
                .map_err(|e| KeyFileError(format!("{} is not an Ed25519 secret Multikey: {e}", path.display())))?;
            return Ok(RegistryKey::from_signing(signing));
        }
        let key = RegistryKey::generate();
        write_secret(path, &multikey::encode_secret(&key.signing))?;
        tracing::info!(path = %path.display(), public_key = %key.public, "created the registry signing key");
        Ok(key)
    }

    pub fn signing_key(&self) -> &SigningKey {
        &self.signing
    }

    /// The secret that keys holder ID digests, derived from this key so every node of a
    /// deployment that shares the registry key checks the same digests.
    pub fn holder_id_key(&self) -> crate::domain::holder_id::HolderIdKey {
        crate::domain::holder_id::HolderIdKey::derive(&self.signing.to_bytes())
    }

    /// The `did:key` verification method of this key.
    pub fn verification_method(&self) -> String {
        format!("did:key:{0}#{0}", self.public)
    }
}

/// Writes a secret file readable by its owner only.
pub fn write_secret(path: &Path, contents: &str) -> Result<(), KeyFileError> {
    use std::io::Write;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| KeyFileError(format!("cannot create {}: {e}", dir.display())))?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path).map_err(|e| KeyFileError(format!("cannot create {}: {e}", path.display())))?;
    file.write_all(format!("{contents}\n").as_bytes())
        .map_err(|e| KeyFileError(format!("cannot write {}: {e}", path.display())))
}
