//! A snapshot set's manifest: what each file holds (rows, bytes, SHA-256), the log size the
//! files reflect and a checkpoint that covers it, signed with the registry's Ed25519 key over
//! the manifest's JCS without its signature. The SHA-256 of the signed manifest's bytes is
//! entered in the transparency log, so a set cannot be swapped for another afterwards.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, Utc};
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier};
use serde::{Deserialize, Serialize};

use super::Format;
use crate::crypto::{jcs, multikey, sha256};
use crate::publish::batch::PendingEvent;
use crate::publish::event::{Logged, PublishedSnapshot};
use crate::store::Table;

/// The manifest's file name in a snapshot set.
pub const MANIFEST_FILE: &str = "manifest.json";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ManifestFile {
    pub name: String,
    pub table: Table,
    pub format: Format,
    pub rows: u64,
    pub bytes: u64,
    /// Hex.
    pub sha256: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub created_at: DateTime<Utc>,
    /// The files reflect log entries `0..log_size` exactly: replay the change feed from index
    /// `log_size` on to bring them up to date.
    pub log_size: u64,
    /// A signed checkpoint (C2SP signed note) whose tree holds at least `log_size` entries.
    pub checkpoint: Option<String>,
    pub files: Vec<ManifestFile>,
    /// The registry key's public Multikey (`z6Mk…`).
    pub signed_by: String,
    /// Ed25519 over the JCS of the manifest without this field, base64.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<String>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ManifestError {
    #[error("清单未签名 / the manifest is not signed")]
    Unsigned,
    #[error("清单签名无效 / the manifest's signature does not verify")]
    BadSignature,
    #[error("签名公钥格式错误 / signed_by is not an Ed25519 Multikey")]
    BadKey,
}

impl Manifest {
    /// The bytes the signature covers.
    fn signed_bytes(&self) -> Vec<u8> {
        let mut unsigned = self.clone();
        unsigned.signature = None;
        jcs(&serde_json::to_value(&unsigned).expect("a manifest is plain data"))
    }

    pub fn sign(mut self, key: &SigningKey) -> Manifest {
        self.signed_by = multikey::encode_public(&key.verifying_key());
        self.signature = None;
        let signature = key.sign(&self.signed_bytes());
        self.signature = Some(STANDARD.encode(signature.to_bytes()));
        self
    }

    /// Checks the signature against the key the manifest names; the caller checks that key is
    /// the registry's.
    pub fn verify(&self) -> Result<(), ManifestError> {
        let signature = self.signature.as_deref().ok_or(ManifestError::Unsigned)?;
        let key = multikey::decode_public(&self.signed_by).map_err(|_| ManifestError::BadKey)?;
        let bytes = STANDARD.decode(signature).map_err(|_| ManifestError::BadSignature)?;
        let signature = Signature::from_slice(&bytes).map_err(|_| ManifestError::BadSignature)?;
        key.verify(&self.signed_bytes(), &signature).map_err(|_| ManifestError::BadSignature)
    }

    /// The manifest as written: pretty JSON with a final line end.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = serde_json::to_vec_pretty(self).expect("a manifest is plain data");
        out.push(b'\n');
        out
    }
}

/// The hex SHA-256 of some bytes.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(sha256(bytes))
}

/// The log event that enters a published manifest's hash in the log.
pub fn snapshot_event(log_size: u64, manifest_bytes: &[u8], authority_id: &str, now: DateTime<Utc>) -> PendingEvent {
    let snapshot = PublishedSnapshot { log_size, manifest_sha256: sha256_hex(manifest_bytes) };
    PendingEvent::standalone(
        &format!("snapshot-{log_size}"),
        Logged::PublishSnapshot(snapshot),
        authority_id,
        "cli",
        now,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest() -> Manifest {
        Manifest {
            created_at: "2026-12-03T00:00:00Z".parse().unwrap(),
            log_size: 42,
            checkpoint: None,
            files: vec![ManifestFile {
                name: "committees.ndjson".into(),
                table: Table::Committees,
                format: Format::Ndjson,
                rows: 3,
                bytes: 300,
                sha256: sha256_hex(b"x"),
            }],
            signed_by: String::new(),
            signature: None,
        }
    }

    #[test]
    fn a_signed_manifest_verifies_and_any_change_breaks_it() {
        let key = SigningKey::from_bytes(&[7; 32]);
        let signed = manifest().sign(&key);
        assert_eq!(signed.verify(), Ok(()));
        let parsed: Manifest = serde_json::from_slice(&signed.to_bytes()).unwrap();
        assert_eq!(parsed.verify(), Ok(()));
        let mut changed = signed.clone();
        changed.files[0].rows = 4;
        assert_eq!(changed.verify(), Err(ManifestError::BadSignature));
        assert_eq!(manifest().verify(), Err(ManifestError::Unsigned));
    }
}
