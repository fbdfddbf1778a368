//! The transparency log's SQL, shared by both databases: events become leaves in the same
//! transaction as the change they record (linked to their entity's previous event, personal
//! data replaced by commitments), the tiles they change are rewritten alongside, and
//! checkpoints are signed by one node at a time.

use std::collections::HashMap;

use rand::Rng;

use crate::domain::log::{Disclosure, Event, redact};
use crate::publish::batch::PendingEvent;

/// Numbers pending events from `first_seq`, links each to the previous event about its entity
/// (`heads`: the latest logged event per `(type, id)`), and moves personal data out.
pub(super) fn to_log_events(
    first_seq: i64,
    pending: &[PendingEvent],
    mut heads: HashMap<(String, String), i64>,
) -> (Vec<Event>, Vec<(i64, Disclosure)>) {
    let mut rng = rand::rng();
    let mut salt = || rng.random::<[u8; 16]>();
    let mut disclosures = Vec::new();
    let events = pending
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let seq = first_seq + i as i64;
            let prev = heads.insert((p.entity_type.to_string(), p.entity_id.clone()), seq);
            let mut payload = p.payload.clone();
            disclosures.extend(redact(&mut payload, &mut salt).into_iter().map(|d| (seq, d)));
            Event {
                seq,
                kind: p.kind.clone(),
                entity_type: p.entity_type.to_string(),
                entity_id: p.entity_id.clone(),
                prev,
                authority_id: p.authority_id.clone(),
                credential: p.credential.clone(),
                logged_at: p.logged_at,
                effective_on: p.effective_on,
                back_dated: p.back_dated,
                payload,
            }
        })
        .collect();
    (events, disclosures)
}
