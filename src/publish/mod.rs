//! Publishing, above the rules and below HTTP: the batch that applies operations to loaded
//! state (the unit of work `store::Publishing::execute` runs in one transaction), the typed
//! event payload every write logs, the bulk-file parsers, and new ids.

pub mod batch;
pub mod bindings;
pub mod complaints;
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

/// The operations one write applies, handed to the store a chunk at a time, so a large file is
/// never held parsed whole: only the chunk being applied is.
pub trait OperationSource: Send {
    /// Up to `max` more operations in order, each with the position a rejection names (a
    /// 1-based file line, or the operation's 1-based index); empty when none are left.
    fn next_chunk(&mut self, max: usize) -> Vec<(usize, crate::domain::publish::Operation)>;
}

/// Operations already in memory (one request's worth).
pub struct Listed<'a> {
    ops: &'a [crate::domain::publish::Operation],
    next: usize,
}

impl<'a> Listed<'a> {
    pub fn new(ops: &'a [crate::domain::publish::Operation]) -> Listed<'a> {
        Listed { ops, next: 0 }
    }
}

impl OperationSource for Listed<'_> {
    fn next_chunk(&mut self, max: usize) -> Vec<(usize, crate::domain::publish::Operation)> {
        let end = (self.next + max).min(self.ops.len());
        let chunk = (self.next..end).map(|i| (i + 1, self.ops[i].clone())).collect();
        self.next = end;
        chunk
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum WriteOutcome {
    Applied(Vec<Applied>),
    /// The same key and request were seen before: the first result, nothing written.
    Replayed(Vec<Applied>),
}
