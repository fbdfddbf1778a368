//! Publishing, above the rules and below HTTP: the batch that applies operations to loaded
//! state (the unit of work `store::Publishing::execute` runs in one transaction), the typed
//! event payload every write logs, the bulk-file parsers, and new ids.

pub mod batch;
pub mod bindings;
pub mod event;
pub mod ids;
pub mod import;
pub mod json;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// What one operation did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Applied {
    /// The event kind, e.g. `committee.created`.
    pub op: String,
    /// The id of the entity created or changed.
    pub id: String,
    pub event_seq: i64,
    pub back_dated: bool,
    /// What the write changed, for caches; not part of the answer.
    #[serde(skip)]
    #[schema(ignore)]
    pub touched: crate::publish::event::Touched,
}

#[derive(Debug, Clone, PartialEq)]
pub enum WriteOutcome {
    Applied(Vec<Applied>),
    /// The same key and request were seen before: the first result, nothing written.
    Replayed(Vec<Applied>),
}
