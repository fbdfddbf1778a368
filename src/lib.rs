//! zhicheng: an open registry of who may evaluate professional titles (职称), for what,
//! and until when; and the answers that follow from it.
//!
//! Layers point one way: `cli` → `http` → `verify`, `transparency`, `demo` → `store` →
//! `publish` → `domain` → `crypto`, `tlog` (docs/ARCHITECTURE.md; tests/integration/architecture.rs
//! checks it). `domain`, `crypto` and `tlog` know nothing of HTTP or SQL.

#![forbid(unsafe_code)]

pub use zhicheng_core::{crypto, domain, tlog};

pub mod cli;
pub mod demo;
pub mod export;
pub mod http;
pub mod publish;
pub mod store;
pub mod transparency;
pub mod verify;
pub mod webhooks;
