//! Holder ID numbers (issue 13): no certificate or public answer lets anyone search a resident
//! ID number offline; the registry alone checks one, online.

use chrono::{Duration, Utc};
use serde_json::{Value, json};
use zhicheng::domain::holder_id::{self, HolderIdCheck};

use crate::certificates::{setup, subject};
use crate::support::{TestApp, both};

both!(
    the_realistic_id_search_finds_nothing_without_the_registrys_secret,
    holder_id_digests_come_from_the_registry_only,
);

/// The holder: born 1980-01-17 in Nanguan district, Changchun (220102).
const HOLDER_ID: &str = "220102198001171238";

/// Every ID number an attacker who knows the region and the birth month must try: 31 days ×
/// 1,000 sequence numbers, each with its computed check character. (Knowing only the region
/// and a forty-year age range multiplies this by 480, to about 10^7.)
fn candidates() -> Vec<String> {
    const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    const CHECK: [char; 11] = ['1', '0', 'X', '9', '8', '7', '6', '5', '4', '3', '2'];
    let mut out = Vec::with_capacity(31_000);
    for day in 1..=31 {
        for sequence in 0..1000 {
            let body = format!("220102198001{day:02}{sequence:03}");
            let sum: u32 = body.chars().zip(WEIGHTS).map(|(c, w)| c.to_digit(10).unwrap() * w).sum();
            out.push(format!("{body}{}", CHECK[(sum % 11) as usize]));
        }
    }
    out
}

/// Every byte string an outsider can take from the public answers about a certificate, as keys
/// and salts to try: the digest's own parts, the registry's and the issuer's public keys, the
/// certificate number, and nothing at all.
fn public_keys_to_try(digest: &str, number: &str, public: &[String]) -> Vec<Vec<u8>> {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let mut keys = vec![Vec::new(), number.as_bytes().to_vec()];
    for part in digest.split(':').chain(public.iter().map(String::as_str)) {
        keys.push(part.as_bytes().to_vec());
        if let Ok(bytes) = b64.decode(part) {
            keys.push(bytes);
        }
        if let Ok(bytes) = zhicheng::crypto::multikey::from_base58btc(part.trim_start_matches('z')) {
            keys.push(bytes);
        }
    }
    keys
}

async fn the_realistic_id_search_finds_nothing_without_the_registrys_secret(app: TestApp) {
    let s = setup(&app).await;
    let number = "ID-SEARCH-1";
    let digest = app
        .post(
            "/api/v1/admin/holder-id-digests",
            &s.issuer_token,
            json!({"certificate_number": number, "id_number": HOLDER_ID}),
        )
        .await;
    assert_eq!(digest.status, 200, "{}", digest.body);
    let digest = digest.body["holder_id_digest"].as_str().unwrap().to_string();
    let mut fields = subject(number, "c-eng", "ENGINEERING", "intermediate", "2023-05-01");
    fields.holder_id_digest = Some(digest.clone());
    let credential = s.issuer.sign(&fields, "jilin", Utc::now() - Duration::hours(1));
    app.post("/api/v1/admin/certificates", &s.issuer_token, json!({"credential": credential})).await.created();

    // What an outsider can collect: the certificate, the verification and lookup answers, the
    // bundle, the log entry, the registry's and the issuer's keys.
    let verified = app.send("POST", "/api/v1/verify", None, Some(json!({"credential": credential})), &[]).await;
    assert_eq!(verified.body["verdict"], "valid", "{}", verified.body);
    let public = [
        credential.to_string(),
        verified.body.to_string(),
        app.send(
            "POST",
            "/api/v1/certificates/lookup",
            None,
            Some(json!({"number": number, "name": fields.holder_name})),
            &[],
        )
        .await
        .body
        .to_string(),
        app.get("/api/v1/bundle").await.body.to_string(),
        app.get("/api/v1/log/entries?from=0").await.body.to_string(),
    ];
    assert!(public.iter().all(|answer| !answer.contains(HOLDER_ID)), "the number itself is never served");
    let bundle = app.ok("/api/v1/bundle").await;
    let keys = vec![
        bundle["proof"]["verificationMethod"].as_str().unwrap_or_default().split('#').next_back().unwrap().to_string(),
        s.issuer.public.clone(),
    ];

    // The search that found a salted SHA-256 digest's number finds it here too, as a control:
    // the candidate set is right.
    let legacy = holder_id::legacy_digest(HOLDER_ID, b"printed-salt");
    let candidates = candidates();
    let legacy_hits: Vec<&String> =
        candidates.iter().filter(|c| holder_id::check(&legacy, number, c, None) == HolderIdCheck::Matches).collect();
    assert_eq!(legacy_hits, [HOLDER_ID], "a salted digest gives the number away");

    // Against the registry's keyed digest, every candidate under every key an outsider holds
    // reproduces nothing; the verifier without the secret cannot even say no.
    for key in public_keys_to_try(&digest, number, &keys) {
        let guess = holder_id::HolderIdKey::derive(&key);
        assert!(
            candidates.iter().all(|c| holder_id::check(&digest, number, c, Some(&guess)) != HolderIdCheck::Matches),
            "a public value opened the digest"
        );
    }
    assert_eq!(holder_id::check(&digest, number, HOLDER_ID, None), HolderIdCheck::NeedsRegistry);
    // With the registry's secret the same search finds exactly the holder: the secret, and only
    // the secret, stands between the digest and the number.
    let secret = crate::support::holder_key();
    let keyed_hits: Vec<&String> = candidates
        .iter()
        .filter(|c| holder_id::check(&digest, number, c, Some(&secret)) == HolderIdCheck::Matches)
        .collect();
    assert_eq!(keyed_hits, [HOLDER_ID]);

    // Online, the registry answers one claim at a time.
    let claim = |id: &str| json!({"credential": credential, "id_number": id});
    let right = app.send("POST", "/api/v1/verify", None, Some(claim(HOLDER_ID)), &[]).await;
    assert_eq!(holder_step(&right.body), ("pass", "ok"), "{}", right.body);
    let wrong = app.send("POST", "/api/v1/verify", None, Some(claim("220102198001171246")), &[]).await;
    assert_eq!(holder_step(&wrong.body), ("fail", "holder_id_mismatch"), "{}", wrong.body);
    // A verifier offline holds no secret: it says so instead of guessing.
    let registry = zhicheng::verify::offline::open(&bundle, None).unwrap();
    let presented = zhicheng::domain::verification::Presented::new(credential.clone());
    let claim = zhicheng::domain::verification::HolderClaim { name: None, id_number: Some(HOLDER_ID.into()) };
    let offline = registry.verify(&presented, &claim, Utc::now());
    let holder = offline.checks.iter().find(|c| format!("{:?}", c.step) == "Holder").unwrap();
    assert_eq!(
        (format!("{:?}", holder.status).as_str(), holder.message_en.as_ref()),
        ("Skip", "only the registry can check an ID number: verify online")
    );
}

