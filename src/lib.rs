//! zhicheng: an open registry of who may evaluate professional titles (职称), for what,
//! and until when; and the answers that follow from it.
//!
//! Layers point one way: `api` and `cli` use `store`, which uses `domain`; `domain` knows
//! nothing of HTTP or SQL.

#![forbid(unsafe_code)]

pub mod cli;
pub mod crypto;
pub mod demo;
pub mod domain;
pub mod http;
pub mod publish;
pub mod store;
pub mod tlog;
pub mod transparency;
pub mod verify;
