//! The offline check of one entry's tlog-proof: the checkpoint is signed by the log's key, and
//! the entry the proof carries is a leaf of that signed tree.

use super::merkle::{self, leaf_hash};
use super::signed_note::{Checkpoint, NoteVerifier, TlogProof};

/// Why a proof does not hold; the text says it for a person.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ProofFailure(pub String);

fn failure(msg: impl Into<String>) -> ProofFailure {
    ProofFailure(msg.into())
}

/// Opens a signed checkpoint with the log's key, and checks it is that log's.
pub fn open_checkpoint(verifier: &NoteVerifier, note: &str) -> Result<Checkpoint, ProofFailure> {
    let body = verifier.open(note).map_err(|e| failure(format!("checkpoint signature: {e}")))?;
    let checkpoint = Checkpoint::parse(body).map_err(|e| failure(format!("checkpoint: {e}")))?;
    if checkpoint.origin != verifier.name {
        return Err(failure(format!("checkpoint origin {:?} is not the key's {:?}", checkpoint.origin, verifier.name)));
    }
    Ok(checkpoint)
}

/// An entry proven to be in a signed tree.
#[derive(Debug, Clone, PartialEq)]
pub struct ProvenEntry {
    pub index: u64,
    pub checkpoint: Checkpoint,
    /// The entry: the JCS text of the logged event.
    pub entry: serde_json::Value,
}

/// Checks a tlog-proof file's text against the log's verifier key: the checkpoint's signature
/// and origin, then the entry's inclusion in the tree the checkpoint signs.
pub fn check(proof_text: &str, verifier: &NoteVerifier) -> Result<ProvenEntry, ProofFailure> {
    let proof = TlogProof::parse(proof_text).map_err(|e| failure(format!("proof: {e}")))?;
    let checkpoint = open_checkpoint(verifier, &proof.checkpoint)?;
    let entry = proof.extra.as_deref().ok_or_else(|| failure("the proof carries no entry (extra)"))?;
    if !merkle::verify_inclusion(proof.index, checkpoint.size, &leaf_hash(entry), &proof.hashes, &checkpoint.root) {
        return Err(failure(format!("the entry is not at index {} of the signed tree", proof.index)));
    }
    let entry = serde_json::from_slice(entry).map_err(|e| failure(format!("the entry is not JSON: {e}")))?;
    Ok(ProvenEntry { index: proof.index, checkpoint, entry })
}
