//! Exports and snapshot sets (issue 15): a snapshot plus the change feed since it reproduces
//! the next snapshot byte for byte; the manifest's hashes match its files, its signature
//! verifies and its hash is in the log; the export endpoint serves exactly the rows the API
//! shows, gzipped on request, with the log size it reflects.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;
use zhicheng::domain::code::Code;
use zhicheng::domain::publish::Role;
use zhicheng::export::manifest::{MANIFEST_FILE, Manifest, sha256_hex};
use zhicheng::export::mirror::Mirror;
use zhicheng::export::snapshot::{publish_manifest, write_set};
use zhicheng::export::{Encoder, Format, file_name};
use zhicheng::store::Table;

use crate::publishing::{committee_body, grant_body};
use crate::support::{TestApp, both, registry_key};

both!(applying_the_changes_since_a_snapshot_reproduces_the_next_one, the_export_endpoint_serves_the_rows_the_api_shows,);

/// A snapshot set of every table in `dir`, as `zhicheng export` writes it; its manifest's bytes.
async fn snapshot(app: &TestApp, dir: &Path) -> Vec<u8> {
    let written = write_set(app.store.as_ref(), &Table::ALL, &Format::ALL, dir, &|_, _| {}).await.expect("export");
    let checkpoint = app.checkpoint().await;
    assert!(checkpoint.size >= written.log_size);
    let (bytes, _) = publish_manifest(
        app.store.as_ref(),
        dir,
        written,
        Some(checkpoint.note),
        registry_key().signing_key(),
        "hr-000000",
    )
    .await
    .expect("manifest");
    bytes
}

/// The publications between two snapshots: one of every kind a mirror must replay.
async fn publish_one_of_each(app: &TestApp, certificate: (&str, &str)) {
    let jilin = app.token("hr-220000", Role::Publisher).await;
    let name = "  吉林省导出测试学会职称评审委员会 ";
    let committee = app.post("/api/v1/admin/committees", &jilin, committee_body(name, "220100", 77)).await;
    let committee = committee.created()["id"].as_str().unwrap().to_string();
    let patch = json!({"contact": "0431-12345678", "domains": ["export-test.example.cn"]});
    app.send("PATCH", &format!("/api/v1/admin/committees/{committee}"), Some(&jilin), Some(patch), &[]).await.created();
    let granted =
        app.post("/api/v1/admin/authorizations", &jilin, grant_body(&committee, "吉人社函〔2026〕901号")).await;
    let authorization = granted.created()["id"].as_str().unwrap().to_string();
    let act = |doc: &str, on: &str| json!({"effective_on": on, "document_number": doc, "note": "导出测试"});
    for (path, doc, on) in
        [("suspend", "吉人社函〔2026〕902号", "2026-02-01"), ("reinstate", "吉人社函〔2026〕903号", "2026-03-01")]
    {
        let uri = format!("/api/v1/admin/authorizations/{authorization}/{path}");
        app.post(&uri, &jilin, act(doc, on)).await.created();
    }
    let amendment = json!({
        "specialties": [], "levels": ["intermediate"], "scope": {"regions": ["220100"]},
        "valid_from": "2026-04-01", "valid_until": "2027-12-31", "effective_on": "2026-04-01",
        "document_number": "吉人社函〔2026〕904号"
    });
    app.post(&format!("/api/v1/admin/authorizations/{authorization}/amend"), &jilin, amendment).await.created();

    let person = json!({
        "subject": {"kind": "applicant", "name": "赵导出"}, "measure": "dishonesty_record", "region": "220102",
        "effective_from": "2026-05-01", "document_number": "吉人社监〔2026〕905号",
        "legal_basis": "人社部令第40号", "summary": "赵导出提交虚假业绩材料"
    });
    let sanction = app.post("/api/v1/admin/sanctions", &jilin, person).await;
    let sanction = sanction.created()["id"].as_str().unwrap().to_string();
    let lift = json!({"effective_on": "2026-06-01", "document_number": "吉人社监〔2026〕906号"});
    app.post(&format!("/api/v1/admin/sanctions/{sanction}/lift"), &jilin, lift).await.created();
    let against_committee = json!({
        "subject": {"kind": "committee", "id": committee}, "measure": "warning",
        "effective_from": "2026-07-01", "document_number": "吉人社监〔2026〕907号",
        "legal_basis": "人社部发〔2024〕56号", "summary": "评审材料审核不严"
    });
    app.post("/api/v1/admin/sanctions", &jilin, against_committee).await.created();

    let admin = app.token("hr-220000", Role::Admin).await;
    let key =
        zhicheng::crypto::multikey::encode_public(&ed25519_dalek::SigningKey::from_bytes(&[77; 32]).verifying_key());
    let body = json!({"owner": {"kind": "authority", "id": "hr-220000"}, "public_key": key, "valid_from": "2026-01-01T00:00:00Z"});
    let key_id = app.post("/api/v1/admin/keys", &admin, body).await.created()["id"].as_str().unwrap().to_string();
    let at = json!({"at": "2026-08-01T00:00:00Z"});
    app.post(&format!("/api/v1/admin/keys/{key_id}/compromise"), &admin, at).await.created();

    publish_supervision(app, &jilin, &committee).await;

    let (number, status_authority) = certificate;
    let issuer = app.token(status_authority, Role::Issuer).await;
    let reason = json!({"reason": "导出测试：核查中"});
    app.post(&format!("/api/v1/admin/certificates/{number}/suspend"), &issuer, reason).await.created();
    let reason = json!({"reason": "导出测试：弄虚作假"});
    app.post(&format!("/api/v1/admin/certificates/{number}/revoke"), &issuer, reason).await.created();
}

