//! Pure domain types and rules: no I/O, no HTTP, no SQL.
//!
//! Everything here is a function of its arguments, so the offline verifier and the server
//! reach the same answers from the same data.

pub mod authority;
pub mod authorization;
pub mod catalog;
pub mod certificate;
pub mod code;
pub mod committee;
pub mod coverage;
pub mod credit_code;
pub mod holder_id;
pub mod log;
pub mod publish;
pub mod reason;
pub mod sanction;
pub mod search;
pub mod session;
pub mod similarity;
pub mod text;
pub mod verification;

pub use chrono::NaiveDate as Date;
