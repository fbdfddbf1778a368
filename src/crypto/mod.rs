//! Pure cryptography, no I/O: JSON canonicalization (RFC 8785), Multikey encodings, and the
//! W3C Data Integrity `eddsa-jcs-2022` cryptosuite.

pub mod compact;
pub mod data_integrity;
pub mod merkle;
pub mod multikey;
pub mod signed_note;
pub mod status_list;
pub mod tiles;

use sha2::{Digest, Sha256};

/// RFC 8785 canonical bytes of a JSON value.
pub fn jcs(value: &serde_json::Value) -> Vec<u8> {
    serde_json_canonicalizer::to_vec(value).expect("a serde_json::Value always canonicalizes")
}

pub fn sha256(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}
