//! Pure cryptography, no I/O: JSON canonicalization (RFC 8785), Multikey encodings, and the
//! W3C Data Integrity `eddsa-jcs-2022` cryptosuite.

pub mod compact;
pub mod data_integrity;
pub mod multikey;
pub mod status_list;

use std::ops::Range;

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

/// RFC 8785 canonical bytes of a JSON value.
///
/// Written here rather than left to `serde_json_canonicalizer` because every verification
/// canonicalizes a credential three times, and that crate's general path (a key re-encoded to
/// UTF-16 and an allocation per property) was a fifth of a `POST /api/v1/verify` profile
/// (docs/PERFORMANCE.md). The crate still formats non-integral and very large numbers, the one
/// part with subtle rules, and the tests check both agree on random documents.
pub fn jcs(value: &Value) -> Vec<u8> {
    let mut out = Vec::with_capacity(2048);
    write_jcs(value, &mut out);
    out
}

fn write_jcs(value: &Value, out: &mut Vec<u8>) {
    match value {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        Value::Number(n) => write_number(n, out),
        Value::String(s) => write_string(s, out),
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_jcs(item, out);
            }
            out.push(b']');
        }
        Value::Object(map) => {
            write_object(map.iter(), out, None);
        }
    }
}

/// RFC 8785 canonical bytes of `object` without the member `omit` and with `replace`'s member
/// value swapped in when the object has it: a signed document as its proof covers it, without
/// copying the document.
pub fn jcs_object_view(object: &Map<String, Value>, omit: &str, replace: Option<(&str, &Value)>) -> Vec<u8> {
    let mut out = Vec::with_capacity(2048);
    let members = object.iter().filter(|(key, _)| key.as_str() != omit).map(|(key, value)| match replace {
        Some((name, new)) if name == key => (key, new),
        _ => (key, value),
    });
    write_object(members, &mut out, None);
    out
}

/// RFC 8785 canonical bytes of `object`, and where its member `member` lies in them, with one
/// separating comma, when it has it: the bytes without that member are the rest. Verification
/// hashes a credential with and without its proof from this one write.
pub fn jcs_locating(object: &Map<String, Value>, member: &str) -> (Vec<u8>, Option<Range<usize>>) {
    let mut out = Vec::with_capacity(2048);
    let span = write_object(object.iter(), &mut out, Some(member));
    (out, span)
}

fn write_object<'a>(
    members: impl Iterator<Item = (&'a String, &'a Value)> + Clone,
    out: &mut Vec<u8>,
    locate: Option<&str>,
) -> Option<Range<usize>> {
    out.push(b'{');
    // JCS orders keys by UTF-16 code units. serde_json's map iterates in UTF-8 byte order,
    // which is the same except around characters beyond U+FFFF, so sort only when needed.
    let span = if members.clone().map(|(key, _)| key).is_sorted_by(|a, b| utf16_order(a, b).is_lt()) {
        write_members(members, out, locate)
    } else {
        let mut sorted: Vec<_> = members.collect();
        sorted.sort_by(|a, b| utf16_order(a.0, b.0));
        write_members(sorted.into_iter(), out, locate)
    };
    out.push(b'}');
    span
}

fn write_members<'a>(
    members: impl Iterator<Item = (&'a String, &'a Value)>,
    out: &mut Vec<u8>,
    locate: Option<&str>,
) -> Option<Range<usize>> {
    let mut span = None;
    for (i, (key, value)) in members.enumerate() {
        let start = out.len();
        if i > 0 {
            out.push(b',');
        }
        write_string(key, out);
        out.push(b':');
        write_jcs(value, out);
        if locate == Some(key.as_str()) {
            span = Some((i, start..out.len()));
        }
    }
    // A located first member takes the comma after it, if another member follows.
    span.map(|(i, mut span)| {
        if i == 0 && out.get(span.end) == Some(&b',') {
            span.end += 1;
        }
        span
    })
}

fn utf16_order(a: &str, b: &str) -> std::cmp::Ordering {
    a.encode_utf16().cmp(b.encode_utf16())
}

/// serde_json escapes exactly what JCS does: `"`, `\\`, and control characters (as `\n` etc. or
/// `\u00xx` in lower case); everything else is written as UTF-8. Most strings need no escape:
/// they are copied whole, after a check the compiler vectorizes (no early exit).
fn write_string(s: &str, out: &mut Vec<u8>) {
    let needs_escape = s.bytes().fold(false, |any, b| any | (b < 0x20) | (b == b'"') | (b == b'\\'));
    if needs_escape {
        serde_json::to_writer(&mut *out, s).expect("writing to a Vec cannot fail");
    } else {
        out.reserve(s.len() + 2);
        out.push(b'"');
        out.extend_from_slice(s.as_bytes());
        out.push(b'"');
    }
}

/// Integers that a double holds exactly are written as they are; the rest take ECMAScript's
/// number-to-string rules, from `serde_json_canonicalizer`.
fn write_number(n: &serde_json::Number, out: &mut Vec<u8>) {
    const EXACT: u64 = 1 << 53;
    let mut digits = itoa::Buffer::new();
    match (n.as_u64(), n.as_i64()) {
        (Some(u), _) if u <= EXACT => out.extend_from_slice(digits.format(u).as_bytes()),
        (_, Some(i)) if i.unsigned_abs() <= EXACT => out.extend_from_slice(digits.format(i).as_bytes()),
        _ => out.extend(
            serde_json_canonicalizer::to_vec(&Value::Number(n.clone())).expect("a number always canonicalizes"),
        ),
    }
}

