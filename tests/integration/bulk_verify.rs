//! Bulk verification (issue 15): thousands of lines in one request, one result per line in
//! order; bad lines answered on their own; the server's memory flat however large the body.

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use zhicheng::domain::publish::Role;
use zhicheng::domain::verification::CertificateState;

use crate::bulk::Server;
use crate::support::{TestApp, both};

both!(twenty_thousand_lines_come_back_in_order_each_answered, bulk_verification_takes_csv_and_refuses_what_it_must,);

async fn load_demo(app: &TestApp) -> Vec<zhicheng::demo::certificates::Example> {
    let demo = zhicheng::demo::demo(zhicheng::store::today(), 300, &TestApp::demo_registry());
    app.load(&demo.dataset).await;
    demo.examples
}

fn example(examples: &[zhicheng::demo::certificates::Example], name: &str) -> Value {
    examples.iter().find(|e| e.name == name).unwrap_or_else(|| panic!("no {name} example")).credential.clone()
}

/// A registered certificate in the given state (revoked or suspended), from the store.
async fn certificate_in_state(app: &TestApp, suspended: bool) -> Value {
    let states = app.store.certificate_states(None).await.unwrap();
    let number = states
        .iter()
        .find(|s| match s.state {
            CertificateState::Suspended { .. } => suspended,
            CertificateState::Revoked { .. } => !suspended,
            CertificateState::Active => false,
        })
        .expect("a demo certificate in that state")
        .number
        .clone();
    app.store.certificate(&number).await.unwrap().unwrap().1
}

fn results(body: &Value) -> Vec<Value> {
    body.as_str().expect("NDJSON").lines().map(|l| serde_json::from_str(l).expect("a JSON result")).collect()
}

async fn twenty_thousand_lines_come_back_in_order_each_answered(app: TestApp) {
    let examples = load_demo(&app).await;
    let token = app.token("hr-220000", Role::Publisher).await;
    let valid = example(&examples, "valid");
    let subject = valid["credentialSubject"].clone();
    let (number, name) = (subject["certificateNumber"].as_str().unwrap(), subject["holderName"].as_str().unwrap());
    let qr = zhicheng::crypto::compact::url("http://registry.test", &valid);
    let kinds: Vec<(String, &str)> = vec![
        (json!({"credential": valid}).to_string(), "valid"),
        (json!({"credential": example(&examples, "forged-signature")}).to_string(), "invalid"),
        (json!({"credential": certificate_in_state(&app, false).await}).to_string(), "revoked"),
        (json!({"credential": certificate_in_state(&app, true).await}).to_string(), "suspended"),
        (json!({"certificate_number": "99-0000-000000", "name": name}).to_string(), "not_found"),
        (json!({"certificate_number": number, "name": "李四"}).to_string(), "not_found"),
        ("{\"credential\": {broken".to_string(), "malformed_line"),
        (String::new(), "empty_line"),
        (qr, "valid"),
        (json!({"certificate_number": number, "name": name}).to_string(), "valid"),
    ];
    let lines = 20_000;
    let mut body = String::new();
    for i in 0..lines {
        body.push_str(&kinds[i % kinds.len()].0);
        body.push('\n');
    }
    let answer = app.send_raw("POST", "/api/v1/bulk/verify", Some(&token), "application/x-ndjson", body).await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.content_type(), "application/x-ndjson");
    assert!(answer.headers.contains_key("zhicheng-log-size"));
    let results = results(&answer.body);
    assert_eq!(results.len(), lines, "one result per line");
    for (i, r) in results.iter().enumerate() {
        assert_eq!(r["line"], i + 1, "in order");
        let expected = kinds[i % kinds.len()].1;
        let got = r["verdict"].as_str().or(r["error"]["code"].as_str()).unwrap_or_default();
        assert_eq!(got, expected, "line {}: {r}", i + 1);
    }
    let forged = &results[1];
    assert_eq!(forged["failed"][0]["code"].as_str().map(|c| c.contains("signature")), Some(true), "{forged}");
    assert!(!results[0].to_string().contains(name), "holders' names are masked");
}

