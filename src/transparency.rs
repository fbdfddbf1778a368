//! The transparency log as a service: the log key and its checkpoints, the sequencer that signs
//! them, proofs computed from stored tiles, and the audit that rebuilds the tree from the
//! event table. The pure parts live in `tlog` and `domain::log`.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use crate::domain::log::check_entry;
use crate::store::{EventFilter, Store, StoreResult, StoredCheckpoint};
use crate::tlog::merkle::{self, Hash, Nodes, leaf_hash};
use crate::tlog::signed_note::{Checkpoint, NoteVerifier};
use crate::tlog::tiles::{self, TileNodes, TreeBuilder};

pub use crate::tlog::signer::{LogSigner, origin};

/// Signs a checkpoint if the log grew since the last one (or has none yet).
pub async fn sign_checkpoint(store: &dyn Store, log: &LogSigner) -> StoreResult<Option<StoredCheckpoint>> {
    store.sign_checkpoint(&|size, root| log.sign(size, root)).await
}

/// The sequencer: a checkpoint at most every `every` while there are new leaves. On
/// PostgreSQL every node runs one and the advisory lock lets one sign at a time.
pub fn spawn_sequencer(store: Arc<dyn Store>, log: Arc<LogSigner>, every: Duration) {
    tokio::spawn(async move {
        loop {
            match sign_checkpoint(store.as_ref(), &log).await {
                Ok(Some(c)) => tracing::debug!(log.size = c.size, "checkpoint signed"),
                Ok(None) => {}
                Err(e) => tracing::warn!(error = %e, "could not sign a checkpoint"),
            }
            tokio::time::sleep(every).await;
        }
    });
}

/// Runs a tree computation against stored tiles: first to learn which tiles it reads, then
/// on those tiles, fetched in one query.
async fn on_tiles<T>(store: &dyn Store, compute: impl Fn(&mut dyn Nodes) -> T) -> StoreResult<T> {
    let needed = tiles::tiles_needed(|r| {
        compute(r);
    });
    let fetched = store.log_tiles(&needed).await?;
    let mut nodes = TileNodes::new(&fetched);
    let out = compute(&mut nodes);
    match nodes.missing {
        None => Ok(out),
        Some((level, index)) => Err(crate::store::StoreError::Corrupt(format!("log tile {level}/{index} is missing"))),
    }
}

pub async fn inclusion_proof(store: &dyn Store, index: u64, size: u64) -> StoreResult<Vec<Hash>> {
    on_tiles(store, |n| merkle::prove_inclusion(size, index, n)).await
}

pub async fn consistency_proof(store: &dyn Store, from: u64, to: u64) -> StoreResult<Vec<Hash>> {
    on_tiles(store, |n| merkle::prove_consistency(from, to, n)).await
}

pub async fn root_at(store: &dyn Store, size: u64) -> StoreResult<Hash> {
    on_tiles(store, |n| merkle::tree_root(size, n)).await
}

/// What `zhicheng log audit` found.
#[derive(Debug, Default)]
pub struct AuditReport {
    pub size: u64,
    pub checkpoint: Option<StoredCheckpoint>,
    pub problems: Vec<String>,
}

/// Rebuilds the tree from the event table and compares it with the stored tiles and the
/// latest signed checkpoint: a row changed, removed or inserted after it was logged shows.
pub async fn audit(store: &dyn Store, verifier: &NoteVerifier) -> StoreResult<AuditReport> {
    const PAGE: u32 = 10_000;
    const MAX_PROBLEMS: usize = 100;
    let mut report = AuditReport::default();
    let mut tree = TreeBuilder::default();
    let mut heads = HashMap::new();
    let mut after = None;
    // The entries of the entry bundle being filled, checked as the server serves them.
    let mut bundle: Vec<Vec<u8>> = Vec::new();
    loop {
        let events = store.events_after(&EventFilter::default(), after, PAGE).await?;
        let Some(last) = events.last() else { break };
        after = Some(last.seq);
        let mut leaves = Vec::with_capacity(events.len());
        for e in &events {
            let index = tree.size + leaves.len() as u64;
            if e.seq as u64 != index {
                report.problems.push(format!("event {index} is missing (the next row is {})", e.seq));
                break;
            }
            let entry = e.entry();
            if let Err(problem) = check_entry(&entry, index, &mut heads) {
                report.problems.push(problem);
            }
            leaves.push(leaf_hash(&entry));
            bundle.push(entry);
            if bundle.len() as u64 == tiles::WIDTH {
                check_bundle(index + 1 - tiles::WIDTH, &bundle, &mut report.problems);
                bundle.clear();
            }
        }
        tree.push(&leaves);
        if leaves.len() < events.len() {
            break;
        }
    }
    check_bundle(tree.size - bundle.len() as u64, &bundle, &mut report.problems);
    report.size = tree.size;
    compare_tiles(store, &tree, &mut report).await?;
    report.checkpoint = store.latest_checkpoint().await?;
    if let Some(c) = &report.checkpoint {
        check_checkpoint(c, &tree, verifier, &mut report.problems);
    }
    report.problems.truncate(MAX_PROBLEMS);
    Ok(report)
}

