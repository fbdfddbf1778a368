//! The transparency log: checkpoints that extend each other, a proof for every event, tiles
//! per C2SP, personal data kept out, and tampering found by `zhicheng log audit`, `log verify`
//! and `log monitor`.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};
use zhicheng::domain::log::discloses;
use zhicheng::domain::publish::Role;
use zhicheng::tlog::merkle::{self, Hash, leaf_hash};
use zhicheng::tlog::signed_note::{Checkpoint, NoteVerifier, TlogProof};
use zhicheng::tlog::tiles;

use crate::fixtures;
use crate::publishing::{committee_body, grant_body};
use crate::support::{TestApp, both};

both!(
    checkpoints_extend_every_event_is_proved_and_a_rewritten_row_is_found,
    people_stay_out_of_leaves_and_erasure_keeps_every_proof,
    tiles_and_entries_follow_c2sp_and_entities_are_chained,
    late_sanctions_and_withdrawals_are_flagged,
);

fn hash(v: &Value) -> Hash {
    STANDARD.decode(v.as_str().expect("base64 hash")).unwrap().try_into().unwrap()
}

fn hashes(v: &Value) -> Vec<Hash> {
    v.as_array().unwrap().iter().map(hash).collect()
}

use crate::cli::zhicheng;

/// Rewrites one event row behind the registry's back, as a rogue operator with database access could.
pub async fn tamper(url: &str, seq: u64) {
    let update = format!("UPDATE events SET payload = '{{\"rewritten\":true}}' WHERE seq = {seq}");
    if url.starts_with("sqlite") {
        let pool = sqlx::SqlitePool::connect(url).await.unwrap();
        for sql in ["DROP TRIGGER events_no_update", &update] {
            sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_string())).execute(&pool).await.unwrap();
        }
    } else {
        let pool = sqlx::PgPool::connect(url).await.unwrap();
        let sqls = [
            "ALTER TABLE events DISABLE TRIGGER events_append_only",
            &update,
            "ALTER TABLE events ENABLE TRIGGER events_append_only",
        ];
        for sql in sqls {
            sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_string())).execute(&pool).await.unwrap();
        }
    }
}

/// A committee, granted, suspended and withdrawn; a sanction against a person. Returns the
/// committee and authorization ids.
async fn publish_more(app: &TestApp) -> (String, String) {
    let jilin = app.token("jilin", Role::Publisher).await;
    let body = committee_body("吉林省透明日志测试评审委员会", "220100", 77);
    let committee =
        app.post("/api/v1/admin/committees", &jilin, body).await.created()["id"].as_str().unwrap().to_string();
    let grant = grant_body(&committee, "吉人社函〔2025〕81号");
    let authorization =
        app.post("/api/v1/admin/authorizations", &jilin, grant).await.created()["id"].as_str().unwrap().to_string();
    for (act, doc) in [("suspend", "吉人社函〔2025〕82号"), ("withdraw", "吉人社函〔2025〕83号")] {
        let body = json!({"effective_on": "2025-10-01", "document_number": doc});
        app.post(&format!("/api/v1/admin/authorizations/{authorization}/{act}"), &jilin, body).await.created();
    }
    let sanction = json!({
        "subject": {"kind": "applicant", "name": "王小五"}, "measure": "dishonesty_record", "region": "220102",
        "effective_from": "2025-03-01", "document_number": "吉人社监〔2025〕31号",
        "legal_basis": "人社部令第40号", "summary": "王小五 提供虚假论文材料"
    });
    app.post("/api/v1/admin/sanctions", &jilin, sanction).await.created();
    (committee, authorization)
}

async fn verifier(app: &TestApp) -> NoteVerifier {
    let (_, _, key) = app.bytes("/api/v1/log/key").await;
    NoteVerifier::parse(std::str::from_utf8(&key).unwrap()).unwrap()
}

