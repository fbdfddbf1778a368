//! W3C Verifiable Credential Data Integrity with the `eddsa-jcs-2022` cryptosuite:
//! hashData = SHA-256(JCS(proof configuration)) ‖ SHA-256(JCS(document without proof)),
//! signed with Ed25519, the signature in `proofValue` as multibase base58btc.

use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use serde_json::{Map, Value};

use super::{jcs, jcs_locating, jcs_object_view, multikey, sha256, sha256_with_and_without};

pub const PROOF_TYPE: &str = "DataIntegrityProof";
pub const CRYPTOSUITE: &str = "eddsa-jcs-2022";

/// Why a proof does not verify; each has a stable code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProofError {
    #[error("the document is not a JSON object")]
    NotAnObject,
    #[error("the document has no proof")]
    MissingProof,
    #[error("unsupported proof: {0}")]
    Unsupported(String),
    #[error("the proof is missing {0}")]
    MissingField(&'static str),
    #[error("the document's @context does not start with the proof's @context")]
    ContextMismatch,
    #[error("proofValue is not a base58btc Ed25519 signature")]
    MalformedSignature,
    #[error("the signature does not verify")]
    BadSignature,
}

impl ProofError {
    pub fn code(&self) -> &'static str {
        match self {
            ProofError::NotAnObject => "not_an_object",
            ProofError::MissingProof => "missing_proof",
            ProofError::Unsupported(_) => "unsupported_proof",
            ProofError::MissingField(_) => "malformed_proof",
            ProofError::ContextMismatch => "context_mismatch",
            ProofError::MalformedSignature => "malformed_signature",
            ProofError::BadSignature => "bad_signature",
        }
    }
}

/// The bytes an `eddsa-jcs-2022` signature covers.
pub fn hash_data(document: &Value, proof_config: &Value) -> [u8; 64] {
    hash_parts(sha256(&jcs(proof_config)), sha256(&jcs(document)))
}

/// `hashData` from the SHA-256 of the canonical proof configuration and of the document.
fn hash_parts(proof_config: [u8; 32], document: [u8; 32]) -> [u8; 64] {
    let mut data = [0; 64];
    data[..32].copy_from_slice(&proof_config);
    data[32..].copy_from_slice(&document);
    data
}

/// Signs `document` (which must not carry a proof), returning it with a `proof`.
/// The proof configuration takes the document's `@context`, as the specification does.
pub fn sign(document: &Value, key: &SigningKey, verification_method: &str, created: &str) -> Result<Value, ProofError> {
    let object = document.as_object().ok_or(ProofError::NotAnObject)?;
    let mut config = Map::new();
    config.insert("type".into(), PROOF_TYPE.into());
    config.insert("cryptosuite".into(), CRYPTOSUITE.into());
    config.insert("created".into(), created.into());
    config.insert("verificationMethod".into(), verification_method.into());
    config.insert("proofPurpose".into(), "assertionMethod".into());
    if let Some(context) = object.get("@context") {
        config.insert("@context".into(), context.clone());
    }
    let config = Value::Object(config);
    let signature = key.sign(&hash_data(document, &config));
    let mut proof = config;
    proof["proofValue"] = multikey::base58btc(&signature.to_bytes()).into();
    let mut secured = document.clone();
    secured["proof"] = proof;
    Ok(secured)
}

/// A proof that was checked structurally, with what verification needs.
#[derive(Debug, Clone)]
pub struct Proof {
    pub verification_method: String,
    pub created: String,
    /// `hashData`: the SHA-256 of the proof configuration and of the document without its proof.
    signed: [u8; 64],
    signature: Signature,
    /// SHA-256 of the secured document's JCS form, proof included (the registry's digest).
    pub secured_sha256: [u8; 32],
}

