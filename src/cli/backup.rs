//! `zhicheng backup`: the registry in a new directory, with what restoring it needs to know.
//!
//! SQLite: an online, consistent copy (`VACUUM INTO`, taken while the server runs) and
//! BACKUP.json. PostgreSQL has its own tools: BACKUP.json, and the `pg_dump` command to run.
//! BACKUP.json names the registry's keys by their public halves and says where the secrets live;
//! the secrets themselves are copied only with `--with-secret-keys`.

use serde_json::json;

use super::keys::{LOG_SECRET_ENV, REGISTRY_SECRET_ENV, key};
use crate::cli::config::BackupArgs;
use crate::http::problem::AppError;
use crate::store::redact_url;

/// The copy's file name inside the backup directory.
pub const DATABASE_FILE: &str = "zhicheng.db";

pub async fn run(args: &BackupArgs) -> Result<(), AppError> {
    let url = &args.database.database_url;
    let store = super::open(url, false).await?;
    let registry = key(REGISTRY_SECRET_ENV, &args.keys.registry_key, false, "--registry-key")?;
    let log_key = key(LOG_SECRET_ENV, &args.keys.log_key, false, "--log-key")?;
    let log = crate::transparency::LogSigner::new(&args.keys.deployment, log_key.signing_key().clone())?;
    std::fs::create_dir_all(args.out.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(std::path::Path::new(".")))
        .and_then(|()| std::fs::create_dir(&args.out))
        .map_err(|e| {
            AppError::Config(format!(
                "无法新建备份目录 {0}（它必须尚不存在）/ cannot create the backup directory {0} (it must not exist yet): {e}",
                args.out.display()
            ))
        })?;
    let file = args.out.join(DATABASE_FILE);
    let copied = store.copy_database(&file.to_string_lossy()).await?;
    // What the backup holds: the copy's own log, or the live database's when nothing was copied.
    let described = match copied {
        true => super::open(&format!("sqlite://{}", file.display()), false).await?,
        false => store.clone(),
    };
    let log_size = described.log_size().await?;
    let checkpoint = described.latest_checkpoint().await?;
    let source = |env: &str, file: &std::path::Path| match std::env::var(env).is_ok_and(|v| !v.trim().is_empty()) {
        true => format!("environment variable {env}"),
        false => format!("file {}", file.display()),
    };
    if args.with_secret_keys {
        for (name, secret) in [("registry.key", &registry), ("log.key", &log_key)] {
            let text = crate::crypto::multikey::encode_secret(secret.signing_key());
            crate::verify::registry_key::write_secret(&args.out.join(name), &text)?;
        }
    }
    let pg_dump = format!("pg_dump --format=custom --file={}/zhicheng.pgdump '<DATABASE_URL>'", args.out.display());
    let manifest = json!({
        "created_at": chrono::Utc::now(),
        "database": {"backend": store.backend(), "url": redact_url(url), "file": copied.then_some(DATABASE_FILE)},
        "log_size": log_size,
        "checkpoint": checkpoint.map(|c| c.note),
        "keys": {
            "registry": {"public_key": registry.public, "lives_in": source(REGISTRY_SECRET_ENV, &args.keys.registry_key),
                          "copied": args.with_secret_keys.then_some("registry.key")},
            "log": {"verifier_key": log.verifier_key(), "deployment": args.keys.deployment,
                     "lives_in": source(LOG_SECRET_ENV, &args.keys.log_key), "copied": args.with_secret_keys.then_some("log.key")},
        },
        "restore": match copied {
            true => format!("copy {DATABASE_FILE} to the new database path, give the server the same two keys and --deployment, then run `zhicheng log audit` on it (docs/OPERATIONS.md)"),
            false => format!("{pg_dump}; restore with pg_restore --dbname=<NEW_DATABASE_URL> zhicheng.pgdump, give the server the same two keys and --deployment, then run `zhicheng log audit` on it (docs/OPERATIONS.md)"),
        },
    });
    let text = serde_json::to_string_pretty(&manifest).map_err(|e| AppError::Internal(e.to_string()))?;
    std::fs::write(args.out.join("BACKUP.json"), text + "\n").map_err(|e| {
        AppError::Config(format!("无法写入 / cannot write {}: {e}", args.out.join("BACKUP.json").display()))
    })?;
    match copied {
        true => tracing::info!(out = %args.out.display(), log.size = log_size, "backup written"),
        false => println!("PostgreSQL: BACKUP.json written; now run\n  {pg_dump}"),
    }
    Ok(())
}