async fn checkpoints_extend_every_event_is_proved_and_a_rewritten_row_is_found(app: TestApp) {
    app.load(&fixtures::registry()).await;
    let a = app.checkpoint().await;
    publish_more(&app).await;
    let b = app.checkpoint().await;
    assert!(b.size > a.size);

    // The served checkpoint is B, signed by the served key.
    let (status, headers, note) = app.bytes("/log/checkpoint").await;
    assert_eq!(status.as_u16(), 200);
    assert_eq!(headers["content-type"], "text/plain; charset=utf-8");
    let note = String::from_utf8(note).unwrap();
    assert_eq!(note, b.note);
    let signed = Checkpoint::parse(verifier(&app).await.open(&note).unwrap()).unwrap();
    assert_eq!((signed.origin.as_str(), signed.size, signed.root), ("zhicheng.registry/test", b.size, b.root));

    // A → B is consistent; any altered hash breaks it.
    let proof = app.ok(&format!("/api/v1/log/proof/consistency?from={}&to={}", a.size, b.size)).await;
    assert_eq!(proof["from"]["checkpoint"], a.note.as_str());
    let path = hashes(&proof["hashes"]);
    assert!(merkle::verify_consistency(a.size, b.size, &a.root, &b.root, &path));
    let mut bad = path.clone();
    bad[0][0] ^= 1;
    assert!(!merkle::verify_consistency(a.size, b.size, &a.root, &b.root, &bad));

    // Every event is in B: its entry (recomputed here from the JSON) and its proof.
    let mut entries = Vec::new();
    for start in (0..b.size).step_by(1000) {
        let page = app.ok(&format!("/api/v1/log/entries?start={start}&end={}", (start + 1000).min(b.size))).await;
        entries.extend(page["entries"].as_array().unwrap().clone());
    }
    assert_eq!(entries.len() as u64, b.size);
    for (i, e) in entries.iter().enumerate() {
        let leaf = leaf_hash(&zhicheng::crypto::jcs(&e["entry"]));
        assert_eq!(leaf, hash(&e["leaf_hash"]), "entry {i}");
        let proof = app.ok(&format!("/api/v1/log/proof/inclusion?index={i}&size={}", b.size)).await;
        assert!(merkle::verify_inclusion(i as u64, b.size, &leaf, &hashes(&proof["hashes"]), &b.root), "inclusion {i}");
    }

    // The operator's own audit passes, until one row is rewritten behind the registry's back.
    let key = app.log.verifier_key();
    let clean = zhicheng(&["log", "audit", "--database-url", &app.url, "--key", &key]);
    assert!(clean.status.success(), "{}", String::from_utf8_lossy(&clean.stdout));
    tamper(&app.url, a.size + 1).await;
    let audit = zhicheng(&["log", "audit", "--database-url", &app.url, "--key", &key]);
    let out = String::from_utf8_lossy(&audit.stdout);
    assert_eq!(audit.status.code(), Some(2), "{out}");
    assert!(out.contains(&format!("event {}:", a.size + 1)), "{out}");
    assert!(out.contains("no longer produce the signed root"), "{out}");
}

async fn people_stay_out_of_leaves_and_erasure_keeps_every_proof(app: TestApp) {
    app.load(&fixtures::registry()).await;
    publish_more(&app).await;
    let head = app.checkpoint().await;
    let seq = head.size - 1;
    // The registry still names the person (a published sanction), the log never does.
    let listed = app.ok("/api/v1/sanctions?subject_kind=applicant").await;
    assert!(listed.to_string().contains("王小五"), "{listed}");
    for n in 0..head.size.div_ceil(256) {
        let width = tiles::width_at(head.size, 0, n);
        let path = tiles::TilePath { level: None, index: n, width: (width < 256).then_some(width) };
        let (_, _, bundle) = app.bytes(&format!("/log/tile/{}", path.format())).await;
        assert!(!String::from_utf8_lossy(&bundle).contains("王小五"));
        assert!(!String::from_utf8_lossy(&bundle).contains("虚假论文"));
    }
    let page = app.ok(&format!("/api/v1/log/entries?start={seq}&end={}", seq + 1)).await;
    let entry = &page["entries"][0];
    assert_eq!(entry["entry"]["kind"], "sanction.published");
    let disclosures: Vec<zhicheng::domain::log::Disclosure> =
        serde_json::from_value(entry["disclosures"].clone()).unwrap();
    assert_eq!(disclosures.iter().map(|d| d.value.as_str()).collect::<Vec<_>>(), ["王小五", "王小五 提供虚假论文材料"]);
    assert!(disclosures.iter().all(|d| discloses(&entry["entry"]["payload"], d)));

    // Erasing the salts erases the person from the log's API; every proof still holds.
    assert_eq!(app.store.erase_disclosures(seq as i64).await.unwrap(), 2);
    let page = app.ok(&format!("/api/v1/log/entries?start={seq}&end={}", seq + 1)).await;
    assert_eq!(page["entries"][0]["disclosures"], json!([]));
    let proof = app.ok(&format!("/api/v1/log/proof/inclusion?index={seq}")).await;
    assert_eq!(proof["tree"]["size"], head.size);
    let leaf = leaf_hash(&zhicheng::crypto::jcs(&page["entries"][0]["entry"]));
    assert!(merkle::verify_inclusion(seq, head.size, &leaf, &hashes(&proof["hashes"]), &head.root));
    let report = zhicheng::transparency::audit(app.store.as_ref(), &app.log.verifier()).await.unwrap();
    assert!(report.problems.is_empty(), "{:?}", report.problems);
}

