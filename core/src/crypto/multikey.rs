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
    decode_base58(body).ok_or(MultikeyError::Base58)
}

/// Base58 (the Bitcoin alphabet), five digits at a time into 32-bit limbs: every verification
/// decodes a signature, and `bs58`'s digit-by-digit, byte-by-byte loop was a twentieth of a
/// bulk verification's time (docs/PERFORMANCE.md). `bs58` stays as the test oracle.
fn decode_base58(text: &str) -> Option<Vec<u8>> {
    const ALPHABET: &[u8; 58] = b"123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
    const NOT_A_DIGIT: u8 = 0xff;
    const DIGITS: [u8; 256] = {
        let mut table = [NOT_A_DIGIT; 256];
        let mut i = 0;
        while i < ALPHABET.len() {
            table[ALPHABET[i] as usize] = i as u8;
            i += 1;
        }
        table
    };
    let digits: Vec<u8> = text.bytes().map(|b| DIGITS[b as usize]).collect();
    if digits.contains(&NOT_A_DIGIT) {
        return None;
    }
    // Each leading '1' is a leading zero byte; the rest is one number, most significant first.
    let zeros = digits.iter().take_while(|&&d| d == 0).count();
    let mut limbs: Vec<u32> = Vec::with_capacity(digits.len() / 5 + 1);
    let first = digits.len() % 5;
    let groups = std::iter::once(&digits[..first]).chain(digits[first..].chunks(5)).filter(|g| !g.is_empty());
    for group in groups {
        let (scale, value) =
            group.iter().fold((1u64, 0u64), |(scale, value), &d| (scale * 58, value * 58 + u64::from(d)));
        let mut carry = value;
        for limb in limbs.iter_mut() {
            let t = u64::from(*limb) * scale + carry;
            *limb = t as u32;
            carry = t >> 32;
        }
        while carry > 0 {
            limbs.push(carry as u32);
            carry >>= 32;
        }
    }
    let mut bytes = vec![0u8; zeros];
    let number = limbs.iter().rev().flat_map(|limb| limb.to_be_bytes());
    bytes.extend(number.skip_while(|&b| b == 0));
    Some(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// The hand-written decoder against `bs58`, on encodings of any bytes (leading zeros too).
        #[test]
        fn base58_decodes_as_bs58_does(bytes in proptest::collection::vec(any::<u8>(), 0..80), zeros in 0usize..4) {
            let mut bytes = bytes;
            bytes.splice(0..0, std::iter::repeat_n(0, zeros));
            let text = bs58::encode(&bytes).into_string();
            prop_assert_eq!(decode_base58(&text), Some(bytes));
        }

        /// And on any text: the same bytes, or both refuse it.
        #[test]
        fn base58_accepts_and_refuses_what_bs58_does(text in "[1-9A-Za-z0O+/]{0,100}") {
            prop_assert_eq!(decode_base58(&text), bs58::decode(&text).into_vec().ok());
        }
    }

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
