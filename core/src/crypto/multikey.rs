//! Multikey (W3C Controlled Identifiers): Ed25519 keys as multibase base58btc strings with a
//! multicodec prefix — public `z6Mk…` (0xed 0x01), secret `z3u2…` (0x80 0x26).

use ed25519_dalek::{SigningKey, VerifyingKey};

const ED25519_PUBLIC: [u8; 2] = [0xed, 0x01];
const ED25519_SECRET: [u8; 2] = [0x80, 0x26];

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MultikeyError {
    #[error("not a multibase base58btc string (must start with 'z')")]
    NotBase58btc,
    #[error("invalid base58")]
    Base58,
    #[error("not an Ed25519 {0} key (wrong multicodec prefix or length)")]
    WrongType(&'static str),
    #[error("not a valid Ed25519 point")]
    InvalidPoint,
}

fn decode(text: &str, prefix: [u8; 2], what: &'static str) -> Result<[u8; 32], MultikeyError> {
    let body = text.strip_prefix('z').ok_or(MultikeyError::NotBase58btc)?;
    let bytes = bs58::decode(body).into_vec().map_err(|_| MultikeyError::Base58)?;
    if bytes.len() != 34 || bytes[..2] != prefix {
        return Err(MultikeyError::WrongType(what));
    }
    Ok(bytes[2..].try_into().expect("length checked"))
}

fn encode(prefix: [u8; 2], key: &[u8; 32]) -> String {
    let mut bytes = prefix.to_vec();
    bytes.extend_from_slice(key);
    format!("z{}", bs58::encode(bytes).into_string())
}

pub fn encode_public(key: &VerifyingKey) -> String {
    encode(ED25519_PUBLIC, key.as_bytes())
}

pub fn decode_public(text: &str) -> Result<VerifyingKey, MultikeyError> {
    VerifyingKey::from_bytes(&decode(text, ED25519_PUBLIC, "public")?).map_err(|_| MultikeyError::InvalidPoint)
}

pub fn encode_secret(key: &SigningKey) -> String {
    encode(ED25519_SECRET, key.as_bytes())
}

pub fn decode_secret(text: &str) -> Result<SigningKey, MultikeyError> {
    Ok(SigningKey::from_bytes(&decode(text, ED25519_SECRET, "secret")?))
}

/// Multibase base58btc of arbitrary bytes (signatures).
pub fn base58btc(bytes: &[u8]) -> String {
    format!("z{}", bs58::encode(bytes).into_string())
}

pub fn from_base58btc(text: &str) -> Result<Vec<u8>, MultikeyError> {
    let body = text.strip_prefix('z').ok_or(MultikeyError::NotBase58btc)?;
    bs58::decode(body).into_vec().map_err(|_| MultikeyError::Base58)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_w3c_key_pair_round_trips() {
        let secret = decode_secret("z3u2en7t5LR2WtQH5PfFqMqwVHBeXouLzo6haApm8XHqvjxq").unwrap();
        let public = encode_public(&secret.verifying_key());
        assert_eq!(public, "z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2");
        assert_eq!(encode_secret(&secret), "z3u2en7t5LR2WtQH5PfFqMqwVHBeXouLzo6haApm8XHqvjxq");
        assert_eq!(decode_public(&public).unwrap(), secret.verifying_key());
    }

    #[test]
    fn wrong_prefixes_and_encodings_are_refused() {
        assert_eq!(
            decode_public("z3u2en7t5LR2WtQH5PfFqMqwVHBeXouLzo6haApm8XHqvjxq"),
            Err(MultikeyError::WrongType("public"))
        );
        assert_eq!(decode_public("6MkrJVnaZ"), Err(MultikeyError::NotBase58btc));
        assert_eq!(decode_public("z0OIl"), Err(MultikeyError::Base58));
    }
}
