//! zhicheng: an open registry of who may evaluate professional titles (职称), for what,
//! and until when; and the answers that follow from it.
//!
//! Layers point one way: `api` and `cli` use `store`, which uses `domain`; `domain` knows
//! nothing of HTTP or SQL.

#![forbid(unsafe_code)]

pub mod api;
pub mod app;
pub mod cli;
pub mod config;
pub mod crypto;
pub mod demo;
pub mod demo_certificates;
pub mod domain;
pub mod error;
pub mod import;
pub mod offline;
pub mod registry_key;
pub mod signature_batch;
pub mod store;
pub mod tlog;
pub mod tokens;
pub mod transparency;