/// Builds the entry bundle of the entries from index `first` exactly as the server serves it,
/// and reads it back as an outside verifier would: an entry the bundle cannot carry is a
/// problem the operator sees before any reader does.
fn check_bundle(first: u64, entries: &[Vec<u8>], problems: &mut Vec<String>) {
    if entries.is_empty() {
        return;
    }
    let bundle = match tiles::entry_bundle(entries.iter().map(Vec::as_slice)) {
        Ok(bundle) => bundle,
        Err(e) => {
            let index = first + e.position as u64;
            problems.push(format!(
                "event {index}: its entry is {} bytes, more than an entry bundle can carry (65,535); outside verifiers cannot read entry bundle {}",
                e.len,
                first / tiles::WIDTH
            ));
            return;
        }
    };
    let read_back = tiles::parse_entry_bundle(&bundle);
    if read_back
        .is_none_or(|read| read.len() != entries.len() || read.iter().zip(entries).any(|(a, b)| *a != b.as_slice()))
    {
        problems.push(format!("entry bundle {} does not read back as its entries", first / tiles::WIDTH));
    }
}

/// Every stored tile must equal the rebuilt one; for leaves, say which events differ.
async fn compare_tiles(store: &dyn Store, tree: &TreeBuilder, report: &mut AuditReport) -> StoreResult<()> {
    let mut keys: Vec<_> = tree.tiles.keys().copied().collect();
    keys.sort();
    for chunk in keys.chunks(1000) {
        let stored = store.log_tiles(chunk).await?;
        for key in chunk {
            let rebuilt = &tree.tiles[key];
            match stored.get(key) {
                Some(s) if s == rebuilt => {}
                Some(s) if key.0 == 0 => {
                    for (i, (a, b)) in s.iter().zip(rebuilt).enumerate() {
                        if a != b {
                            let index = key.1 * tiles::WIDTH + i as u64;
                            report.problems.push(format!(
                                "event {index}: its row no longer hashes to the leaf logged for it (changed after logging)"
                            ));
                        }
                    }
                    if s.len() != rebuilt.len() {
                        report.problems.push(format!(
                            "tile 0/{}: {} leaves stored, {} rebuilt",
                            key.1,
                            s.len(),
                            rebuilt.len()
                        ));
                    }
                }
                Some(_) => report.problems.push(format!("tile {}/{} differs from the rebuilt tree", key.0, key.1)),
                None => report.problems.push(format!("tile {}/{} is missing", key.0, key.1)),
            }
        }
    }
    Ok(())
}

fn check_checkpoint(c: &StoredCheckpoint, tree: &TreeBuilder, verifier: &NoteVerifier, problems: &mut Vec<String>) {
    match verifier
        .open(&c.note)
        .map_err(|e| e.to_string())
        .and_then(|body| Checkpoint::parse(body).map_err(|e| e.to_string()))
    {
        Err(e) => problems.push(format!("checkpoint {}: {e}", c.size)),
        Ok(signed) if signed.size != c.size || signed.root != c.root => {
            problems.push(format!("checkpoint {}: the signed note says size {} and another root", c.size, signed.size))
        }
        Ok(_) if c.size > tree.size => {
            problems.push(format!("checkpoint {} covers more events than the table holds ({})", c.size, tree.size))
        }
        Ok(_) if tree.root(c.size) != c.root => problems.push(format!(
            "checkpoint {}: the events no longer produce the signed root (the log was rewritten after signing)",
            c.size
        )),
        Ok(_) => {}
    }
}
