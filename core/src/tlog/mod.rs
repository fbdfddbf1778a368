//! The transparency log's formats, pure and without I/O: RFC 6962/9162 Merkle hashing and
//! proofs, C2SP tlog-tiles, C2SP signed notes and checkpoints, tlog-proof files, and the
//! check of an entry's proof that an outside verifier runs.

pub mod merkle;
pub mod proof;
pub mod signed_note;
pub mod signer;
pub mod tiles;