async fn bulk_verification_takes_csv_and_refuses_what_it_must(app: TestApp) {
    let examples = load_demo(&app).await;
    let token = app.token("hr-220000", Role::Publisher).await;
    let subject = example(&examples, "valid")["credentialSubject"].clone();
    let (number, name) = (subject["certificateNumber"].as_str().unwrap(), subject["holderName"].as_str().unwrap());
    let csv = format!("certificate_number,name\n{number},{name}\n{number},\n\"{number}\",李四\n");
    let request = axum::http::Request::post("/api/v1/bulk/verify")
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", "text/csv")
        .header("accept", "text/csv")
        .body(axum::body::Body::from(csv))
        .unwrap();
    let answer = app.send_request(request).await;
    assert_eq!(answer.status, 200);
    let text = answer.body.as_str().unwrap().to_string();
    let rows: Vec<&str> = text.lines().collect();
    assert_eq!(rows[0], "line,verdict,certificate_number,holder,committee_id,code,reason_zh,reason_en");
    assert!(rows[1].starts_with(&format!("2,valid,{number},")), "{text}");
    assert!(rows[2].starts_with("3,,,,,name_required,"), "{text}");
    assert!(rows[3].starts_with("4,not_found,"), "{text}");
    assert_eq!(rows.len(), 4);

    // Anonymous bulk work is refused; so is a body declared larger than the limit.
    let anonymous = app.send_raw("POST", "/api/v1/bulk/verify", None, "application/x-ndjson", "{}\n").await;
    assert_eq!(anonymous.status, 401);
    let empty = app.send_raw("POST", "/api/v1/bulk/verify", Some(&token), "application/x-ndjson", "").await;
    assert_eq!(empty.status, 400, "{}", empty.body);
    assert_eq!(empty.body["errors"][0]["field"], "body", "{}", empty.body);
    // A CSV header alone (here one naming no column at all) leaves nothing to verify.
    let header_only = app.send_raw("POST", "/api/v1/bulk/verify", Some(&token), "text/csv", "{}").await;
    assert_eq!(header_only.problem(400, "empty_body")["errors"][0]["field"], "body");
    let huge = axum::http::Request::post("/api/v1/bulk/verify")
        .header("authorization", format!("Bearer {token}"))
        .header("content-length", (zhicheng::http::bulk::MAX_BULK_BYTES + 1).to_string())
        .body(axum::body::Body::empty())
        .unwrap();
    let refused = app.send_request(huge).await;
    assert_eq!(refused.status, 413);
    assert_eq!(refused.content_type(), "application/problem+json");
}

/// 200,000 lines (≈260 MB) through the real server: it answers every line while its peak
/// memory stays far below the body's size. One line in a hundred is a certificate to verify;
/// the rest are lines of the same size that fail to parse, which costs little and so puts the
/// weight on reading and answering the stream.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_200k_line_body_is_served_in_bounded_memory() {
    let app = TestApp::sqlite().await;
    let examples = load_demo(&app).await;
    let token = app.token("hr-220000", Role::Publisher).await;
    let server = Server::start(&app.url, "info").await;
    let valid = json!({"credential": example(&examples, "valid")}).to_string();
    let filler = format!("{{\"x\": \"{}", "x".repeat(valid.len() - 8));
    let lines = 200_000usize;
    let line = |i: usize| if i.is_multiple_of(100) { valid.as_str() } else { filler.as_str() };
    let length: usize = (0..lines).map(|i| line(i).len() + 1).sum();
    assert!(length > 200_000_000, "a body of {length} bytes");

    let stream = tokio::net::TcpStream::connect(&server.addr).await.unwrap();
    let (mut read, mut write) = stream.into_split();
    let head = format!(
        "POST /api/v1/bulk/verify HTTP/1.1\r\nhost: {}\r\nauthorization: Bearer {token}\r\ncontent-type: application/x-ndjson\r\ncontent-length: {length}\r\nconnection: close\r\n\r\n",
        server.addr
    );
    let (valid_line, filler_line) = (valid.clone(), filler.clone());
    let writer = tokio::spawn(async move {
        write.write_all(head.as_bytes()).await.unwrap();
        let mut chunk = Vec::with_capacity(1 << 20);
        for i in 0..lines {
            chunk.extend_from_slice(if i.is_multiple_of(100) { valid_line.as_bytes() } else { filler_line.as_bytes() });
            chunk.push(b'\n');
            if chunk.len() >= 1 << 20 {
                write.write_all(&chunk).await.unwrap();
                chunk.clear();
            }
        }
        write.write_all(&chunk).await.unwrap();
        write.flush().await.unwrap();
        // Kept open: a half-closed connection is one the server may drop mid-answer.
        write
    });
    let mut answer = Vec::new();
    read.read_to_end(&mut answer).await.unwrap();
    drop(writer.await.unwrap());
    let answer = String::from_utf8(answer).unwrap();
    let body = answer.split_once("\r\n\r\n").expect("a response").1;
    // Chunked transfer: count results by their line field rather than by decoding chunk sizes.
    let valid_results = body.matches("\"verdict\":\"valid\"").count();
    let errors = body.matches("\"code\":\"malformed_line\"").count();
    assert_eq!(valid_results, lines / 100, "every certificate line verified");
    assert_eq!(errors, lines - lines / 100, "every other line answered");
    assert!(body.contains(&format!("\"line\":{lines},")), "the last line answered");

    let status = std::fs::read_to_string(format!("/proc/{}/status", server.child.id().expect("running"))).unwrap();
    let peak_kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM");
    eprintln!("peak RSS serving a {length}-byte, {lines}-line body: {} MB", peak_kb / 1024);
    assert!(peak_kb < 150 * 1024, "peak RSS {} MB; the bound is 150 MB", peak_kb / 1024);
}