/// A session of `committee` met today with its outcome, notice and visit (by two of the demo's
/// supervisors), and a spot-check draw of it with an inspection.
async fn publish_supervision(app: &TestApp, token: &str, committee: &str) {
    let session = json!({"committee_id": committee, "series": "ENGINEERING", "levels": ["intermediate"],
        "meets_on": zhicheng::store::today().to_string(), "applicants": 40, "pass_rate_cap": 0.7});
    let session =
        app.post("/api/v1/admin/sessions", token, session).await.created()["id"].as_str().unwrap().to_string();
    let outcome = json!({"public_sector": {"applicants": 25, "passed": 20}, "enterprise": {"applicants": 15, "passed": 12},
        "review_problems": 1, "checklist": {"recusal_applied": true, "experts_drawn_at_random": true}});
    app.post(&format!("/api/v1/admin/sessions/{session}/outcome"), token, outcome).await.created();
    let notice = json!({"committee_id": committee, "session_id": session, "title": "导出测试评审结果公示",
        "published_on": "2026-06-01", "working_days": 5, "complaint_channel": "0431-88880000"});
    app.post("/api/v1/admin/notices", token, notice).await.created();
    let visit = json!({"supervisors": ["JG-220000-001", "JG-220000-002"], "findings": "评审程序符合规定"});
    app.post(&format!("/api/v1/admin/sessions/{session}/visits"), token, visit).await.created();
    let plan = json!({"name": "导出测试随机抽查", "eligible": [committee], "count": 1});
    let plan = app.post("/api/v1/admin/draws", token, plan).await.created()["id"].as_str().unwrap().to_string();
    app.checkpoint().await;
    let inspection = json!({"committee_id": committee, "inspected_on": zhicheng::store::today().to_string(),
        "result": "compliant", "summary": "评审档案齐全"});
    app.post(&format!("/api/v1/admin/draws/{plan}/inspections"), token, inspection).await.created();
}

/// Every entry of the change feed from `start` (inclusive) to `end` (exclusive).
async fn changes(app: &TestApp, start: u64, end: u64) -> Vec<Value> {
    let mut out: Vec<Value> = Vec::new();
    while (start + out.len() as u64) < end {
        let after = start + out.len() as u64 - 1;
        let page = app.ok(&format!("/api/v1/changes?after={after}&limit=1000")).await;
        let entries = page["changes"].as_array().unwrap();
        assert!(!entries.is_empty(), "the feed serves every entry a checkpoint covers");
        out.extend(entries.iter().take_while(|e| e["index"].as_u64().unwrap() < end).cloned());
    }
    out
}

fn manifest_of(bytes: &[u8]) -> Manifest {
    serde_json::from_slice(bytes).expect("a manifest")
}