fn holder_step(answer: &Value) -> (&str, &str) {
    let check = answer["checks"].as_array().unwrap().iter().find(|c| c["step"] == "holder").unwrap();
    (check["status"].as_str().unwrap(), check["code"].as_str().unwrap())
}

async fn holder_id_digests_come_from_the_registry_only(app: TestApp) {
    let s = setup(&app).await;
    let ask = |token: Option<&str>, body: Value| {
        let token = token.map(str::to_string);
        let app = &app;
        async move { app.send("POST", "/api/v1/admin/holder-id-digests", token.as_deref(), Some(body), &[]).await }
    };
    let good = json!({"certificate_number": "N-9", "id_number": HOLDER_ID});
    assert_eq!(ask(None, good.clone()).await.status, 401);
    ask(Some(&s.publisher), good.clone()).await.problem(403, "wrong_role");
    let not_an_id =
        ask(Some(&s.issuer_token), json!({"certificate_number": "N-9", "id_number": "220102198001171230"})).await;
    assert_eq!(not_an_id.problem(422, "invalid_id_number")["errors"][0]["field"], "id_number");
    ask(Some(&s.issuer_token), json!({"certificate_number": "N-9", "id_number": HOLDER_ID, "salt": "x"}))
        .await
        .problem(422, "invalid_field");
    let digest = ask(Some(&s.issuer_token), good).await;
    assert_eq!(digest.status, 200);
    assert!(digest.body["holder_id_digest"].as_str().unwrap().starts_with("hmac-sha256:"));

    // A certificate whose digest anyone could recompute is refused, and nothing is written.
    let mut fields = subject("N-9", "c-eng", "ENGINEERING", "intermediate", "2023-05-01");
    fields.holder_id_digest = Some(holder_id::legacy_digest(HOLDER_ID, b"salt"));
    let credential = s.issuer.sign(&fields, "jilin", Utc::now() - Duration::hours(1));
    let refused = app.post("/api/v1/admin/certificates", &s.issuer_token, json!({"credential": credential})).await;
    assert_eq!(
        refused.problem(422, "holder_id_digest_not_keyed")["errors"][0]["field"],
        "credential.credentialSubject.holderIdDigest"
    );
    let registered = app
        .send(
            "POST",
            "/api/v1/verify",
            None,
            Some(json!({"certificate_number": "N-9", "name": fields.holder_name})),
            &[],
        )
        .await;
    assert_eq!(registered.body["verdict"], "not_found", "nothing was written: {}", registered.body);
    // So is one keyed by another registry's secret.
    let other = holder_id::HolderIdKey::derive(&[1; 32]);
    fields.holder_id_digest = Some(other.digest("N-9", HOLDER_ID));
    let credential = s.issuer.sign(&fields, "jilin", Utc::now() - Duration::hours(1));
    app.post("/api/v1/admin/certificates", &s.issuer_token, json!({"credential": credential}))
        .await
        .problem(422, "holder_id_digest_not_keyed");
    // And one whose status list is another host's, whatever its path.
    let mut fields = subject("N-10", "c-eng", "ENGINEERING", "intermediate", "2023-05-01");
    fields.holder_id_digest = Some(crate::support::holder_key().digest("N-10", HOLDER_ID));
    let entry = zhicheng::domain::certificate::StatusEntry {
        purpose: "revocation",
        list_url: "https://evil.example/api/v1/status-lists/jilin.revocation".into(),
        index: 3,
    };
    let credential = s.issuer.sign_with_status(&fields, "jilin", Utc::now() - Duration::hours(1), &[entry]);
    app.post("/api/v1/admin/certificates", &s.issuer_token, json!({"credential": credential}))
        .await
        .problem(422, "foreign_status_list");
}
