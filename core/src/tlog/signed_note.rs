//! C2SP signed notes with Ed25519 keys, and C2SP `tlog-checkpoint` bodies.
//!
//! A note is UTF-8 text ending in a newline, a blank line, then signature lines
//! `— <key name> <base64(key hash ‖ signature)>`. The key hash is the first four bytes of
//! SHA-256(name ‖ "\n" ‖ 0x01 ‖ public key); verifier keys read `<name>+<hash hex>+<base64(0x01 ‖ key)>`.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use sha2::{Digest, Sha256};

const ED25519: u8 = 0x01;
const SIGNATURE_PREFIX: &str = "— ";

fn key_hash(name: &str, public: &VerifyingKey) -> [u8; 4] {
    let mut h = Sha256::new();
    h.update(name.as_bytes());
    h.update(b"\n");
    h.update([ED25519]);
    h.update(public.as_bytes());
    h.finalize()[..4].try_into().expect("four bytes")
}

fn valid_name(name: &str) -> bool {
    !name.is_empty() && !name.chars().any(|c| c.is_whitespace() || c == '+')
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NoteError {
    #[error("malformed key")]
    MalformedKey,
    #[error("malformed note")]
    MalformedNote,
    #[error("no signature by {0} on the note")]
    Unsigned(String),
    #[error("the signature by {0} does not verify")]
    BadSignature(String),
}

/// A key that signs notes under a name (the log's origin).
#[derive(Clone)]
pub struct NoteSigner {
    pub name: String,
    key: SigningKey,
}

impl NoteSigner {
    pub fn new(name: &str, key: SigningKey) -> Result<NoteSigner, NoteError> {
        if !valid_name(name) {
            return Err(NoteError::MalformedKey);
        }
        Ok(NoteSigner { name: name.to_string(), key })
    }

    /// Parses `PRIVATE+KEY+<name>+<hash>+<base64(0x01 ‖ seed)>`.
    pub fn parse(text: &str) -> Result<NoteSigner, NoteError> {
        let rest = text.trim().strip_prefix("PRIVATE+KEY+").ok_or(NoteError::MalformedKey)?;
        let (name, rest) = rest.split_once('+').ok_or(NoteError::MalformedKey)?;
        let (hash, key) = rest.split_once('+').ok_or(NoteError::MalformedKey)?;
        let bytes = STANDARD.decode(key).map_err(|_| NoteError::MalformedKey)?;
        let seed: [u8; 32] =
            bytes.strip_prefix(&[ED25519]).and_then(|s| s.try_into().ok()).ok_or(NoteError::MalformedKey)?;
        let signer = NoteSigner::new(name, SigningKey::from_bytes(&seed))?;
        if format!("{:08x}", u32::from_be_bytes(signer.hash())) != hash {
            return Err(NoteError::MalformedKey);
        }
        Ok(signer)
    }

    fn hash(&self) -> [u8; 4] {
        key_hash(&self.name, &self.key.verifying_key())
    }

    /// `<name>+<hash>+<base64(0x01 ‖ public key)>`, what readers pin.
    pub fn verifier_key(&self) -> String {
        let mut key = vec![ED25519];
        key.extend_from_slice(self.key.verifying_key().as_bytes());
        format!("{}+{:08x}+{}", self.name, u32::from_be_bytes(self.hash()), STANDARD.encode(key))
    }

    /// The signed note: `text` (which must end in a newline), a blank line, the signature line.
    pub fn sign(&self, text: &str) -> Result<String, NoteError> {
        if !text.ends_with('\n') || text.contains("\n\n") {
            return Err(NoteError::MalformedNote);
        }
        let mut blob = self.hash().to_vec();
        blob.extend_from_slice(&self.key.sign(text.as_bytes()).to_bytes());
        Ok(format!("{text}\n{SIGNATURE_PREFIX}{} {}\n", self.name, STANDARD.encode(blob)))
    }
}

/// A pinned verifier key.
#[derive(Debug, Clone)]
pub struct NoteVerifier {
    pub name: String,
    hash: [u8; 4],
    key: VerifyingKey,
}

impl NoteVerifier {
    pub fn parse(text: &str) -> Result<NoteVerifier, NoteError> {
        let (name, rest) = text.trim().split_once('+').ok_or(NoteError::MalformedKey)?;
        let (hash_hex, key) = rest.split_once('+').ok_or(NoteError::MalformedKey)?;
        let bytes = STANDARD.decode(key).map_err(|_| NoteError::MalformedKey)?;
        let raw: [u8; 32] =
            bytes.strip_prefix(&[ED25519]).and_then(|s| s.try_into().ok()).ok_or(NoteError::MalformedKey)?;
        let key = VerifyingKey::from_bytes(&raw).map_err(|_| NoteError::MalformedKey)?;
        let hash = key_hash(name, &key);
        if !valid_name(name) || format!("{:08x}", u32::from_be_bytes(hash)) != hash_hex {
            return Err(NoteError::MalformedKey);
        }
        Ok(NoteVerifier { name: name.to_string(), hash, key })
    }

    /// The key in signed-note text form, as `parse` reads it.
    pub fn key_text(&self) -> String {
        let mut bytes = vec![ED25519];
        bytes.extend_from_slice(self.key.as_bytes());
        format!("{}+{:08x}+{}", self.name, u32::from_be_bytes(self.hash), STANDARD.encode(bytes))
    }

    /// Checks that `note` carries a valid signature by this key; returns the signed text.
    /// Signatures by other keys (witnesses, say) are ignored.
    pub fn open<'a>(&self, note: &'a str) -> Result<&'a str, NoteError> {
        let split = note.rfind("\n\n").ok_or(NoteError::MalformedNote)?;
        let (text, signatures) = (&note[..=split], &note[split + 2..]);
        if !note.ends_with('\n') {
            return Err(NoteError::MalformedNote);
        }
        for line in signatures.lines() {
            let Some(rest) = line.strip_prefix(SIGNATURE_PREFIX) else { return Err(NoteError::MalformedNote) };
            let (name, blob) = rest.split_once(' ').ok_or(NoteError::MalformedNote)?;
            let blob = STANDARD.decode(blob).map_err(|_| NoteError::MalformedNote)?;
            if name != self.name || blob.len() != 68 || blob[..4] != self.hash {
                continue;
            }
            let signature = Signature::from_slice(&blob[4..]).map_err(|_| NoteError::MalformedNote)?;
            return self
                .key
                .verify(text.as_bytes(), &signature)
                .map(|()| text)
                .map_err(|_| NoteError::BadSignature(self.name.clone()));
        }
        Err(NoteError::Unsigned(self.name.clone()))
    }
}