async fn tiles_and_entries_follow_c2sp_and_entities_are_chained(app: TestApp) {
    app.load(&fixtures::registry()).await;
    let (_, authorization) = publish_more(&app).await;
    let head = app.checkpoint().await;
    assert!(head.size < 256, "the fixture fits one tile");
    let width = head.size;
    let (status, headers, tile) = app.bytes(&format!("/log/tile/0/000.p/{width}")).await;
    assert_eq!(status.as_u16(), 200);
    assert_eq!(headers["cache-control"], "public, max-age=31536000, immutable");
    let (_, _, bundle) = app.bytes(&format!("/log/tile/entries/000.p/{width}")).await;
    let entries = tiles::parse_entry_bundle(&bundle).unwrap();
    assert_eq!(entries.len() as u64, width);
    let leaves: Vec<Hash> = entries.iter().map(|e| leaf_hash(e)).collect();
    assert_eq!(tile, tiles::bytes_of(&leaves));
    assert_eq!(merkle::root(&leaves), head.root);
    // A full tile that does not exist yet, a wider partial one, and malformed paths.
    for path in ["0/000", &format!("0/000.p/{}", width + 1), "0/1", "0/000.p/0", "entries/x000/000", "1/000"] {
        let answer = app.get(&format!("/log/tile/{path}")).await;
        answer.problem(404, "not_found");
    }
    // Each entry names the previous one about its entity: grant → suspend → withdraw.
    let chain: Vec<(u64, Value)> = entries
        .iter()
        .enumerate()
        .map(|(i, e)| (i as u64, serde_json::from_slice::<Value>(e).unwrap()))
        .filter(|(_, e)| e["entity"]["id"] == authorization.as_str())
        .collect();
    let kinds: Vec<&str> = chain.iter().map(|(_, e)| e["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["authorization.granted", "authorization.suspended", "authorization.withdrawn"]);
    assert_eq!(chain[0].1["prev"], Value::Null);
    assert_eq!(chain[1].1["prev"], chain[0].0);
    assert_eq!(chain[2].1["prev"], chain[1].0);
    // Bad JSON parameters are named.
    app.get("/api/v1/log/proof/inclusion").await.problem(400, "required");
    let beyond = app.get(&format!("/api/v1/log/proof/inclusion?index={}&size={}", width, width)).await;
    assert_eq!(beyond.problem(400, "out_of_range")["errors"][0]["field"], "index");
    let range = app.get("/api/v1/log/entries?start=0&end=5000").await;
    assert_eq!(range.problem(400, "out_of_range")["errors"][0]["field"], "end");
}

async fn late_sanctions_and_withdrawals_are_flagged(app: TestApp) {
    app.load(&fixtures::registry()).await;
    let (committee, authorization) = publish_more(&app).await;
    let sanctions = app.ok("/api/v1/sanctions?subject_kind=applicant").await;
    let late = sanctions["sanctions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["document_number"] == "吉人社监〔2025〕31号")
        .unwrap();
    assert_eq!(late["logged_late"], true, "effective 2025-03-01, logged today");
    let detail = app.ok(&format!("/api/v1/committees/{committee}")).await;
    let granted = detail["committee"]["authorizations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == authorization.as_str())
        .unwrap();
    let history = granted["history"].as_array().unwrap();
    assert!(history.iter().all(|r| r["logged_late"] == true), "{history:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn log_verify_and_monitor_catch_a_rewritten_and_a_forked_log() {
    let dir = tempfile::tempdir().unwrap();
    let log_key = dir.path().join("log.key");
    let db = |name: &str| format!("sqlite://{}", dir.path().join(name).display());
    let examples = dir.path().join("examples");
    for (name, certificates) in [("a.db", "300"), ("b.db", "400")] {
        let out = zhicheng(&[
            "demo",
            "--database-url",
            &db(name),
            "--certificates",
            certificates,
            "--examples",
            examples.to_str().unwrap(),
        ]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }
    let free_port = || std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let state = dir.path().join("monitor.json");
    let state_arg = state.to_str().unwrap().to_string();

    // The honest demo server: the whole log verifies, and the monitor records its checkpoint.
    let mut honest = crate::bulk::Server::start_with(&db("a.db"), "info", free_port(), Some(&log_key)).await;
    let url = format!("http://{}", honest.addr);
    wait_for_checkpoint(&url).await;
    let key =
        String::from_utf8(reqwest::get(format!("{url}/api/v1/log/key")).await.unwrap().bytes().await.unwrap().to_vec())
            .unwrap();
    let key = key.trim();
    let verify = zhicheng(&["log", "verify", "--url", &url, "--key", key]);
    assert!(
        verify.status.success(),
        "{}{}",
        String::from_utf8_lossy(&verify.stdout),
        String::from_utf8_lossy(&verify.stderr)
    );
    let monitor = zhicheng(&["log", "monitor", "--url", &url, "--state", &state_arg, "--once", "--key", key]);
    assert!(monitor.status.success(), "{}", String::from_utf8_lossy(&monitor.stderr));

    // The same server after a row is rewritten: its entries no longer make the signed tree.
    tamper(&db("a.db"), 5).await;
    let verify = zhicheng(&["log", "verify", "--url", &url, "--key", key]);
    assert_eq!(verify.status.code(), Some(2), "{}", String::from_utf8_lossy(&verify.stdout));
    let _ = honest.child.kill().await;

    // A fork: another history signed with the same key. The monitor shows both notes.
    let mut forked = crate::bulk::Server::start_with(&db("b.db"), "info", free_port(), Some(&log_key)).await;
    let forked_url = format!("http://{}", forked.addr);
    wait_for_checkpoint(&forked_url).await;
    let monitor = zhicheng(&["log", "monitor", "--url", &forked_url, "--state", &state_arg, "--once"]);
    let out = String::from_utf8_lossy(&monitor.stdout);
    assert_eq!(monitor.status.code(), Some(2), "{out}");
    assert!(out.contains("--- earlier checkpoint ---") && out.contains("--- new checkpoint ---"), "{out}");
    assert_eq!(out.matches("— zhicheng.registry/test ").count(), 2, "both signed notes: {out}");
    let _ = forked.child.kill().await;
}

async fn wait_for_checkpoint(url: &str) {
    for _ in 0..100 {
        if reqwest::get(format!("{url}/log/checkpoint")).await.is_ok_and(|r| r.status().is_success()) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("no checkpoint from {url}");
}

/// A certificate's tlog-proof verifies offline, for that certificate only.
pub async fn certificate_proofs(app: &TestApp, number: &str, credential: &Value, dir: &std::path::Path) {
    let early = app.get(&format!("/api/v1/certificates/{number}/tlog-proof")).await;
    assert_eq!(early.status.as_u16(), 503, "no checkpoint covers it yet: {}", early.body);
    assert_eq!(early.headers["retry-after"], "1");
    assert_eq!(early.body["code"], "not-yet-checkpointed");
    let head = app.checkpoint().await;
    let (status, _, text) = app.bytes(&format!("/api/v1/certificates/{number}/tlog-proof")).await;
    assert_eq!(status.as_u16(), 200);
    let text = String::from_utf8(text).unwrap();
    let proof = TlogProof::parse(&text).unwrap();
    assert_eq!(proof.checkpoint, head.note);
    let file = dir.join("cert.tlog-proof");
    std::fs::write(&file, &text).unwrap();
    let key = app.log.verifier_key();
    let check = |certificate: &Value| {
        let cert = dir.join("cert.json");
        std::fs::write(&cert, certificate.to_string()).unwrap();
        let args =
            ["log", "check-proof", file.to_str().unwrap(), "--key", &key, "--certificate", cert.to_str().unwrap()];
        zhicheng(&args)
    };
    let ok = check(credential);
    assert!(ok.status.success(), "{}", String::from_utf8_lossy(&ok.stderr));
    let mut other = credential.clone();
    other["credentialSubject"]["holderName"] = json!("李四");
    let wrong = check(&other);
    assert_eq!(wrong.status.code(), Some(2));
    let answer = app.send("POST", "/api/v1/verify", None, Some(json!({"credential": credential})), &[]).await.body;
    assert_eq!(answer["checked_against"]["checkpoint"], head.note.as_str());
}
