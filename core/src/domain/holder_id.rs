//! Holder ID digests: how a certificate binds its holder's resident ID number without letting
//! anyone recover it. Threat model: docs/PRIVACY.md.
//!
//! A resident ID number has little entropy (region, birth date and a three-digit sequence leave
//! about 10^7 candidates), so any digest a reader can recompute — salted or not — gives the
//! number away to an offline search. The digest is therefore keyed: HMAC-SHA256 under a secret
//! only the registry holds, over the certificate number and the ID number. Checking a claimed
//! number is an online question to the registry, which rate-limits it.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{KeyInit, Mac};

use crate::crypto::sha256;

type HmacSha256 = hmac::Hmac<sha2::Sha256>;

/// The keyed digest's scheme, the first part of `hmac-sha256:<key id>:<digest>`.
pub const KEYED_SCHEME: &str = "hmac-sha256";
/// The salted SHA-256 digests of format version 1's first certificates: searchable offline,
/// still checked (they reveal nothing more by being checked), never accepted for new ones.
pub const LEGACY_SCHEME: &str = "sha256";

/// The registry's secret for holder ID digests.
pub struct HolderIdKey {
    key: [u8; 32],
    /// Names the key in each digest, so a rotated key is told apart from a wrong number.
    pub id: String,
}

impl std::fmt::Debug for HolderIdKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HolderIdKey").field("id", &self.id).finish_non_exhaustive()
    }
}

/// What checking a claimed ID number against a certificate's digest found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HolderIdCheck {
    Matches,
    DoesNotMatch,
    /// The digest is keyed and this checker does not hold the key: only the registry can answer.
    NeedsRegistry,
}

impl HolderIdKey {
    /// Derives the key from a registry secret (its signing key's bytes), separated by purpose so
    /// the same secret never serves two uses directly.
    pub fn derive(registry_secret: &[u8]) -> HolderIdKey {
        let key: [u8; 32] = hmac_sha256(registry_secret, b"zhicheng holder-id digest key v1");
        let id = URL_SAFE_NO_PAD.encode(&sha256(&key)[..8]);
        HolderIdKey { key, id }
    }

    /// `hmac-sha256:<key id>:<digest>` of the ID number on the certificate numbered `certificate_number`.
    /// The certificate number is inside, so one person's certificates carry unlinkable digests.
    pub fn digest(&self, certificate_number: &str, id_number: &str) -> String {
        let mac = hmac_sha256(&self.key, &message(certificate_number, id_number));
        format!("{KEYED_SCHEME}:{}:{}", self.id, URL_SAFE_NO_PAD.encode(mac))
    }

    fn verify(&self, certificate_number: &str, id_number: &str, mac: &[u8]) -> bool {
        let mut hmac = HmacSha256::new_from_slice(&self.key).expect("HMAC takes any key length");
        hmac.update(&message(certificate_number, id_number));
        hmac.verify_slice(mac).is_ok()
    }
}

/// Checks a claimed ID number against a certificate's `holderIdDigest`, in constant time for a
/// keyed digest.
pub fn check(digest: &str, certificate_number: &str, id_number: &str, key: Option<&HolderIdKey>) -> HolderIdCheck {
    let mut parts = digest.splitn(3, ':');
    let found = match (parts.next(), parts.next(), parts.next()) {
        (Some(KEYED_SCHEME), Some(key_id), Some(mac)) => {
            let Some(key) = key.filter(|k| k.id == key_id) else {
                return HolderIdCheck::NeedsRegistry;
            };
            URL_SAFE_NO_PAD.decode(mac).is_ok_and(|mac| key.verify(certificate_number, id_number, &mac))
        }
        (Some(LEGACY_SCHEME), Some(salt), Some(_)) => {
            URL_SAFE_NO_PAD.decode(salt).is_ok_and(|salt| legacy_digest(id_number, &salt) == digest)
        }
        _ => false,
    };
    if found { HolderIdCheck::Matches } else { HolderIdCheck::DoesNotMatch }
}

/// Whether a digest uses the keyed scheme under `key` (what the registry accepts on new certificates).
pub fn is_keyed_by(digest: &str, key: &HolderIdKey) -> bool {
    let mut parts = digest.splitn(3, ':');
    parts.next() == Some(KEYED_SCHEME)
        && parts.next() == Some(key.id.as_str())
        && parts.next().and_then(|mac| URL_SAFE_NO_PAD.decode(mac).ok()).is_some_and(|mac| mac.len() == 32)
}

/// The legacy `sha256:<salt>:<digest>`: kept to check old certificates and to show, in tests,
/// why it was replaced.
pub fn legacy_digest(id_number: &str, salt: &[u8]) -> String {
    let mut data = salt.to_vec();
    data.extend_from_slice(normalize(id_number).as_bytes());
    format!("{LEGACY_SCHEME}:{}:{}", URL_SAFE_NO_PAD.encode(salt), URL_SAFE_NO_PAD.encode(sha256(&data)))
}

fn message(certificate_number: &str, id_number: &str) -> Vec<u8> {
    format!("zhicheng/holder-id/v1\n{certificate_number}\n{}", normalize(id_number)).into_bytes()
}

fn normalize(id: &str) -> String {
    id.trim().to_uppercase()
}

fn hmac_sha256(key: &[u8], data: &[u8]) -> [u8; 32] {
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(data);
    mac.finalize().into_bytes().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keyed_digests_match_only_their_number_certificate_and_key() {
        let key = HolderIdKey::derive(&[7; 32]);
        let digest = key.digest("N-1", "22010219800101123x");
        assert!(is_keyed_by(&digest, &key));
        assert_eq!(check(&digest, "N-1", " 22010219800101123X", Some(&key)), HolderIdCheck::Matches);
        assert_eq!(check(&digest, "N-1", "220102198001011230", Some(&key)), HolderIdCheck::DoesNotMatch);
        assert_eq!(check(&digest, "N-2", "22010219800101123X", Some(&key)), HolderIdCheck::DoesNotMatch);
        assert_ne!(digest, key.digest("N-2", "22010219800101123X"), "one person's certificates are unlinkable");
        assert_eq!(check(&digest, "N-1", "22010219800101123X", None), HolderIdCheck::NeedsRegistry);
        let other = HolderIdKey::derive(&[8; 32]);
        assert_ne!(other.id, key.id);
        assert_eq!(check(&digest, "N-1", "22010219800101123X", Some(&other)), HolderIdCheck::NeedsRegistry);
        assert!(!is_keyed_by(&digest, &other));
        assert!(!format!("{key:?}").contains(&URL_SAFE_NO_PAD.encode(key.key)));
    }

    #[test]
    fn legacy_digests_are_still_checked() {
        let digest = legacy_digest("22010219800101123x", b"salt-1234");
        assert_eq!(check(&digest, "any", "22010219800101123X", None), HolderIdCheck::Matches);
        assert_eq!(check(&digest, "any", "220102198001011230", None), HolderIdCheck::DoesNotMatch);
        assert!(!is_keyed_by(&digest, &HolderIdKey::derive(&[7; 32])));
        assert_eq!(check("plain", "N-1", "220102198001011230", None), HolderIdCheck::DoesNotMatch);
    }
}