/// Who signed `note`: each signature line's key name and key hash, as `<name>+<hash hex>` (the
/// start of a verifier key), to name a key that is not at hand.
pub fn signers(note: &str) -> Vec<String> {
    let signatures = note.rfind("\n\n").map_or("", |split| &note[split + 2..]);
    signatures
        .lines()
        .filter_map(|line| {
            let (name, blob) = line.strip_prefix(SIGNATURE_PREFIX)?.split_once(' ')?;
            let blob = STANDARD.decode(blob).ok()?;
            Some(format!("{name}+{}", hex::encode(blob.get(..4)?)))
        })
        .collect()
}

/// A C2SP `tlog-checkpoint`: origin, tree size, root hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    pub origin: String,
    pub size: u64,
    pub root: [u8; 32],
}

impl Checkpoint {
    pub fn body(&self) -> String {
        format!("{}\n{}\n{}\n", self.origin, self.size, STANDARD.encode(self.root))
    }

    pub fn parse(text: &str) -> Result<Checkpoint, NoteError> {
        let mut lines = text.split('\n');
        let origin = lines.next().filter(|o| !o.is_empty()).ok_or(NoteError::MalformedNote)?.to_string();
        let size = lines.next().and_then(|s| s.parse().ok()).ok_or(NoteError::MalformedNote)?;
        let root = lines
            .next()
            .and_then(|r| STANDARD.decode(r).ok())
            .and_then(|r| <[u8; 32]>::try_from(r).ok())
            .ok_or(NoteError::MalformedNote)?;
        Ok(Checkpoint { origin, size, root })
    }
}

/// A C2SP `tlog-proof`: an entry's index, its inclusion proof, and the checkpoint it proves
/// against, for offline verification; `extra` carries the entry itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlogProof {
    pub extra: Option<Vec<u8>>,
    pub index: u64,
    pub hashes: Vec<[u8; 32]>,
    /// The signed checkpoint note, verbatim.
    pub checkpoint: String,
}

const TLOG_PROOF_HEADER: &str = "c2sp.org/tlog-proof@v1";

impl TlogProof {
    pub fn format(&self) -> String {
        let mut out = format!("{TLOG_PROOF_HEADER}\n");
        if let Some(extra) = &self.extra {
            out.push_str(&format!("extra {}\n", STANDARD.encode(extra)));
        }
        out.push_str(&format!("index {}\n", self.index));
        for h in &self.hashes {
            out.push_str(&format!("{}\n", STANDARD.encode(h)));
        }
        out.push('\n');
        out.push_str(&self.checkpoint);
        out
    }