/// The manifest's promises about its files hold, and its signature is the registry's.
fn check_manifest(dir: &Path, manifest: &Manifest) {
    manifest.verify().expect("the manifest's signature verifies");
    let registry = zhicheng::crypto::multikey::encode_public(&registry_key().signing_key().verifying_key());
    assert_eq!(manifest.signed_by, registry);
    assert_eq!(manifest.files.len(), Table::ALL.len() * Format::ALL.len());
    for file in &manifest.files {
        let bytes = std::fs::read(dir.join(&file.name)).unwrap();
        assert_eq!(file.bytes, bytes.len() as u64, "{}", file.name);
        assert_eq!(file.sha256, sha256_hex(&bytes), "{}", file.name);
        let lines = bytes.iter().filter(|&&b| b == b'\n').count() as u64;
        let header = u64::from(file.format == Format::Csv);
        // CSV cells may hold line ends of their own only inside quotes; none of these do.
        assert_eq!(lines, file.rows + header, "{}", file.name);
    }
    let leftovers: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.ends_with(".partial"))
        .collect();
    assert!(leftovers.is_empty(), "no partial files stay behind: {leftovers:?}");
}

async fn applying_the_changes_since_a_snapshot_reproduces_the_next_one(app: TestApp) {
    let demo = zhicheng::demo::demo(zhicheng::store::today(), 60, &TestApp::demo_registry());
    app.load(&demo.dataset).await;
    app.publish_demo_supervision(&demo.dataset, zhicheng::store::today()).await;
    let certificate = demo.dataset.certificates.iter().find(|c| c.changes.is_empty()).unwrap();
    let number = certificate.credential["credentialSubject"]["certificateNumber"].as_str().unwrap().to_string();

    let first_dir = tempfile::tempdir().unwrap();
    let first = snapshot(&app, first_dir.path()).await;
    publish_one_of_each(&app, (&number, &certificate.status_authority)).await;
    let second_dir = tempfile::tempdir().unwrap();
    let second = snapshot(&app, second_dir.path()).await;
    let (first, second_bytes) = (manifest_of(&first), second.clone());
    let second = manifest_of(&second);
    check_manifest(first_dir.path(), &first);
    check_manifest(second_dir.path(), &second);
    assert!(second.log_size > first.log_size);
    let changed = |table| {
        let name = file_name(table, Format::Ndjson);
        std::fs::read(first_dir.path().join(&name)).unwrap() != std::fs::read(second_dir.path().join(&name)).unwrap()
    };
    assert!(
        Table::ALL.into_iter().filter(|t| ![Table::Authorities, Table::Delegations].contains(t)).all(changed),
        "every table the publications touched changed between the snapshots"
    );

    // The mirror: the first set, then every entry from its log size up to the second's.
    let mut mirror = Mirror::default();
    for table in Table::ALL {
        let text = std::fs::read_to_string(first_dir.path().join(file_name(table, Format::Ndjson))).unwrap();
        mirror.load(table, &text).expect("the first set loads");
    }
    let entries = changes(&app, first.log_size, second.log_size).await;
    assert_eq!(entries.len() as u64, second.log_size - first.log_size);
    for entry in &entries {
        let disclosures: Vec<zhicheng::domain::log::Disclosure> =
            serde_json::from_value(entry["disclosures"].clone()).unwrap();
        mirror.apply(&entry["entry"], &disclosures).unwrap_or_else(|e| panic!("{e}"));
    }
    for table in Table::ALL {
        for format in Format::ALL {
            let encoder = Encoder::new(table, format);
            let mut replayed = Vec::new();
            encoder.header(&mut replayed);
            mirror.rows(table).for_each(|row| encoder.row(&row, &mut replayed));
            let expected = std::fs::read(second_dir.path().join(file_name(table, format))).unwrap();
            assert!(
                replayed == expected,
                "{}: the replayed table differs from the next snapshot\nreplayed:\n{}\nsnapshot:\n{}",
                file_name(table, format),
                diff_lines(&replayed, &expected).0,
                diff_lines(&replayed, &expected).1,
            );
        }
    }

    // The first manifest's hash is in the log, in the entries the mirror replayed.
    let logged = entries.iter().find(|e| e["entry"]["kind"] == "snapshot.published").expect("the snapshot is logged");
    assert_eq!(logged["entry"]["payload"]["operation"]["manifest_sha256"], sha256_hex(&first_bytes(&first_dir)));
    assert_eq!(logged["entry"]["payload"]["operation"]["log_size"], first.log_size);
    assert_ne!(sha256_hex(&second_bytes), sha256_hex(&first_bytes(&first_dir)));
    // And the people named by the sanction came back through their disclosures, nowhere else.
    let sanctions = std::fs::read_to_string(second_dir.path().join("sanctions.ndjson")).unwrap();
    assert!(sanctions.contains("赵导出"));
}

fn first_bytes(dir: &tempfile::TempDir) -> Vec<u8> {
    std::fs::read(dir.path().join(MANIFEST_FILE)).unwrap()
}

