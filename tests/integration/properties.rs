//! Property tests for every parser of untrusted input: whatever the bytes, no panic; and where
//! a format has a writer, what it writes parses back to what was written.

use proptest::prelude::*;
use serde_json::{Value, json};
use zhicheng::crypto::compact;
use zhicheng::domain::certificate::parse_credential;
use zhicheng::domain::verification::Presented;
use zhicheng::publish::import::{CsvType, parse_csv, parse_ndjson, parse_operation};
use zhicheng::tlog::signed_note::{Checkpoint, NoteSigner, NoteVerifier, TlogProof};
use zhicheng::tlog::tiles::{TilePath, entry_bundle, parse_entry_bundle};

/// JSON without floats (JCS writes a float in its shortest form, so `1.0` comes back `1`).
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        (-(1i64 << 53)..(1i64 << 53)).prop_map(|n| json!(n)),
        ".{0,12}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map("[a-zA-Z@_]{0,10}", inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// A credential-shaped document: the fields the parser looks for, with arbitrary values.
fn credential_like() -> impl Strategy<Value = Value> {
    (json_value(), json_value(), json_value(), ".{0,20}", json_value()).prop_map(
        |(subject, proof, issuer, t, extra)| {
            json!({
                "@context": ["https://www.w3.org/ns/credentials/v2", t],
                "type": ["VerifiableCredential", "ProfessionalTitleCredential"],
                "issuer": issuer,
                "validFrom": t,
                "credentialSubject": subject,
                "credentialStatus": extra,
                "proof": proof,
            })
        },
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn tile_paths_parse_only_their_canonical_form(text in "[0-9a-z./x]{0,40}") {
        if let Some(path) = TilePath::parse(&text) {
            prop_assert_eq!(path.format(), text);
        }
    }

    #[test]
    fn tile_paths_round_trip(level in prop::option::of(0u32..=63), index in 0u64..1u64 << 40, width in prop::option::of(1u64..256)) {
        let path = TilePath { level, index, width };
        prop_assert_eq!(TilePath::parse(&path.format()), Some(path));
    }

    #[test]
    fn entry_bundles_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let _ = parse_entry_bundle(&bytes);
    }

    #[test]
    fn entry_bundles_round_trip(entries in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..300), 0..20)) {
        let bundle = entry_bundle(entries.iter().map(Vec::as_slice)).expect("entries under 64 KiB fit");
        let parsed = parse_entry_bundle(&bundle).expect("a bundle we wrote parses");
        prop_assert_eq!(parsed, entries.iter().map(Vec::as_slice).collect::<Vec<_>>());
    }

    #[test]
    fn checkpoints_never_panic(text in ".{0,200}") {
        let _ = Checkpoint::parse(&text);
    }

    #[test]
    fn checkpoints_round_trip(origin in "[a-z0-9./-]{1,40}", size in any::<u64>(), root in any::<[u8; 32]>()) {
        let checkpoint = Checkpoint { origin, size, root };
        let parsed = Checkpoint::parse(&checkpoint.body()).expect("a body we wrote parses");
        prop_assert_eq!(parsed, checkpoint);
    }

    #[test]
    fn tlog_proofs_never_panic(text in "(c2sp.org/tlog-proof@v1\n)?(extra [A-Za-z0-9+/=]{0,20}\n)?(index [0-9]{0,5}\n)?[A-Za-z0-9+/=\n]{0,120}") {
        let _ = TlogProof::parse(&text);
    }

    #[test]
    fn tlog_proofs_round_trip(
        extra in prop::option::of(prop::collection::vec(any::<u8>(), 0..64)),
        index in any::<u64>(),
        hashes in prop::collection::vec(any::<[u8; 32]>(), 0..8),
        checkpoint in "[a-z]{1,10}\n[0-9]{1,5}\n[A-Za-z0-9+/]{4,44}\n\n— [a-z]{1,10} [A-Za-z0-9+/]{4,20}\n",
    ) {
        let proof = TlogProof { extra, index, hashes, checkpoint };
        prop_assert_eq!(TlogProof::parse(&proof.format()).expect("a proof we wrote parses"), proof);
    }

    #[test]
    fn signed_notes_open_only_what_was_signed(text in "([ -~]{1,30}\n){1,4}", noise in "[ -~\n]{0,60}", flip in any::<prop::sample::Index>()) {
        let signer = NoteSigner::new("zhicheng.registry/test", ed25519_dalek::SigningKey::from_bytes(&[9; 32])).unwrap();
        let verifier = NoteVerifier::parse(&signer.verifier_key()).unwrap();
        let _ = verifier.open(&noise);
        let note = signer.sign(&text).expect("a note text ends in a newline and has no blank line");
        {
            prop_assert_eq!(verifier.open(&note).expect("our own note opens"), text.as_str());
            // Any one changed byte of the signed text is refused or opens to other text.
            let mut bytes = note.clone().into_bytes();
            let at = flip.index(text.len().max(1)).min(bytes.len() - 1);
            bytes[at] = if bytes[at] == b'a' { b'b' } else { b'a' };
            if let Ok(changed) = String::from_utf8(bytes) && changed != note {
                prop_assert!(verifier.open(&changed).is_err());
            }
        }
    }

    #[test]
    fn verifier_keys_never_panic(text in ".{0,120}") {
        let _ = NoteVerifier::parse(&text);
        let _ = NoteSigner::parse(&text);
    }

    #[test]
    fn compact_forms_never_panic(text in "(ZC1:)?[0-9A-Z $%*+./:-]{0,200}") {
        let _ = compact::decode(&text);
    }

    #[test]
    fn compact_forms_round_trip(value in json_value()) {
        prop_assert_eq!(compact::decode(&compact::encode(&value)).expect("a form we wrote decodes"), value);
    }

    #[test]
    fn credentials_never_panic(credential in prop_oneof![json_value(), credential_like()]) {
        let _ = parse_credential(&credential);
        let presented = Presented::new(credential);
        let _ = presented.digest();
        let _ = presented.signature_check();
    }

    #[test]
    fn ndjson_files_never_panic(text in "[ -~\n{}\":,\\[\\]]{0,400}") {
        let _ = parse_ndjson(&text);
    }

    #[test]
    fn ndjson_lines_round_trip(id in "[a-z0-9-]{1,20}", document in ".{1,30}", reason in prop::option::of(".{0,30}"), day in 1u32..28) {
        let line = json!({
            "op": "lift_sanction", "sanction_id": id, "effective_on": format!("2026-02-{day:02}"),
            "document_number": document, "reason": reason,
        });
        let op = parse_operation(&line.to_string()).expect("a line we wrote parses");
        let mut written = serde_json::to_value(&op).unwrap();
        if reason.is_none() {
            written.as_object_mut().unwrap().entry("reason").or_insert(Value::Null);
        }
        prop_assert_eq!(written, line);
    }

    #[test]
    fn csv_files_never_panic(text in "[ -~\n,\"]{0,400}", kind in 0usize..3) {
        let kind = [CsvType::Committees, CsvType::Authorizations, CsvType::Sanctions][kind];
        let _ = parse_csv(&text, kind);
    }
}