pub fn sha256(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

/// SHA-256 of `bytes`, and of `bytes` without `cut`: the part before `cut` is hashed once for
/// both (a credential with and without its proof share all but the proof and what follows it).
pub fn sha256_with_and_without(bytes: &[u8], cut: Range<usize>) -> ([u8; 32], [u8; 32]) {
    let mut without = Sha256::new();
    without.update(&bytes[..cut.start]);
    let mut with = without.clone();
    with.update(&bytes[cut.start..]);
    without.update(&bytes[cut.end..]);
    (with.finalize().into(), without.finalize().into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// A small deterministic generator (xorshift), so a failure reproduces.
    struct Random(u64);

    impl Random {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }

        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }

        /// Keys and strings from an alphabet that exercises JCS's corners: ASCII order, control
        /// characters and quotes, CJK, characters just below and above U+E000, and beyond U+FFFF.
        fn text(&mut self) -> String {
            const ALPHABET: &[char] = &[
                'a', 'B', 'z', '0', '_', '"', '\\', '\n', '\u{1}', '\u{1f}', '\u{7f}', '张', '€', '\u{e000}',
                '\u{ff5e}', '😀', '𝄞',
            ];
            (0..self.below(6)).map(|_| ALPHABET[self.below(ALPHABET.len() as u64) as usize]).collect()
        }

        fn number(&mut self) -> Value {
            match self.below(6) {
                0 => json!(self.next() as i64),
                1 => json!(self.next()),
                2 => json!(self.below(1000) as i64 - 500),
                3 => json!(f64::from_bits(self.next()).clamp(-1e300, 1e300)),
                4 => json!(self.below(100_000) as f64 / 1000.0),
                _ => json!((1u64 << 53) + self.below(3)),
            }
        }

        fn value(&mut self, depth: u32) -> Value {
            match self.below(if depth == 0 { 4 } else { 6 }) {
                0 => Value::Null,
                1 => Value::Bool(self.below(2) == 0),
                2 => self.number(),
                3 => Value::String(self.text()),
                4 => Value::Array((0..self.below(4)).map(|_| self.value(depth - 1)).collect()),
                _ => Value::Object(
                    (0..self.below(6)).map(|_| (self.text(), self.value(depth - 1))).collect::<Map<_, _>>(),
                ),
            }
        }
    }

    #[test]
    fn hashing_with_and_without_a_cut_equals_hashing_each_whole() {
        let mut random = Random(0x5ea2_5600);
        for _ in 0..2_000 {
            let bytes: Vec<u8> = (0..random.below(300)).map(|_| random.next() as u8).collect();
            let start = random.below(bytes.len() as u64 + 1) as usize;
            let end = start + random.below((bytes.len() - start) as u64 + 1) as usize;
            let without: Vec<u8> = [&bytes[..start], &bytes[end..]].concat();
            assert_eq!(sha256_with_and_without(&bytes, start..end), (sha256(&bytes), sha256(&without)));
        }
    }

    #[test]
    fn canonical_bytes_agree_with_serde_json_canonicalizer_on_random_documents() {
        let mut random = Random(0x5eed_2026_1122);
        for _ in 0..20_000 {
            let value = random.value(4);
            let reference = serde_json_canonicalizer::to_vec(&value).unwrap();
            assert_eq!(String::from_utf8_lossy(&jcs(&value)), String::from_utf8_lossy(&reference), "{value:?}");
        }
    }

    #[test]
    fn an_object_view_is_the_canonical_form_of_the_edited_copy() {
        let mut random = Random(0x0b1e_c7ed);
        let context = json!(["https://www.w3.org/ns/credentials/v2"]);
        for _ in 0..2_000 {
            let Value::Object(mut object) = random.value(3) else { continue };
            if random.below(2) == 0 {
                object.insert("proof".into(), random.value(2));
            }
            if random.below(2) == 0 {
                object.insert("@context".into(), random.value(1));
            }
            let view = jcs_object_view(&object, "proof", Some(("@context", &context)));
            object.remove("proof");
            if let Some(c) = object.get_mut("@context") {
                *c = context.clone();
            }
            assert_eq!(view, jcs(&Value::Object(object)));
        }
    }

    #[test]
    fn the_located_member_cut_out_leaves_the_canonical_form_without_it() {
        let mut random = Random(0x010c_a7ed);
        for _ in 0..5_000 {
            let Value::Object(mut object) = random.value(3) else { continue };
            // A member named to sort first, last, or anywhere, or none.
            let name = ["proof", "", "\u{ffff}", "m"][random.below(4) as usize].to_string();
            if random.below(4) > 0 {
                object.insert(name.clone(), random.value(2));
            }
            let (bytes, span) = jcs_locating(&object, &name);
            assert_eq!(bytes, jcs(&Value::Object(object.clone())));
            let had = object.remove(&name).is_some();
            assert_eq!(span.is_some(), had);
            let without = jcs(&Value::Object(object));
            let rest = match span {
                Some(span) => [&bytes[..span.start], &bytes[span.end..]].concat(),
                None => bytes,
            };
            assert_eq!(String::from_utf8_lossy(&rest), String::from_utf8_lossy(&without));
        }
    }

    #[test]
    fn keys_beyond_u_ffff_sort_by_utf16_code_units() {
        // U+1F600 is D83D DE00 in UTF-16: before U+E000 there, after it in UTF-8 byte order.
        let value = json!({"\u{e000}": 1, "😀": 2, "a": 3});
        assert_eq!(String::from_utf8(jcs(&value)).unwrap(), "{\"a\":3,\"😀\":2,\"\u{e000}\":1}");
    }
}