/// The first differing line of each side, for a readable failure.
fn diff_lines(a: &[u8], b: &[u8]) -> (String, String) {
    let (a, b) = (String::from_utf8_lossy(a), String::from_utf8_lossy(b));
    let pair = a.lines().zip(b.lines()).find(|(x, y)| x != y);
    pair.map_or_else(
        || (format!("{} lines", a.lines().count()), format!("{} lines", b.lines().count())),
        |(x, y)| (x.to_string(), y.to_string()),
    )
}

/// A GET with a token and extra headers; the raw answer.
async fn fetch(
    app: &TestApp,
    uri: &str,
    token: Option<&str>,
    headers: &[(&str, &str)],
) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
    let mut request = Request::get(uri);
    if let Some(token) = token {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let mut request = request.body(Body::empty()).unwrap();
    request.extensions_mut().insert(axum::extract::ConnectInfo(std::net::SocketAddr::from(([127, 0, 0, 1], 40000))));
    let response = app.router.clone().oneshot(request).await.unwrap();
    let (status, headers) = (response.status(), response.headers().clone());
    (status, headers, response.into_body().collect().await.unwrap().to_bytes().to_vec())
}

/// Whether every field of `part` is in `whole` with the same value (lists element by element).
fn contained(part: &Value, whole: &Value) -> bool {
    match (part, whole) {
        (Value::Object(p), Value::Object(w)) => p.iter().all(|(k, v)| w.get(k).is_some_and(|x| contained(v, x))),
        (Value::Array(p), Value::Array(w)) => p.len() == w.len() && p.iter().zip(w).all(|(a, b)| contained(a, b)),
        _ => part == whole,
    }
}

async fn ndjson(app: &TestApp, token: &str, table: Table) -> (Vec<Value>, u64) {
    let (status, headers, body) = fetch(app, &format!("/api/v1/exports/{}", table.code()), Some(token), &[]).await;
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    let log_size = headers["zhicheng-log-size"].to_str().unwrap().parse().unwrap();
    let rows = String::from_utf8(body).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    (rows, log_size)
}

