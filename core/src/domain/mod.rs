//! Pure domain types and rules: no I/O, no HTTP, no SQL.
//!
//! Everything here is a function of its arguments, so the offline verifier and the server
//! reach the same answers from the same data.

pub mod authority;
pub mod authorization;
pub mod calendar;
pub mod catalog;
pub mod certificate;
pub mod code;
pub mod committee;
pub mod complaint;
pub mod coverage;
pub mod credit_code;
pub mod draw;
pub mod holder_id;
pub mod log;
pub mod notice;
pub mod publish;
pub mod reason;
pub mod sanction;
pub mod search;
pub mod session;
pub mod similarity;
pub mod supervisor;
pub mod text;
pub mod verification;
pub mod violation;

pub use chrono::NaiveDate as Date;

/// The date of an instant in Beijing time, the registry's calendar.
pub fn china_date(at: chrono::DateTime<chrono::Utc>) -> Date {
    at.with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).expect("valid offset")).date_naive()
}
