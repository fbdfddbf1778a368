//! A node's keys: one registry identity across every node that serves a database.
//!
//! The registry key (status lists, bundles, manifests, webhooks) and the log key (checkpoints)
//! come from an environment variable holding the secret Multikey (a Kubernetes Secret, a
//! compose secret), else from a file. They are created only for a database that holds no
//! checkpoint yet: a node joining an existing registry that was given no keys refuses to start
//! instead of signing with keys of its own, and so does a node whose log key did not sign the
//! checkpoints already there.

use std::path::Path;

use crate::http::problem::AppError;
use crate::store::DynStore;
use crate::transparency::LogSigner;
use crate::verify::registry_key::RegistryKey;

/// The environment variable that holds the registry's secret key, instead of a file.
pub const REGISTRY_SECRET_ENV: &str = "ZHICHENG_REGISTRY_SECRET";
/// The environment variable that holds the log's secret key, instead of a file.
pub const LOG_SECRET_ENV: &str = "ZHICHENG_LOG_SECRET";

pub struct NodeKeys {
    pub registry: RegistryKey,
    pub log: LogSigner,
}

/// Loads the keys for serving (or exporting from) `store`, refusing what would split the
/// registry's identity.
pub async fn load(
    store: &DynStore,
    registry_file: &Path,
    log_file: &Path,
    deployment: &str,
) -> Result<NodeKeys, AppError> {
    let existing = store.latest_checkpoint().await?;
    let may_create = existing.is_none();
    let registry = key(REGISTRY_SECRET_ENV, registry_file, may_create, "--registry-key")?;
    let log_key = key(LOG_SECRET_ENV, log_file, may_create, "--log-key")?;
    let log = LogSigner::new(deployment, log_key.signing_key().clone())?;
    if let Some(checkpoint) = existing
        && log.verifier().open(&checkpoint.note).is_err()
    {
        let theirs = crate::tlog::signed_note::signers(&checkpoint.note).join(", ");
        return Err(AppError::Config(format!(
            "数据库中的检查点不是用本节点的日志密钥签名的：它们的签名密钥是 {theirs}，本节点的是 {ours}。\
             同一登记簿的每个节点须使用同一把日志密钥和同一个部署名 / the checkpoints in this database \
             were not signed with this node's log key: theirs is {theirs}, this node's is {ours}. Every \
             node of one registry needs the same log key ({LOG_SECRET_ENV} or --log-key) and the same \
             --deployment",
            ours = log.verifier_key(),
        )));
    }
    tracing::info!(registry.public_key = %registry.public, log.key = %log.verifier_key(), "keys loaded");
    Ok(NodeKeys { registry, log })
}

/// One key: from the environment variable `env`, else the file, else created when allowed.
pub(super) fn key(env: &str, file: &Path, may_create: bool, flag: &str) -> Result<RegistryKey, AppError> {
    if let Some(secret) = std::env::var(env).ok().filter(|s| !s.trim().is_empty()) {
        // The value is never repeated in an error: it is a secret.
        return crate::crypto::multikey::decode_secret(secret.trim()).map(RegistryKey::from_signing).map_err(|_| {
            AppError::Config(format!(
                "环境变量 {env} 不是 Ed25519 私钥（z3u2… 形式的 Multikey）/ {env} is not an Ed25519 secret \
                 Multikey (z3u2…)"
            ))
        });
    }
    if file.exists() || may_create {
        return Ok(RegistryKey::load_or_create(file)?);
    }
    Err(AppError::Config(format!(
        "找不到密钥文件 {path}，而数据库中已有登记簿：加入该登记簿的节点须使用它的密钥（{env} 或 {flag}），\
         不会另造新密钥 / {path} does not exist and the database already holds a registry: a node \
         joining it must be given the registry's keys ({env} or {flag}); it never makes new ones",
        path = file.display()
    )))
}
