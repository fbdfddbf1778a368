//! Backups (issue 16): `zhicheng backup` while the server runs, restored into a fresh database
//! (SQLite: the online copy; PostgreSQL: the documented pg_dump / pg_restore), passes
//! `zhicheng log audit` and serves the same checkpoint.

use std::time::Duration;

use serde_json::{Value, json};
use sqlx::Connection;
use zhicheng::domain::publish::Role;

use crate::bulk::Server;
use crate::support::{TestApp, both};

both!(a_backup_restores_into_a_fresh_database_with_the_same_log);

use crate::cli::zhicheng;

fn run(command: &str, args: &[&str]) {
    let out = std::process::Command::new(command).args(args).output().expect(command);
    assert!(out.status.success(), "{command}: {}", String::from_utf8_lossy(&out.stderr));
}

async fn checkpoint(base: &str, at_least: usize) -> String {
    for _ in 0..100 {
        if let Ok(r) = reqwest::get(format!("{base}/log/checkpoint")).await
            && r.status().is_success()
        {
            let note = r.text().await.unwrap();
            let size: usize = note.lines().nth(1).and_then(|l| l.parse().ok()).unwrap_or(0);
            if size >= at_least {
                return note;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("no checkpoint of {at_least} entries from {base}");
}

async fn a_backup_restores_into_a_fresh_database_with_the_same_log(app: TestApp) {
    app.load(&crate::fixtures::registry()).await;
    let token = app.token("jilin", Role::Publisher).await;
    let original = Server::start(&app.url, "info").await;
    let base = format!("http://{}", original.addr);
    let sanction = json!({"subject": {"kind": "website", "name": "backup-test.example.com"}, "measure": "public_criticism",
        "region": "220000", "effective_from": "2025-06-01", "document_number": "吉人社监〔2025〕992号",
        "legal_basis": "人社部发〔2024〕56号", "summary": "备份测试"});
    let created = reqwest::Client::new()
        .post(format!("{base}/api/v1/admin/sanctions"))
        .bearer_auth(&token)
        .json(&sanction)
        .send();
    assert_eq!(created.await.unwrap().status(), 201);
    let size = app.store.log_size().await.unwrap() as usize;
    let note = checkpoint(&base, size).await;

    // The keys as an operator holds them: files.
    let dir = tempfile::tempdir().unwrap();
    let path = |name: &str| dir.path().join(name).to_str().unwrap().to_string();
    for (name, key) in [("registry.key", crate::support::registry_key()), ("log.key", crate::support::log_key())] {
        let secret = zhicheng::crypto::multikey::encode_secret(key.signing_key());
        zhicheng::verify::registry_key::write_secret(&dir.path().join(name), &secret).unwrap();
    }
    let keys = ["--registry-key", &path("registry.key"), "--log-key", &path("log.key"), "--deployment", "test"];
    let out = path("backup");
    let mut args = vec!["backup", "--out", &out, "--database-url", &app.url];
    args.extend(keys);
    let backup = zhicheng(&args);
    assert!(backup.status.success(), "{}", String::from_utf8_lossy(&backup.stderr));
    let manifest: Value = serde_json::from_str(&std::fs::read_to_string(path("backup/BACKUP.json")).unwrap()).unwrap();
    let verifier = zhicheng::transparency::LogSigner::new("test", crate::support::log_key().signing_key().clone())
        .unwrap()
        .verifier_key();
    assert_eq!(manifest["keys"]["registry"]["public_key"], crate::support::registry_key().public);
    assert_eq!(manifest["keys"]["log"]["verifier_key"], verifier);
    assert!(manifest["keys"]["log"]["lives_in"].as_str().unwrap().contains("log.key"));
    let secret = zhicheng::crypto::multikey::encode_secret(crate::support::log_key().signing_key());
    assert!(!manifest.to_string().contains(&secret), "no secret in BACKUP.json unless asked");
    assert!(!dir.path().join("backup/log.key").exists());

    // Restore into a fresh database, as docs/OPERATIONS.md says.
    let (restored, _cleanup) = match app.url.starts_with("sqlite:") {
        true => {
            assert_eq!(manifest["checkpoint"], note.as_str(), "the copy holds the checkpoint");
            std::fs::copy(path("backup/zhicheng.db"), path("restored.db")).unwrap();
            (format!("sqlite://{}", path("restored.db")), None)
        }
        false => {
            let dump = path("zhicheng.pgdump");
            assert!(String::from_utf8_lossy(&backup.stdout).contains("pg_dump --format=custom"));
            run("pg_dump", &["--format=custom", &format!("--file={dump}"), &app.url]);
            let admin_url = std::env::var("ZHICHENG_TEST_DATABASE_URL").unwrap();
            let database = format!("zt_restored_{}", std::process::id());
            let mut admin = sqlx::PgConnection::connect(&admin_url).await.unwrap();
            sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {database}")))
                .execute(&mut admin)
                .await
                .unwrap();
            let url = format!("{}/{database}", admin_url.rsplit_once('/').unwrap().0);
            run("pg_restore", &["--no-owner", "--no-acl", &format!("--dbname={url}"), &dump]);
            (url, Some(DropDatabase { admin_url, database }))
        }
    };
    let audit = zhicheng(&["log", "audit", "--database-url", &restored, "--key", &verifier]);
    assert!(
        audit.status.success(),
        "{}{}",
        String::from_utf8_lossy(&audit.stdout),
        String::from_utf8_lossy(&audit.stderr)
    );
    let server = Server::start(&restored, "info").await;
    let served = checkpoint(&format!("http://{}", server.addr), size).await;
    assert_eq!(served, note, "the restored registry serves the same checkpoint");
}

/// Drops the restored PostgreSQL database when the test ends.
struct DropDatabase {
    admin_url: String,
    database: String,
}

impl Drop for DropDatabase {
    fn drop(&mut self) {
        let _ = std::process::Command::new("psql")
            .args([&self.admin_url, "-c", &format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.database)])
            .output();
    }
}