    pub fn parse(text: &str) -> Result<TlogProof, NoteError> {
        let (head, checkpoint) = text.split_once("\n\n").ok_or(NoteError::MalformedNote)?;
        let mut lines = head.split('\n');
        if lines.next() != Some(TLOG_PROOF_HEADER) {
            return Err(NoteError::MalformedNote);
        }
        let mut line = lines.next().ok_or(NoteError::MalformedNote)?;
        let mut extra = None;
        if let Some(e) = line.strip_prefix("extra ") {
            extra = Some(STANDARD.decode(e).map_err(|_| NoteError::MalformedNote)?);
            line = lines.next().ok_or(NoteError::MalformedNote)?;
        }
        let index = line
            .strip_prefix("index ")
            .filter(|i| *i == "0" || !i.starts_with('0'))
            .and_then(|i| i.parse().ok())
            .ok_or(NoteError::MalformedNote)?;
        let hashes = lines
            .map(|l| STANDARD.decode(l).ok().and_then(|h| <[u8; 32]>::try_from(h).ok()).ok_or(NoteError::MalformedNote))
            .collect::<Result<_, _>>()?;
        Ok(TlogProof { extra, index, hashes, checkpoint: checkpoint.to_string() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // golang.org/x/mod/sumdb/note, note_test.go and package documentation.
    const SKEY: &str = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
    const VKEY: &str = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
    const TEXT: &str =
        "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n";
    const NOTE: &str = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n\n— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";

    #[test]
    fn reproduces_the_go_reference_note_byte_for_byte() {
        let signer = NoteSigner::parse(SKEY).unwrap();
        assert_eq!(signer.verifier_key(), VKEY);
        assert_eq!(signer.sign(TEXT).unwrap(), NOTE);
        assert_eq!(NoteVerifier::parse(VKEY).unwrap().open(NOTE).unwrap(), TEXT);
        assert_eq!(NoteVerifier::parse(VKEY).unwrap().key_text(), VKEY);
        assert_eq!(signers(NOTE), ["PeterNeumann+c74f20a3"]);
        assert!(signers(TEXT).is_empty());
    }

    #[test]
    fn altered_notes_and_other_keys_fail() {
        let verifier = NoteVerifier::parse(VKEY).unwrap();
        assert_eq!(
            verifier.open(&NOTE.replace("cryptography", "cryptographY")),
            Err(NoteError::BadSignature("PeterNeumann".into()))
        );
        let other = NoteSigner::new("PeterNeumann", SigningKey::from_bytes(&[9; 32])).unwrap();
        assert_eq!(verifier.open(&other.sign(TEXT).unwrap()), Err(NoteError::Unsigned("PeterNeumann".into())));
        assert!(NoteVerifier::parse("PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW").is_err());
    }

    #[test]
    fn tlog_proofs_round_trip() {
        let signer = NoteSigner::new("zhicheng.registry/demo", SigningKey::from_bytes(&[1; 32])).unwrap();
        let c = Checkpoint { origin: "zhicheng.registry/demo".into(), size: 3, root: [7; 32] };
        let proof = TlogProof {
            extra: Some(b"{}".to_vec()),
            index: 0,
            hashes: vec![[1; 32], [2; 32]],
            checkpoint: signer.sign(&c.body()).unwrap(),
        };
        let text = proof.format();
        assert!(text.starts_with("c2sp.org/tlog-proof@v1\nextra e30=\nindex 0\nAQEB"), "{text}");
        assert_eq!(TlogProof::parse(&text).unwrap(), proof);
        assert!(TlogProof::parse(&text.replace("index 0", "index 00")).is_err());
    }

    #[test]
    fn checkpoints_round_trip() {
        let c = Checkpoint { origin: "zhicheng.registry/demo".into(), size: 42, root: [7; 32] };
        assert_eq!(Checkpoint::parse(&c.body()).unwrap(), c);
        let signer = NoteSigner::new("zhicheng.registry/demo", SigningKey::from_bytes(&[1; 32])).unwrap();
        let note = signer.sign(&c.body()).unwrap();
        let verifier = NoteVerifier::parse(&signer.verifier_key()).unwrap();
        assert_eq!(Checkpoint::parse(verifier.open(&note).unwrap()).unwrap(), c);
    }
}
