//! The log's signing key: signs checkpoints as C2SP signed notes under the log's origin.

use ed25519_dalek::SigningKey;

use super::merkle::Hash;
use super::signed_note::{Checkpoint, NoteError, NoteSigner, NoteVerifier};

/// The checkpoint origin line of a deployment: `zhicheng.registry/<deployment>`.
pub fn origin(deployment: &str) -> String {
    format!("zhicheng.registry/{deployment}")
}

/// The log's signing key, named by the log's origin.
#[derive(Clone)]
pub struct LogSigner {
    note: NoteSigner,
    pub origin: String,
}

impl std::fmt::Debug for LogSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogSigner").field("origin", &self.origin).finish_non_exhaustive()
    }
}

impl LogSigner {
    /// Fails when the deployment name makes no valid note origin.
    pub fn new(deployment: &str, key: SigningKey) -> Result<LogSigner, NoteError> {
        let origin = origin(deployment);
        let note = NoteSigner::new(&origin, key)?;
        Ok(LogSigner { note, origin })
    }

    /// The signed note of the checkpoint `(size, root)`.
    pub fn sign(&self, size: u64, root: &Hash) -> String {
        let body = Checkpoint { origin: self.origin.clone(), size, root: *root }.body();
        self.note.sign(&body).expect("a checkpoint body is a valid note text")
    }

    /// The verifier key in signed-note text form: `<origin>+<key id>+<base64 key>`.
    pub fn verifier_key(&self) -> String {
        self.note.verifier_key()
    }

    pub fn verifier(&self) -> NoteVerifier {
        NoteVerifier::parse(&self.verifier_key()).expect("our own verifier key parses")
    }
}