/// Parses and checks a secured document's proof, up to (not including) the signature check.
pub fn parse(secured: &Value) -> Result<Proof, ProofError> {
    let object = secured.as_object().ok_or(ProofError::NotAnObject)?;
    let proof = object.get("proof").and_then(Value::as_object).ok_or(ProofError::MissingProof)?;
    let text = |name: &'static str| proof.get(name).and_then(Value::as_str).ok_or(ProofError::MissingField(name));
    if text("type")? != PROOF_TYPE || text("cryptosuite")? != CRYPTOSUITE {
        return Err(ProofError::Unsupported(format!("{} / {}", text("type")?, text("cryptosuite")?)));
    }
    let verification_method = text("verificationMethod")?.to_string();
    let created = text("created")?.to_string();
    text("proofPurpose")?;
    let signature_bytes = multikey::from_base58btc(text("proofValue")?).map_err(|_| ProofError::MalformedSignature)?;
    let signature = Signature::from_slice(&signature_bytes).map_err(|_| ProofError::MalformedSignature)?;
    let proof_context = proof.get("@context");
    if let Some(proof_context) = proof_context
        && !context_starts_with(object.get("@context"), proof_context)
    {
        return Err(ProofError::ContextMismatch);
    }
    // The signed document is the secured one without `proof`, under the proof's @context: when
    // that is the document's own (as `sign` makes it), the secured document's canonical bytes
    // less the proof member, from one write.
    let (secured_bytes, proof_span) = jcs_locating(object, "proof");
    let (secured_sha256, document_sha256) = match proof_span {
        Some(span) if proof_context.is_none_or(|c| object.get("@context") == Some(c)) => {
            sha256_with_and_without(&secured_bytes, span)
        }
        _ => {
            (sha256(&secured_bytes), sha256(&jcs_object_view(object, "proof", proof_context.map(|c| ("@context", c)))))
        }
    };
    let signed = hash_parts(sha256(&jcs_object_view(proof, "proofValue", None)), document_sha256);
    Ok(Proof { verification_method, created, signed, signature, secured_sha256 })
}

fn context_starts_with(document: Option<&Value>, proof: &Value) -> bool {
    fn as_list(v: &Value) -> &[Value] {
        match v {
            Value::Array(items) => items,
            other => std::slice::from_ref(other),
        }
    }
    let (Some(document), proof) = (document.map(as_list), as_list(proof)) else { return false };
    document.starts_with(proof)
}

impl Proof {
    /// The Multikey of a `did:key` verification method.
    pub fn did_key(&self) -> Option<&str> {
        self.verification_method.strip_prefix("did:key:")?.split('#').next()
    }

    pub fn verify(&self, key: &VerifyingKey) -> Result<(), ProofError> {
        if self.check_with(*key).verify() { Ok(()) } else { Err(ProofError::BadSignature) }
    }

    /// The signature check of this proof with `key`, to be made here or elsewhere (in a batch).
    pub fn check_with(&self, key: VerifyingKey) -> SignatureCheck {
        SignatureCheck { message: self.signed, signature: self.signature, key }
    }
}

/// One Ed25519 check: the signed bytes (`hashData`), the signature and the key.
#[derive(Debug, Clone)]
pub struct SignatureCheck {
    pub message: [u8; 64],
    pub signature: Signature,
    pub key: VerifyingKey,
}

