//! Verification as a service: the nine steps of `domain::verification` over evidence read
//! from the store (or from a signed offline bundle), with signer keys decoded once and the
//! signatures of concurrent requests checked in batches.

pub mod offline;
pub mod qr_image;
pub mod registry_key;
pub mod signature_batch;

use std::sync::Arc;

use chrono::Utc;
use ed25519_dalek::VerifyingKey;

use crate::crypto::multikey::decode_public;
use crate::domain::holder_id::HolderIdKey;
use crate::domain::session::{self, EvaluationSession};
use crate::domain::supervisor;
use crate::domain::verification::{
    Evidence, HolderClaim, Outcome, Presented, RegisteredCertificate, SessionEvidence, malformed_supervisor, verify,
    verify_supervisor,
};
use crate::store::{DynStore, SessionFilter, StoreResult};
use signature_batch::SignatureBatcher;

/// Verifies presented credentials against the registry a store holds.
#[derive(Clone)]
pub struct Verifier {
    store: DynStore,
    signer_keys: SignerKeys,
    signatures: SignatureBatcher,
    /// Absent where the registry's secret is not at hand: ID numbers are then not checked.
    holder_key: Option<Arc<HolderIdKey>>,
}

impl Verifier {
    pub fn new(store: DynStore, holder_key: Option<Arc<HolderIdKey>>) -> Verifier {
        Verifier { store, signer_keys: SignerKeys::new(), signatures: SignatureBatcher::default(), holder_key }
    }

    /// Parses a credential, decoding its signer's key through the cache.
    pub fn presented(&self, credential: serde_json::Value) -> Presented {
        self.signer_keys.presented(credential)
    }

    /// Checks the signatures of many presented credentials together (a bulk request's chunk),
    /// recording each result so `verify` does not check it again.
    pub fn check_signatures(&self, presented: &mut [Presented]) {
        let pending: Vec<(usize, crate::crypto::data_integrity::SignatureCheck)> = presented
            .iter()
            .enumerate()
            .filter(|(_, p)| p.signature_valid().is_none())
            .filter_map(|(i, p)| Some((i, p.signature_check()?)))
            .collect();
        let checks: Vec<&crate::crypto::data_integrity::SignatureCheck> = pending.iter().map(|(_, c)| c).collect();
        for ((i, _), valid) in pending.iter().zip(signature_batch::verify_all(&checks)) {
            presented[*i].set_signature_valid(valid);
        }
    }

    /// Gathers the evidence for one presented credential (its key, committee, the authority
    /// graph and the registered copy) and runs every step; the registered copy comes back too.
    pub async fn verify(
        &self,
        presented: &mut Presented,
        holder: &HolderClaim,
    ) -> StoreResult<(Outcome, Option<RegisteredCertificate>)> {
        if let (None, Some(check)) = (presented.signature_valid(), presented.signature_check()) {
            presented.set_signature_valid(self.signatures.verify(check).await);
        }
        if supervisor::is_supervisor_credential(&presented.credential) {
            return self.verify_supervisor(presented, holder).await;
        }
        let keys = self.store.keys().await?;
        let key = presented.public_key().and_then(|pk| keys.iter().find(|k| k.public_key == pk));
        let committee = match presented.committee_id() {
            Some(id) => self.store.committee(id).await?,
            None => None,
        };
        let registered = match presented.certificate_number() {
            Some(n) => self.store.registered_certificate(n).await?,
            None => None,
        };
        let graph = self.store.authority_graph().await?;
        let sessions = self.sessions_for(presented).await?;
        let evidence = Evidence {
            key,
            committee: committee.as_deref(),
            graph: &graph,
            registered: registered.as_ref(),
            holder_key: self.holder_key.as_deref(),
            session: match (&sessions, presented.parsed.as_ref()) {
                (Some(sessions), Ok(parsed)) => session::find_for(sessions, &parsed.subject)
                    .map_or(SessionEvidence::NotFound, SessionEvidence::Found),
                _ => SessionEvidence::NotLooked,
            },
            now: Utc::now(),
        };
        Ok((verify(presented, &evidence, holder), registered))
    }
}

impl Verifier {
    /// A supervisor credential (at a venue's door): its key, issuing authority, period and
    /// registered copy.
    async fn verify_supervisor(
        &self,
        presented: &Presented,
        holder: &HolderClaim,
    ) -> StoreResult<(Outcome, Option<RegisteredCertificate>)> {
        let parsed = match supervisor::parse_supervisor(&presented.credential) {
            Ok(parsed) => parsed,
            Err(e) => return Ok((malformed_supervisor(&e), None)),
        };
        let keys = self.store.keys().await?;
        let key = presented.public_key().and_then(|pk| keys.iter().find(|k| k.public_key == pk));
        let registered = self.store.registered_supervisor(&parsed.subject.credential_number).await?;
        let graph = self.store.authority_graph().await?;
        let evidence = Evidence {
            key,
            committee: None,
            graph: &graph,
            registered: registered.as_ref(),
            holder_key: None,
            session: SessionEvidence::NotLooked,
            now: Utc::now(),
        };
        Ok((verify_supervisor(presented, &parsed, &evidence, holder), registered))
    }

    /// The sessions a certificate may rest on (the one it names, or its committee's on its
    /// evaluation date); `None` when it needs none. Most certificates need none: no query.
    async fn sessions_for(&self, presented: &Presented) -> StoreResult<Option<Vec<EvaluationSession>>> {
        let Ok(parsed) = &presented.parsed else { return Ok(None) };
        let s = &parsed.subject;
        if !session::needed(s) {
            return Ok(None);
        }
        if let Some(id) = &s.evaluation_session {
            return Ok(Some(self.store.session(id).await?.into_iter().collect()));
        }
        let filter = SessionFilter {
            committee_id: Some(s.committee_id.clone()),
            meets_from: Some(s.evaluation_date),
            meets_until: Some(s.evaluation_date),
        };
        Ok(Some(self.store.sessions_after(&filter, None, MAX_SESSIONS_A_DAY).await?))
    }
}

/// The most sessions of one committee on one day a verification reads.
const MAX_SESSIONS_A_DAY: u32 = 16;

/// Ed25519 public keys named by presented credentials, decoded (a point decompression, about a
/// tenth of a signature check) once per key. Any well-formed key is kept, registered or not, so
/// the cache is bounded.
#[derive(Clone)]
struct SignerKeys(moka::sync::Cache<String, VerifyingKey>);

impl SignerKeys {
    fn new() -> SignerKeys {
        SignerKeys(moka::sync::Cache::new(10_000))
    }

    fn presented(&self, credential: serde_json::Value) -> Presented {
        Presented::with_key_decoder(credential, |multikey| {
            self.0.optionally_get_with_by_ref(multikey, || decode_public(multikey).ok())
        })
    }
}
