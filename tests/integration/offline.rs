//! Offline verification from a signed bundle agrees with the API, on every demo example;
//! status lists carry revocations.

use serde_json::{Value, json};
use zhicheng::crypto::status_list;
use zhicheng::domain::verification::{HolderClaim, Presented};

use crate::support::{TestApp, both};

both!(
    offline_and_online_verification_agree_on_every_demo_example,
    status_lists_publish_revocations_signed_by_the_registry
);

async fn load_demo(app: &TestApp) -> Vec<zhicheng::demo::certificates::Example> {
    let demo = zhicheng::demo::demo(zhicheng::store::today(), 2_000, &TestApp::demo_registry());
    app.load(&demo.dataset).await;
    demo.examples
}

fn verdict_and_checks(answer: &Value) -> (Value, Value) {
    (answer["verdict"].clone(), answer["checks"].clone())
}

async fn offline_and_online_verification_agree_on_every_demo_example(app: TestApp) {
    let examples = load_demo(&app).await;
    let names: Vec<&str> = examples.iter().map(|e| e.name).collect();
    assert_eq!(
        names,
        ["valid", "revoked", "forged-signature", "above-authorized-level", "expired-approval", "key-after-compromise"]
    );
    let bundle = app.ok("/api/v1/bundle").await;
    let registry = zhicheng::verify::offline::open(&bundle, None).expect("the bundle verifies");
    let dir = tempfile::tempdir().unwrap();
    let bundle_file = dir.path().join("bundle.json");
    std::fs::write(&bundle_file, bundle.to_string()).unwrap();
    let expected = [
        ("valid", "valid"),
        ("revoked", "revoked"),
        ("forged-signature", "invalid"),
        ("above-authorized-level", "invalid"),
        ("expired-approval", "invalid"),
        ("key-after-compromise", "invalid"),
    ];
    for example in &examples {
        let online =
            app.send("POST", "/api/v1/verify", None, Some(json!({"credential": example.credential})), &[]).await.body;
        let offline =
            registry.verify(&Presented::new(example.credential.clone()), &HolderClaim::default(), chrono::Utc::now());
        let offline = json!({"verdict": offline.verdict, "checks": offline.checks});
        assert_eq!(
            verdict_and_checks(&online),
            verdict_and_checks(&offline),
            "{}: API and bundle disagree",
            example.name
        );
        let wanted = expected.iter().find(|(n, _)| *n == example.name).unwrap().1;
        assert_eq!(online["verdict"], wanted, "{}: {online}", example.name);
        // The CLI, offline, from the same bundle; and from the QR text.
        let file = dir.path().join(format!("{}.json", example.name));
        std::fs::write(&file, example.credential.to_string()).unwrap();
        let qr = zhicheng::crypto::compact::encode(&example.credential);
        for input in [file.to_str().unwrap().to_string(), qr] {
            let out = std::process::Command::new(env!("CARGO_BIN_EXE_zhicheng"))
                .args([
                    "verify",
                    &input,
                    "--bundle",
                    bundle_file.to_str().unwrap(),
                    "--registry-key",
                    &registry.registry_key,
                ])
                .output()
                .unwrap();
            let cli: Value = serde_json::from_slice(&out.stdout)
                .unwrap_or_else(|_| panic!("{}: {}", example.name, String::from_utf8_lossy(&out.stderr)));
            assert_eq!(verdict_and_checks(&cli), verdict_and_checks(&online), "{}: CLI and API disagree", example.name);
            assert_eq!(out.status.code(), Some(if wanted == "valid" { 0 } else { 2 }));
        }
    }
    // A bundle is believed only under a key the verifier chose to trust: it cannot vouch for itself.
    let valid_file = dir.path().join("valid.json");
    let unpinned = std::process::Command::new(env!("CARGO_BIN_EXE_zhicheng"))
        .args(["verify", valid_file.to_str().unwrap(), "--bundle", bundle_file.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(unpinned.status.code(), Some(1), "an unpinned bundle is refused");
    let said = String::from_utf8_lossy(&unpinned.stderr);
    assert!(said.contains("--registry-key") && said.contains(&registry.registry_key), "{said}");
    assert!(unpinned.stdout.is_empty(), "no verdict is printed");
    // A bundle altered in transit, or signed by another key, is refused.
    let mut altered = bundle.clone();
    altered["credentialSubject"]["log_size"] = json!(0);
    assert!(zhicheng::verify::offline::open(&altered, None).is_err());
    assert!(
        zhicheng::verify::offline::open(&bundle, Some("z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2")).is_err()
    );
    // The bundle carries no holder names.
    assert!(!bundle.to_string().contains(examples[0].credential["credentialSubject"]["holderName"].as_str().unwrap()));
}

async fn status_lists_publish_revocations_signed_by_the_registry(app: TestApp) {
    let examples = load_demo(&app).await;
    let index = |name: &str, purpose: &str| -> (String, u64) {
        let c = &examples.iter().find(|e| e.name == name).unwrap().credential;
        let entry = c["credentialStatus"].as_array().unwrap().iter().find(|e| e["statusPurpose"] == purpose).unwrap();
        let url = entry["statusListCredential"].as_str().unwrap();
        (url.rsplit('/').next().unwrap().to_string(), entry["statusListIndex"].as_str().unwrap().parse().unwrap())
    };
    let (revoked_list, revoked_at) = index("revoked", "revocation");
    let response = app.get(&format!("/api/v1/status-lists/{revoked_list}")).await;
    assert_eq!(response.status.as_u16(), 200);
    let list = &response.body;
    assert_eq!(list["type"][1], "BitstringStatusListCredential");
    let proof = zhicheng::crypto::data_integrity::parse(list).unwrap();
    let key = proof.verification_method.strip_prefix("did:key:").unwrap().split('#').next().unwrap();
    proof.verify(&zhicheng::crypto::multikey::decode_public(key).unwrap()).expect("signed by the registry");
    let bits = status_list::decode(list["credentialSubject"]["encodedList"].as_str().unwrap()).unwrap();
    assert_eq!(status_list::is_set(&bits, revoked_at), Some(true));
    let (valid_list, valid_at) = index("valid", "revocation");
    let valid_bits = if valid_list == revoked_list {
        bits.clone()
    } else {
        status_list::decode(
            app.ok(&format!("/api/v1/status-lists/{valid_list}")).await["credentialSubject"]["encodedList"]
                .as_str()
                .unwrap(),
        )
        .unwrap()
    };
    assert_eq!(status_list::is_set(&valid_bits, valid_at), Some(false));
    // Caching: the same list answers 304 to its ETag.
    let etag = response.headers["etag"].to_str().unwrap().to_string();
    let again =
        app.send("GET", &format!("/api/v1/status-lists/{revoked_list}"), None, None, &[("if-none-match", &etag)]).await;
    assert_eq!(again.status.as_u16(), 304);
    assert!(response.headers["cache-control"].to_str().unwrap().contains("max-age"));
    // The same content is signed once, not on every GET: the same tag, the same bytes.
    let (status, headers, first) = app.bytes(&format!("/api/v1/status-lists/{revoked_list}")).await;
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let (_, headers_later, later) = app.bytes(&format!("/api/v1/status-lists/{revoked_list}")).await;
    assert_eq!(status.as_u16(), 200);
    assert_eq!(headers["etag"], headers_later["etag"]);
    assert_eq!(first, later, "one ETag, two different documents");
    app.get("/api/v1/status-lists/hr-220000.sideways").await.problem(404, "not_found");
}