impl SignatureCheck {
    pub fn verify(&self) -> bool {
        self.key.verify(&self.message, &self.signature).is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hex::encode as hex;

    fn vector(name: &str) -> String {
        std::fs::read_to_string(format!("{}/tests/vectors/w3c-vc-di-eddsa/{name}", env!("CARGO_MANIFEST_DIR")))
            .unwrap()
            .trim()
            .to_string()
    }

    fn json(name: &str) -> Value {
        serde_json::from_str(&vector(name)).unwrap()
    }

    const METHOD: &str =
        "did:key:z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2#z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2";

    #[test]
    fn the_w3c_vectors_reproduce_step_by_step() {
        let unsigned = json("unsigned.json");
        assert_eq!(String::from_utf8(jcs(&unsigned)).unwrap(), vector("canonDocJCS.txt"));
        assert_eq!(hex(sha256(&jcs(&unsigned))), vector("docHashJCS.txt"));
        let config = json("proofConfigJCS.json");
        assert_eq!(String::from_utf8(jcs(&config)).unwrap(), vector("proofCanonJCS.txt"));
        assert_eq!(hex(sha256(&jcs(&config))), vector("proofHashJCS.txt"));
        assert_eq!(hex(hash_data(&unsigned, &config)), vector("combinedHashJCS.txt"));

        let pair: Value = serde_json::from_str(&vector("keyPair.json")).unwrap();
        let key = multikey::decode_secret(pair["privateKeyMultibase"].as_str().unwrap()).unwrap();
        let signed = sign(&unsigned, &key, METHOD, "2023-02-24T23:36:38Z").unwrap();
        assert_eq!(signed["proof"]["proofValue"], vector("sigBTC58JCS.txt"));
        assert_eq!(hex(multikey::from_base58btc(&vector("sigBTC58JCS.txt")).unwrap()), vector("sigHexJCS.txt"));
        assert_eq!(signed, json("signedJCS.json"));
    }

    #[test]
    fn the_signed_w3c_credential_verifies_and_tampering_breaks_it() {
        let signed = json("signedJCS.json");
        let public = multikey::decode_public("z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2").unwrap();
        let proof = parse(&signed).unwrap();
        assert_eq!(proof.verification_method, METHOD);
        proof.verify(&public).unwrap();

        let mut tampered = signed.clone();
        tampered["credentialSubject"]["alumniOf"] = "The School of Forgeries".into();
        assert_eq!(parse(&tampered).unwrap().verify(&public), Err(ProofError::BadSignature));
        let mut recontext = signed.clone();
        recontext["@context"] = serde_json::json!(["https://www.w3.org/ns/credentials/v2"]);
        assert_eq!(parse(&recontext).unwrap_err(), ProofError::ContextMismatch);
        let mut suite = signed.clone();
        suite["proof"]["cryptosuite"] = "ecdsa-rdfc-2019".into();
        assert!(matches!(parse(&suite).unwrap_err(), ProofError::Unsupported(_)));
        let mut no_proof = signed;
        no_proof.as_object_mut().unwrap().remove("proof");
        assert_eq!(parse(&no_proof).unwrap_err(), ProofError::MissingProof);
    }

    /// The signed bytes take the proof's @context, whether or not the document's is the same;
    /// the registry's digest is the whole secured document's.
    #[test]
    fn a_document_extending_the_proofs_context_verifies_under_the_proofs() {
        let key = SigningKey::from_bytes(&[7; 32]);
        let document = serde_json::json!({"@context": ["https://www.w3.org/ns/credentials/v2"], "name": "张三"});
        let mut signed = sign(&document, &key, METHOD, "2026-01-01T00:00:00Z").unwrap();
        let proof = parse(&signed).unwrap();
        proof.verify(&key.verifying_key()).unwrap();
        assert_eq!(proof.secured_sha256, sha256(&jcs(&signed)));

        signed["@context"].as_array_mut().unwrap().push("https://example.org/extra".into());
        let extended = parse(&signed).unwrap();
        extended.verify(&key.verifying_key()).unwrap();
        assert_eq!(extended.secured_sha256, sha256(&jcs(&signed)));
        assert_ne!(extended.secured_sha256, proof.secured_sha256);
        signed["name"] = "李四".into();
        assert_eq!(parse(&signed).unwrap().verify(&key.verifying_key()), Err(ProofError::BadSignature));
    }

    #[test]
    fn chinese_escapes_and_numbers_canonicalize_and_every_byte_matters() {
        // JCS rules exercised: keys sorted by UTF-16 code units (non-ASCII after ASCII), strings
        // kept as UTF-8 with only the mandatory escapes, numbers in their shortest ECMAScript form.
        let document: Value = serde_json::from_str(
            r#"{"@context":["https://www.w3.org/ns/credentials/v2"],"credentialSubject":{"name":"张三","title":"高级工程师\n\"正高\"\u0007","score":1.0e2,"small":0.000001,"big":1e21,"neg":-0.0,"€":"\u20ac","a":"\u00e9"}}"#,
        )
        .unwrap();
        assert_eq!(
            String::from_utf8(jcs(&document)).unwrap(),
            r#"{"@context":["https://www.w3.org/ns/credentials/v2"],"credentialSubject":{"a":"é","big":1e+21,"name":"张三","neg":0,"score":100,"small":0.000001,"title":"高级工程师\n\"正高\"\u0007","€":"€"}}"#
        );
        let key = SigningKey::from_bytes(&[7u8; 32]);
        let signed = sign(&document, &key, "did:key:x#x", "2026-01-01T00:00:00Z").unwrap();
        parse(&signed).unwrap().verify(&key.verifying_key()).unwrap();
        // Re-serializing differently (pretty, reordered) does not matter: the canonical form does.
        let reparsed: Value = serde_json::from_str(&serde_json::to_string_pretty(&signed).unwrap()).unwrap();
        parse(&reparsed).unwrap().verify(&key.verifying_key()).unwrap();
        // Changing any byte of the content breaks the signature.
        let canonical = jcs(&signed["credentialSubject"]);
        let text = String::from_utf8(canonical.clone()).unwrap();
        for (i, ch) in text.char_indices() {
            if !ch.is_alphanumeric() && !"张三高级工程师正".contains(ch) {
                continue;
            }
            let mut altered = text.clone();
            altered.replace_range(i..i + ch.len_utf8(), if ch == 'x' { "y" } else { "x" });
            let Ok(subject) = serde_json::from_str::<Value>(&altered) else { continue };
            let mut forged = signed.clone();
            forged["credentialSubject"] = subject;
            assert_eq!(
                parse(&forged).unwrap().verify(&key.verifying_key()),
                Err(ProofError::BadSignature),
                "changing byte {i} went unnoticed"
            );
        }
    }
}
