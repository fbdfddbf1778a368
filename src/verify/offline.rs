//! The signed registry bundle: everything verification needs — authorities, delegations,
//! committees with authorizations and sanctions, issuer keys, certificate digests and states,
//! registered evaluation sessions —
//! in one credential signed by the registry's key. `zhicheng verify --bundle` answers from it
//! exactly as the API answers from the database: both call `domain::verification::verify`.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::crypto::{data_integrity, multikey};
use crate::domain::authority::{Authority, AuthorityGraph, Delegation};
use crate::domain::certificate::IssuerKey;
use crate::domain::committee::CommitteeRecord;
use crate::domain::session::{self, EvaluationSession};
use crate::domain::verification::{
    Evidence, HolderClaim, Outcome, Presented, RegisteredCertificate, SessionEvidence, verify,
};
use crate::store::CertificateStatus;
use crate::verify::registry_key::RegistryKey;

pub const BUNDLE_TYPE: &str = "ZhichengRegistryBundle";
pub const BUNDLE_VERSION: u32 = 1;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BundleContent {
    pub version: u32,
    /// The time of the newest log entry the bundle reflects: the registry as of then.
    pub generated_at: DateTime<Utc>,
    /// Events in the registry's log when the bundle was made.
    pub log_size: i64,
    pub authorities: Vec<Authority>,
    pub delegations: Vec<Delegation>,
    pub committees: Vec<CommitteeRecord>,
    pub keys: Vec<IssuerKey>,
    /// Digests and states only: no holder names (bulk personal data stays in the registry).
    pub certificates: Vec<CertificateStatus>,
    /// Every registered evaluation session, for the session step. Absent from bundles made
    /// before sessions were registered: their readers leave the step unchecked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sessions: Option<Vec<EvaluationSession>>,
}

/// The bundle as a credential signed by the registry.
pub fn sign(content: &BundleContent, key: &RegistryKey, public_url: &str) -> Value {
    let created = content.generated_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let document = json!({
        "@context": [crate::domain::certificate::VC_CONTEXT, {"@vocab": crate::domain::certificate::VOCABULARY}],
        "id": format!("{public_url}/api/v1/bundle"),
        "type": ["VerifiableCredential", BUNDLE_TYPE],
        "issuer": "urn:zhicheng:registry",
        "validFrom": created,
        "credentialSubject": content,
    });
    data_integrity::sign(&document, key.signing_key(), &key.verification_method(), &created)
        .expect("the bundle is a JSON object")
}

/// Checks a bundle's signature (against `pinned`, the registry key the reader trusts, when
/// given) and opens it.
pub fn open(bundle: &Value, pinned: Option<&str>) -> Result<OfflineRegistry, String> {
    let proof = data_integrity::parse(bundle).map_err(|e| format!("the bundle's proof is unusable: {e}"))?;
    let public = proof
        .verification_method
        .strip_prefix("did:key:")
        .and_then(|m| m.split('#').next())
        .ok_or("the bundle is not signed with a did:key")?;
    if let Some(pinned) = pinned
        && pinned != public
    {
        return Err(format!("the bundle is signed by {public}, not by the trusted registry key {pinned}"));
    }
    let key = multikey::decode_public(public).map_err(|e| format!("bad registry key: {e}"))?;
    proof.verify(&key).map_err(|_| "the bundle's signature does not verify: it was altered".to_string())?;
    let content: BundleContent = serde_json::from_value(bundle["credentialSubject"].clone())
        .map_err(|e| format!("the bundle's content is malformed: {e}"))?;
    if content.version != BUNDLE_VERSION {
        return Err(format!("unknown bundle version {}", content.version));
    }
    Ok(OfflineRegistry::new(content, public.to_string()))
}

/// A bundle opened for lookups.
pub struct OfflineRegistry {
    pub content: BundleContent,
    pub registry_key: String,
    graph: AuthorityGraph,
    committees: HashMap<String, CommitteeRecord>,
    keys: HashMap<String, IssuerKey>,
    certificates: HashMap<String, RegisteredCertificate>,
    /// Session positions in `content.sessions` by id and by committee; `None` without sessions.
    sessions: Option<SessionIndex>,
}

#[derive(Default)]
struct SessionIndex {
    by_id: HashMap<String, usize>,
    by_committee: HashMap<String, Vec<usize>>,
}

