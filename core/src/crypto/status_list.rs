//! W3C Bitstring Status List v1.0: a bitstring (index 0 is the left-most bit of the first
//! byte), GZIP-compressed, base64url-encoded without padding, with the multibase prefix `u`.

use std::io::{Read, Write};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// The specification's minimum list length (16 KiB), for herd privacy.
pub const MIN_BITS: u64 = 131_072;

/// Encodes a list with the given indexes set, at least `MIN_BITS` long (whole multiples of it).
pub fn encode(set: &[u64]) -> String {
    let needed = set.iter().max().map_or(0, |m| m + 1);
    let bits = needed.div_ceil(MIN_BITS).max(1) * MIN_BITS;
    let mut bytes = vec![0u8; (bits / 8) as usize];
    for &i in set {
        bytes[(i / 8) as usize] |= 0x80 >> (i % 8);
    }
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(&bytes).expect("writing to memory");
    format!("u{}", URL_SAFE_NO_PAD.encode(gz.finish().expect("writing to memory")))
}

/// Decodes an encoded list into its bytes.
pub fn decode(encoded: &str) -> Option<Vec<u8>> {
    let compressed = URL_SAFE_NO_PAD.decode(encoded.strip_prefix('u')?).ok()?;
    let mut bytes = Vec::new();
    flate2::read::GzDecoder::new(&compressed[..]).take(64 * 1024 * 1024).read_to_end(&mut bytes).ok()?;
    Some(bytes)
}

/// Whether bit `index` is set; `None` when the list is shorter.
pub fn is_set(bytes: &[u8], index: u64) -> Option<bool> {
    bytes.get((index / 8) as usize).map(|b| b & (0x80 >> (index % 8)) != 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bits_round_trip_left_most_first() {
        let encoded = encode(&[0, 7, 8, 131_071]);
        assert!(encoded.starts_with('u'));
        let bytes = decode(&encoded).unwrap();
        assert_eq!(bytes.len(), 16_384);
        assert_eq!(bytes[0], 0b1000_0001);
        assert_eq!(bytes[1], 0b1000_0000);
        for (i, expected) in [(0, true), (1, false), (7, true), (8, true), (9, false), (131_071, true)] {
            assert_eq!(is_set(&bytes, i), Some(expected), "bit {i}");
        }
        assert_eq!(is_set(&bytes, 131_072), None);
        assert_eq!(decode(&encode(&[200_000])).unwrap().len(), 32_768, "grows in whole multiples");
    }
}
