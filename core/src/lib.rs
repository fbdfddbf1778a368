//! zhicheng's pure core: the domain rules, the cryptography and the transparency log's formats.
//! No I/O, no HTTP, no SQL, and no web framework: the offline verifier and the server reach the
//! same answers from the same data. OpenAPI schemas of the domain types are derived only when
//! the server asks for them (feature `openapi`).

#![forbid(unsafe_code)]

pub mod crypto;
pub mod domain;
pub mod tlog;