async fn the_export_endpoint_serves_the_rows_the_api_shows(app: TestApp) {
    let demo = zhicheng::demo::demo(zhicheng::store::today(), 40, &TestApp::demo_registry());
    app.load(&demo.dataset).await;
    let token = app.token("hr-220000", Role::Publisher).await;
    let log_size = app.store.log_size().await.unwrap() as u64;

    let (committees, stamped) = ndjson(&app, &token, Table::Committees).await;
    assert_eq!(stamped, log_size, "stamped with the log size the rows reflect");
    assert_eq!(committees.len(), demo.dataset.committees.len());
    let (authorizations, _) = ndjson(&app, &token, Table::Authorizations).await;
    let (sanctions, _) = ndjson(&app, &token, Table::Sanctions).await;
    let mut shown_authorizations = BTreeMap::new();
    let mut shown_sanctions = BTreeMap::new();
    for committee in &committees {
        let id = committee["id"].as_str().unwrap();
        let record = app.ok(&format!("/api/v1/committees/{id}")).await["committee"].clone();
        assert!(contained(committee, &record), "committee {id}: {committee} is not what the API shows: {record}");
        for a in record["authorizations"].as_array().unwrap() {
            shown_authorizations.insert(a["id"].as_str().unwrap().to_string(), a.clone());
        }
        for s in record["sanctions"].as_array().unwrap() {
            shown_sanctions.insert(s["id"].as_str().unwrap().to_string(), s.clone());
        }
    }
    assert_eq!(authorizations.len(), shown_authorizations.len());
    for a in &authorizations {
        assert!(contained(a, &shown_authorizations[a["id"].as_str().unwrap()]), "authorization {a}");
    }
    let listed = app.ok("/api/v1/sanctions?limit=500").await;
    for s in listed["sanctions"].as_array().unwrap() {
        shown_sanctions.insert(s["id"].as_str().unwrap().to_string(), s.clone());
    }
    assert_eq!(sanctions.len(), demo.dataset.sanctions.len());
    for s in &sanctions {
        let shown = &shown_sanctions[s["id"].as_str().unwrap()];
        let mut s = s.clone();
        // The API names a lift `lifted`; the export keeps the record's field name.
        let lift = s.as_object_mut().unwrap().remove("lift").unwrap();
        assert!(
            contained(&s, shown) && contained(&lift, &shown["lifted"]),
            "sanction {s} is not what the API shows: {shown}"
        );
    }
    let (keys, _) = ndjson(&app, &token, Table::Keys).await;
    let listed = app.ok("/api/v1/keys").await;
    assert_eq!(Value::Array(keys), listed["keys"]);
    let (authorities, _) = ndjson(&app, &token, Table::Authorities).await;
    assert_eq!(authorities.len(), demo.dataset.authorities.len());
    for a in &authorities {
        let shown = app.ok(&format!("/api/v1/authorities/{}", a["id"].as_str().unwrap())).await;
        assert!(contained(a, &shown["authority"]), "authority {a}");
    }
    let (certificates, _) = ndjson(&app, &token, Table::Certificates).await;
    let states = app.store.certificate_states(None).await.unwrap();
    assert_eq!(certificates.len(), states.len());
    for (row, state) in certificates.iter().zip(&states) {
        let mut expected = json!({"number": state.number, "credential_sha256": state.credential_sha256});
        expected
            .as_object_mut()
            .unwrap()
            .extend(serde_json::to_value(&state.state).unwrap().as_object().unwrap().clone());
        assert_eq!(row, &expected, "a certificate row is its number, digest and state: no holder");
    }

    // Supervision: every session and notice, as their own endpoints show them.
    app.publish_demo_supervision(&demo.dataset, zhicheng::store::today()).await;
    let (sessions, _) = ndjson(&app, &token, Table::Sessions).await;
    assert!(sessions.len() >= 6 && sessions.iter().any(|s| s["outcome"].is_object()), "{sessions:?}");
    for session in &sessions {
        let shown = app.ok(&format!("/api/v1/sessions/{}", session["id"].as_str().unwrap())).await;
        assert!(contained(session, &shown), "session {session} is not what the API shows: {shown}");
    }
    let (notices, _) = ndjson(&app, &token, Table::Notices).await;
    let listed = app.ok("/api/v1/notices?limit=100").await;
    assert_eq!(notices.len(), listed["notices"].as_array().unwrap().len());
    for (row, shown) in notices.iter().zip(listed["notices"].as_array().unwrap()) {
        assert!(contained(row, shown), "notice {row} is not what the API shows: {shown}");
    }
    let (draws, _) = ndjson(&app, &token, Table::Draws).await;
    for draw in &draws {
        let shown = app.ok(&format!("/api/v1/draws/{}", draw["id"].as_str().unwrap())).await;
        assert_eq!(draw, &shown["plan"], "the plan a draw is recomputed from");
    }

    // CSV, gzip, revalidation, and the errors.
    let (status, headers, csv) = fetch(&app, "/api/v1/exports/committees?format=csv", Some(&token), &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert!(headers["content-type"].to_str().unwrap().starts_with("text/csv"));
    let mut reader = csv::Reader::from_reader(csv.as_slice());
    assert_eq!(reader.headers().unwrap().iter().collect::<Vec<_>>(), zhicheng::export::columns(Table::Committees));
    assert_eq!(reader.records().count(), committees.len());
    let (_, _, plain) = fetch(&app, "/api/v1/exports/sanctions", Some(&token), &[]).await;
    let (status, headers, zipped) =
        fetch(&app, "/api/v1/exports/sanctions", Some(&token), &[("accept-encoding", "br;q=1, gzip;q=0.8")]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["content-encoding"], "gzip");
    let mut unzipped = Vec::new();
    flate2::read::GzDecoder::new(zipped.as_slice()).read_to_end(&mut unzipped).unwrap();
    assert_eq!(unzipped, plain, "gzip carries the same bytes");
    let etag = headers["etag"].to_str().unwrap().to_string();
    let (status, _, _) = fetch(
        &app,
        "/api/v1/exports/sanctions",
        Some(&token),
        &[("accept-encoding", "gzip"), ("if-none-match", &etag)],
    )
    .await;
    assert_eq!(status, StatusCode::NOT_MODIFIED, "an unchanged table is not sent again");

    let problem = |body: &[u8]| serde_json::from_slice::<Value>(body).unwrap();
    let (status, _, body) = fetch(&app, "/api/v1/exports/committees", None, &[]).await;
    assert_eq!((status, problem(&body)["code"].clone()), (StatusCode::UNAUTHORIZED, json!("unauthenticated")));
    let (status, _, body) = fetch(&app, "/api/v1/exports/people", Some(&token), &[]).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{}", String::from_utf8_lossy(&body));
    let (status, _, body) = fetch(&app, "/api/v1/exports/committees?format=xlsx", Some(&token), &[]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(problem(&body)["errors"][0]["field"], "format");
}
