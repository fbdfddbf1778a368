//! One typed event payload, whatever wrote the event: every certificate's issuance can be
//! proven from the log (demo loads, the API), and a database written before payloads were
//! typed still audits and proves after the new binary opens it.

use std::io::Read;

use serde_json::Value;
use zhicheng::domain::verification::Presented;
use zhicheng::publish::event::{EventPayload, records_issuance};
use zhicheng::tlog::proof;
use zhicheng::tlog::signed_note::NoteVerifier;

use crate::support::{TestApp, both};

both!(every_demo_certificate_proves_its_issuance, demo_events_read_as_typed_payloads);

/// The pre-typed-payload demo (`zhicheng demo --certificates 5` at commit 7d85024), as SQLite
/// file and PostgreSQL dump; `v0-demo-valid.json` is its valid example certificate.
const V0_SQLITE: &[u8] = include_bytes!("../fixtures/v0-demo.sqlite.gz");
const V0_POSTGRES: &[u8] = include_bytes!("../fixtures/v0-demo.postgres.sql.gz");
const V0_VALID: &str = include_str!("../fixtures/v0-demo-valid.json");

fn gunzip(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(bytes).read_to_end(&mut out).expect("gzip fixture");
    out
}

/// The certificate's tlog-proof, checked as an outside verifier would, records its issuance.
async fn assert_issuance_proven(app: &TestApp, credential: &Value) {
    let presented = Presented::new(credential.clone());
    let number = presented.parsed.as_ref().expect("a parsable credential").subject.certificate_number.clone();
    let (status, _, text) = app.bytes(&format!("/api/v1/certificates/{number}/tlog-proof")).await;
    assert_eq!(status.as_u16(), 200, "{}", String::from_utf8_lossy(&text));
    let verifier = NoteVerifier::parse(&app.log.verifier_key()).unwrap();
    let proven = proof::check(std::str::from_utf8(&text).unwrap(), &verifier).expect("the proof holds");
    assert!(records_issuance(&proven.entry, &number, &presented.digest()), "{number}: {}", proven.entry);
}

/// `log check-proof` (the README's recipe) and the in-process check pass for every demo
/// certificate; `certificates::a_good_certificate_passes_every_step` does the same for one
/// issued through the API.
async fn every_demo_certificate_proves_its_issuance(app: TestApp) {
    let demo = zhicheng::demo::demo(zhicheng::store::today(), 40, &TestApp::demo_registry());
    app.load(&demo.dataset).await;
    let certificates = &demo.dataset.certificates;
    assert!(certificates.len() >= 30, "{}", certificates.len());
    let first = &certificates[0].credential;
    let number = first["credentialSubject"]["certificateNumber"].as_str().unwrap();
    let dir = tempfile::tempdir().unwrap();
    crate::log::certificate_proofs(&app, number, first, dir.path()).await;
    for c in certificates {
        assert_issuance_proven(&app, &c.credential).await;
    }
}

/// Every path writes the one typed payload: each demo event reads back as an `EventPayload`
/// of its own kind (sanctions against people once their names are commitments aside).
async fn demo_events_read_as_typed_payloads(app: TestApp) {
    app.load(&zhicheng::demo::demo(zhicheng::store::today(), 5, &TestApp::demo_registry()).dataset).await;
    let events = app.store.events_after(&Default::default(), None, 10_000).await.unwrap();
    assert!(events.len() > 600, "{}", events.len());
    let mut committed = 0;
    for e in &events {
        assert_eq!(e.payload["v"], 2, "{}", e.payload);
        match serde_json::from_value::<EventPayload>(e.payload.clone()) {
            Ok(p) => {
                assert_eq!(p.operation.kind(), e.kind, "{}", e.payload);
                assert_eq!(p.id, e.entity_id);
            }
            Err(_) => {
                assert!(e.payload.to_string().contains("salted_sha256"), "{}: {}", e.kind, e.payload);
                committed += 1;
            }
        }
    }
    assert!(committed < events.len() / 10, "{committed}");
}

/// The old database opens, audits clean, and proves its certificate's issuance.
async fn assert_upgraded(app: &TestApp) {
    let verifier = NoteVerifier::parse(&app.log.verifier_key()).unwrap();
    let report = zhicheng::transparency::audit(app.store.as_ref(), &verifier).await.unwrap();
    assert!(report.problems.is_empty(), "{:?}", report.problems);
    assert!(report.size > 600, "the whole demo log: {}", report.size);
    app.checkpoint().await;
    let report = zhicheng::transparency::audit(app.store.as_ref(), &verifier).await.unwrap();
    assert!(report.problems.is_empty() && report.checkpoint.is_some(), "{:?}", report.problems);
    assert_issuance_proven(app, &serde_json::from_str(V0_VALID).unwrap()).await;
    // Committees from before the pinyin search key are found by pinyin.
    let found = app.ok("/api/v1/committees?q=changchun&limit=5").await;
    let names: Vec<&str> =
        found["committees"].as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap()).collect();
    assert!(!names.is_empty() && names.iter().all(|n| n.contains("长春")), "{names:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_old_format_sqlite_database_audits_and_proves_after_the_upgrade() {
    let app = TestApp::sqlite_from(&gunzip(V0_SQLITE)).await;
    let (url, key) = (app.url.clone(), app.log.verifier_key());
    assert_upgraded(&app).await;
    // The operator's command, with the new binary, on the upgraded file.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_zhicheng"))
        .args(["log", "audit", "--database-url", &url, "--key", &key])
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_old_format_postgres_database_audits_and_proves_after_the_upgrade() {
    let dump = String::from_utf8(gunzip(V0_POSTGRES)).unwrap();
    // psql's own commands (`\restrict`) are not SQL.
    let sql: String = dump.lines().filter(|l| !l.starts_with('\\')).collect::<Vec<_>>().join("\n");
    if let Some(app) = TestApp::postgres_from(&sql).await {
        assert_upgraded(&app).await;
    }
}