impl OfflineRegistry {
    fn new(content: BundleContent, registry_key: String) -> OfflineRegistry {
        let graph = AuthorityGraph::new(content.authorities.clone(), content.delegations.clone());
        let committees = content.committees.iter().map(|c| (c.committee.id.clone(), c.clone())).collect();
        let keys = content.keys.iter().map(|k| (k.public_key.clone(), k.clone())).collect();
        let certificates = content
            .certificates
            .iter()
            .map(|c| {
                let registered = RegisteredCertificate {
                    number: c.number.clone(),
                    credential_sha256: c.credential_sha256.clone(),
                    holder_name: String::new(),
                    state: c.state.clone(),
                    logged_at: c.logged_at,
                };
                (c.number.clone(), registered)
            })
            .collect();
        let sessions = content.sessions.as_ref().map(|all| {
            let mut index = SessionIndex::default();
            for (i, s) in all.iter().enumerate() {
                index.by_id.insert(s.id.clone(), i);
                index.by_committee.entry(s.committee_id.clone()).or_default().push(i);
            }
            index
        });
        OfflineRegistry { content, registry_key, graph, committees, keys, certificates, sessions }
    }

    /// The session the certificate rests on, found as the registry finds it.
    fn session_evidence(&self, presented: &Presented) -> SessionEvidence<'_> {
        let (Some(index), Some(all), Ok(parsed)) = (&self.sessions, &self.content.sessions, presented.parsed.as_ref())
        else {
            return SessionEvidence::NotLooked;
        };
        let subject = &parsed.subject;
        let positions: Vec<usize> = match &subject.evaluation_session {
            Some(id) => index.by_id.get(id).copied().into_iter().collect(),
            None => index.by_committee.get(&subject.committee_id).cloned().unwrap_or_default(),
        };
        session::find_for(positions.into_iter().map(|i| &all[i]), subject)
            .map_or(SessionEvidence::NotFound, SessionEvidence::Found)
    }

    /// The same verification the API performs, against the bundle's registry state.
    pub fn verify(&self, presented: &Presented, holder: &HolderClaim, now: DateTime<Utc>) -> Outcome {
        let evidence = Evidence {
            key: presented.public_key().and_then(|k| self.keys.get(k)),
            committee: presented.committee_id().and_then(|c| self.committees.get(c)),
            graph: &self.graph,
            registered: presented.certificate_number().and_then(|n| self.certificates.get(n)),
            holder_key: None,
            session: self.session_evidence(presented),
            now,
        };
        verify(presented, &evidence, holder)
    }
}

/// Reads everything a bundle holds from the store: the whole registry, every issuer key, and
/// every certificate's digest and state (no holder names).
pub async fn content(store: &dyn crate::store::Store) -> crate::store::StoreResult<BundleContent> {
    let log_size = store.log_size().await?;
    let graph = store.authority_graph().await?;
    let mut committees = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page = store.committees_after(&Default::default(), after.as_deref(), 1000).await?;
        let done = page.len() < 1000;
        after = page.last().map(|r| r.committee.id.clone());
        committees.extend(page);
        if done {
            break;
        }
    }
    let mut authorities: Vec<_> = graph.authorities().cloned().collect();
    authorities.sort_by(|a, b| a.id.cmp(&b.id));
    let mut delegations: Vec<_> = graph.delegations().cloned().collect();
    delegations.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(BundleContent {
        version: BUNDLE_VERSION,
        // Dated by the log, not the clock: every node builds the same bundle for one log size.
        generated_at: crate::store::log_time(store, log_size).await?,
        log_size,
        authorities,
        delegations,
        committees,
        keys: store.keys().await?.to_vec(),
        certificates: store.certificate_states(None).await?,
        sessions: Some(all_sessions(store).await?),
    })
}

/// Every registered session, a page at a time.
async fn all_sessions(store: &dyn crate::store::Store) -> crate::store::StoreResult<Vec<EvaluationSession>> {
    let mut sessions = Vec::new();
    loop {
        let after = sessions.last().map(|s: &EvaluationSession| s.id.clone());
        let page = store.sessions_after(&Default::default(), after.as_deref(), 1000).await?;
        let done = page.len() < 1000;
        sessions.extend(page);
        if done {
            return Ok(sessions);
        }
    }
}
