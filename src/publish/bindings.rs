//! What ties a certificate to this registry, checked before a batch is applied: its status
//! lists are this registry's (by full URL, not by path), and its holder ID digest is keyed by
//! this registry's secret, so no certificate it registers lets anyone search an ID number.

use std::sync::Arc;

use crate::domain::certificate::parse_credential;
use crate::domain::holder_id::{self, HolderIdKey};
use crate::domain::publish::{LineViolation, Operation, Violation, ViolationKind};

pub struct RegistryBindings {
    /// `<public URL>/api/v1/status-lists/`.
    status_lists: String,
    pub holder_key: Arc<HolderIdKey>,
}

impl RegistryBindings {
    pub fn new(public_url: &str, holder_key: Arc<HolderIdKey>) -> RegistryBindings {
        RegistryBindings {
            status_lists: format!("{}/api/v1/status-lists/", public_url.trim_end_matches('/')),
            holder_key,
        }
    }

    /// Every certificate in `ops` that is bound elsewhere, by line (1-based). A credential too
    /// malformed to read is left to the batch, which names what is wrong with it.
    pub fn check(&self, ops: &[Operation]) -> Result<(), Vec<LineViolation>> {
        let refused: Vec<LineViolation> = ops
            .iter()
            .enumerate()
            .filter_map(|(i, op)| {
                match op {
                    Operation::IssueCertificate(c) => self.check_credential(&c.credential).err(),
                    _ => None,
                }
                .map(|violation| LineViolation { line: i + 1, violation })
            })
            .take(crate::domain::publish::MAX_REPORTED_LINES)
            .collect();
        if refused.is_empty() { Ok(()) } else { Err(refused) }
    }

    /// One operation: only certificates are bound to a registry.
    pub fn check_operation(&self, op: &Operation) -> Result<(), Violation> {
        match op {
            Operation::IssueCertificate(c) => self.check_credential(&c.credential),
            _ => Ok(()),
        }
    }

    fn check_credential(&self, credential: &serde_json::Value) -> Result<(), Violation> {
        let Ok(parsed) = parse_credential(credential) else { return Ok(()) };
        if let Some((_, url, _)) = parsed.status.iter().find(|(_, url, _)| !url.starts_with(&self.status_lists)) {
            return Err(Violation::new(
                ViolationKind::Invalid,
                "foreign_status_list",
                "credential.credentialStatus",
                format!("状态列表 {url} 不在本登记（应以 {} 开头）", self.status_lists),
                format!("the status list {url} is not this registry's (it must start with {})", self.status_lists),
            ));
        }
        match parsed.subject.holder_id_digest.as_deref() {
            Some(digest) if !holder_id::is_keyed_by(digest, &self.holder_key) => Err(Violation::new(
                ViolationKind::Invalid,
                "holder_id_digest_not_keyed",
                "credential.credentialSubject.holderIdDigest",
                "身份证号码摘要须由本登记计算（POST /api/v1/admin/holder-id-digests），可离线推算的摘要会泄露号码",
                "the holder ID digest must be computed by this registry (POST /api/v1/admin/holder-id-digests): a digest anyone can recompute gives the number away",
            )),
            _ => Ok(()),
        }
    }
}
