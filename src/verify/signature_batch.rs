//! Signature checks of concurrent requests, verified together.
//!
//! A request that finds no check waiting starts a batch: a task that lets the requests that
//! are ready to run go first (one `yield_now`), then verifies the checks they queued
//! meanwhile, the first included, as one `ed25519_dalek::verify_batch` (at 4–8 signatures,
//! 0.55–0.65 of the cost of checking them one by one) and hands each its answer. Nothing
//! waits for a batch to fill: a lone request is checked at once, alone. A batch that fails is
//! checked one signature at a time, so a bad signature fails only its own request.
//!
//! A bulk request's chunk is checked with `ed25519_zebra`'s batch equation instead, which adds
//! up the terms of signatures made by the same key: its certificates come from a few issuers,
//! and its batches of 64 cost about half of `ed25519_dalek::verify_batch`'s per signature;
//! batches of 256 a little less again (docs/PERFORMANCE.md).
//!
//! Why a batch cannot change a verdict: docs/DECISIONS.md, "Verifying signatures in batches".

use ed25519_dalek::{Signature, VerifyingKey};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use tokio::sync::oneshot;

use crate::crypto::data_integrity::SignatureCheck;

/// Largest batch of concurrent requests' checks: a batch holds its worker thread (16 checks ≈
/// 0.3 ms).
const MAX_BATCH: usize = 16;
/// Largest batch of one caller's checks (a bulk chunk): at 256 signatures and a few keys,
/// curve25519-dalek's multiscalar multiplication has passed to Pippenger's method (from 190
/// points), cheaper per point than Straus's below it; 512 gained nothing more.
const MAX_BULK_BATCH: usize = 256;

struct Job {
    check: SignatureCheck,
    answer: oneshot::Sender<bool>,
}

#[derive(Clone, Default)]
pub struct SignatureBatcher {
    waiting: Arc<Mutex<Vec<Job>>>,
}

impl SignatureBatcher {
    /// Whether the signature verifies.
    pub async fn verify(&self, check: SignatureCheck) -> bool {
        let (answer, answered) = oneshot::channel();
        let first = {
            let mut waiting = self.waiting.lock().expect("not poisoned");
            waiting.push(Job { check, answer });
            waiting.len() == 1
        };
        if first {
            // A task of its own: were the batch run by this request, a client hanging up would
            // drop it midway and leave every later check waiting for a batch that never comes.
            tokio::spawn(self.clone().lead());
        }
        answered.await.unwrap_or(false)
    }

    /// Verifies up to `MAX_BATCH` waiting checks; a new batch task takes any left over.
    /// (Boxed: the future spawns another of its own type.)
    fn lead(self) -> Pin<Box<dyn Future<Output = ()> + Send>> {
        Box::pin(async move {
            tokio::task::yield_now().await;
            let (batch, more) = {
                let mut waiting = self.waiting.lock().expect("not poisoned");
                let taken = waiting.len().min(MAX_BATCH);
                let batch: Vec<Job> = waiting.drain(..taken).collect();
                (batch, !waiting.is_empty())
            };
            if more {
                tokio::spawn(self.lead());
            }
            answer(batch);
        })
    }
}

fn answer(batch: Vec<Job>) {
    let checks: Vec<&SignatureCheck> = batch.iter().map(|j| &j.check).collect();
    let valid = verify_group(&checks);
    for (job, valid) in batch.into_iter().zip(valid) {
        let _ = job.answer.send(valid);
    }
}

/// Whether each signature verifies, checked `MAX_BULK_BATCH` at a time: for a caller that holds
/// many checks at once (a chunk of a bulk request) and needs no other request's to fill a batch.
pub fn verify_all(checks: &[&SignatureCheck]) -> Vec<bool> {
    checks.chunks(MAX_BULK_BATCH).flat_map(verify_by_key).collect()
}

/// One batch of concurrent requests' checks, which mostly name different keys; when it fails,
/// each signature alone, so a bad one fails only itself.
fn verify_group(checks: &[&SignatureCheck]) -> Vec<bool> {
    let all_valid = checks.len() > 1 && {
        let messages: Vec<&[u8]> = checks.iter().map(|c| &c.message[..]).collect();
        let signatures: Vec<Signature> = checks.iter().map(|c| c.signature).collect();
        let keys: Vec<VerifyingKey> = checks.iter().map(|c| c.key).collect();
        ed25519_dalek::verify_batch(&messages, &signatures, &keys).is_ok()
    };
    each_unless(all_valid, checks)
}

/// One batch of a bulk chunk's checks, the terms of each key added up (`ed25519_zebra`, which
/// decodes each distinct key once a batch: a loss when every signature has its own key, as
/// concurrent requests' mostly do); the same re-check when it fails.
fn verify_by_key(checks: &[&SignatureCheck]) -> Vec<bool> {
    let all_valid = checks.len() > 1 && {
        let mut batch = ed25519_zebra::batch::Verifier::new();
        for c in checks {
            let key = ed25519_zebra::VerificationKeyBytes::from(c.key.to_bytes());
            batch.queue((key, ed25519_zebra::Signature::from(c.signature.to_bytes()), &c.message));
        }
        batch.verify(ThreadRandom).is_ok()
    };
    each_unless(all_valid, checks)
}

/// The batch equation's random coefficients, from the thread's CSPRNG (`rand::rng()`, ChaCha
/// seeded from the OS and reseeded) rather than `OsRng`'s one system call per signature.
/// `ed25519_zebra` takes the `rand_core` 0.6 traits, which `rand` 0.9's generator no longer has.
struct ThreadRandom;

impl rand_core::RngCore for ThreadRandom {
    fn next_u32(&mut self) -> u32 {
        rand::RngCore::next_u32(&mut rand::rng())
    }

    fn next_u64(&mut self) -> u64 {
        rand::RngCore::next_u64(&mut rand::rng())
    }

    fn fill_bytes(&mut self, dest: &mut [u8]) {
        rand::RngCore::fill_bytes(&mut rand::rng(), dest)
    }

    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand_core::Error> {
        self.fill_bytes(dest);
        Ok(())
    }
}

impl rand_core::CryptoRng for ThreadRandom {}

/// Every check valid when its batch was, otherwise each checked alone.
fn each_unless(batch_valid: bool, checks: &[&SignatureCheck]) -> Vec<bool> {
    checks.iter().map(|c| batch_valid || c.verify()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::{Signer, SigningKey};
    use std::time::Duration;

    fn check(seed: u8, message: u8) -> SignatureCheck {
        let key = SigningKey::from_bytes(&[seed; 32]);
        let message = [message; 64];
        SignatureCheck { message, signature: key.sign(&message), key: key.verifying_key() }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_checks_each_get_their_own_answer() {
        let batcher = SignatureBatcher::default();
        let mut tasks = Vec::new();
        for i in 0..100u8 {
            let mut c = check(i % 7, i);
            let forged = i % 9 == 4;
            if forged {
                c.message[0] ^= 1;
            }
            let batcher = batcher.clone();
            tasks.push(tokio::spawn(async move { (forged, batcher.verify(c).await) }));
        }
        for task in tasks {
            let (forged, valid) = task.await.unwrap();
            assert_eq!(valid, !forged);
        }
        assert!(batcher.waiting.lock().unwrap().is_empty());
    }

    #[test]
    fn a_forged_signature_fails_only_its_own_check_in_a_batch() {
        let mut receivers = Vec::new();
        let mut batch = Vec::new();
        for i in 0..MAX_BATCH as u8 {
            let mut c = check(i, i);
            if i == 5 {
                c.signature = check(i, i + 1).signature;
            }
            let (answer, answered) = oneshot::channel();
            batch.push(Job { check: c, answer });
            receivers.push(answered);
        }
        answer(batch);
        let answers: Vec<bool> = receivers.into_iter().map(|mut r| r.try_recv().unwrap()).collect();
        assert_eq!(answers.iter().filter(|v| !**v).count(), 1);
        assert!(!answers[5]);
    }

    #[tokio::test]
    async fn a_request_dropped_after_starting_a_batch_leaves_no_check_waiting() {
        let batcher = SignatureBatcher::default();
        let mut first = Box::pin(batcher.verify(check(1, 1)));
        // Polled once (it queues its check and starts the batch), then dropped: a client hung up.
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        assert!(first.as_mut().poll(&mut cx).is_pending());
        drop(first);
        let next = tokio::time::timeout(Duration::from_secs(5), batcher.verify(check(2, 2))).await;
        assert_eq!(next, Ok(true));
    }

    #[tokio::test]
    async fn a_lone_check_is_answered() {
        let batcher = SignatureBatcher::default();
        assert!(batcher.verify(check(1, 2)).await);
        let mut bad = check(1, 2);
        bad.signature = check(1, 3).signature;
        assert!(!batcher.verify(bad).await);
    }
}
