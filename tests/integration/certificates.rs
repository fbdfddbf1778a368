//! Certificates: issuing, every verification step and code, status changes, lookups.

use chrono::{DateTime, Duration, Utc};
use ed25519_dalek::SigningKey;
use serde_json::{Value, json};
use zhicheng::crypto::{data_integrity, multikey};
use zhicheng::domain::certificate::{IssuerRef, TitleSubject, unsigned_credential};
use zhicheng::domain::publish::Role;

use crate::fixtures;
use crate::support::{TestApp, both};

both!(
    a_good_certificate_passes_every_step,
    each_step_fails_on_its_own_fraud,
    revocation_and_suspension_change_the_verdict,
    lookups_mask_names_and_hide_wrong_names,
    issuing_refuses_what_would_not_verify,
    every_key_and_signature_code,
    a_batch_cannot_make_a_malleated_signature_valid,
);

pub struct Issuer {
    pub key: SigningKey,
    pub public: String,
}

impl Issuer {
    pub fn new(seed: u8) -> Issuer {
        let key = SigningKey::from_bytes(&[seed; 32]);
        let public = multikey::encode_public(&key.verifying_key());
        Issuer { key, public }
    }

    pub fn sign(&self, subject: &TitleSubject, issuer: &str, created: DateTime<Utc>) -> Value {
        self.sign_with_status(subject, issuer, created, &[])
    }

    /// Signs with status-list entries (`StatusEntry` for revocation and suspension).
    pub fn sign_with_status(
        &self,
        subject: &TitleSubject,
        issuer: &str,
        created: DateTime<Utc>,
        status: &[zhicheng::domain::certificate::StatusEntry],
    ) -> Value {
        let unsigned = unsigned_credential(
            subject,
            &IssuerRef::Authority(issuer.into()),
            "吉林省人力资源和社会保障厅",
            created,
            status,
        );
        let method = format!("did:key:{0}#{0}", self.public);
        data_integrity::sign(&unsigned, &self.key, &method, &created.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
            .unwrap()
    }
}

pub fn subject(number: &str, committee: &str, series: &str, level: &str, evaluated: &str) -> TitleSubject {
    serde_json::from_value(json!({
        "type": "ProfessionalTitle", "formatVersion": 1, "certificateNumber": number, "holderName": "张小三",
        "holderIdDigest": crate::support::holder_key().digest(number, "220102198001011234"),
        "series": series, "specialty": "建筑工程", "level": level, "titleName": "工程师", "obtainedBy": "evaluation",
        "committeeId": committee, "committeeName": "吉林省建筑工程中级职称评审委员会", "evaluationDate": evaluated,
        "approvalDocument": "吉人社函〔2023〕50号", "applicantRegion": "220102", "ownStaff": false
    }))
    .unwrap()
}

/// The fixture registry, a registered Jilin key, and tokens.
pub struct Setup {
    pub issuer: Issuer,
    pub issuer_token: String,
    pub admin: String,
    pub publisher: String,
    pub key_id: String,
}

pub async fn setup(app: &TestApp) -> Setup {
    app.load(&fixtures::registry()).await;
    let admin = app.token("jilin", Role::Admin).await;
    let issuer = Issuer::new(1);
    let registered = app
        .post("/api/v1/admin/keys", &admin, json!({"owner": {"kind": "authority", "id": "jilin"}, "public_key": issuer.public, "valid_from": "2020-01-01T00:00:00Z"}))
        .await;
    let key_id = registered.created()["id"].as_str().unwrap().to_string();
    Setup {
        issuer,
        issuer_token: app.token("jilin", Role::Issuer).await,
        admin,
        publisher: app.token("jilin", Role::Publisher).await,
        key_id,
    }
}

fn now_minus(hours: i64) -> DateTime<Utc> {
    (Utc::now() - Duration::hours(hours)).with_timezone(&Utc)
}

async fn issue(app: &TestApp, s: &Setup, credential: &Value) {
    let r = app.post("/api/v1/admin/certificates", &s.issuer_token, json!({"credential": credential})).await;
    assert_eq!(r.status.as_u16(), 201, "issuing failed: {}", r.body);
}

async fn verify(app: &TestApp, body: Value) -> Value {
    app.send("POST", "/api/v1/verify", None, Some(body), &[]).await.body
}

fn statuses(answer: &Value) -> Vec<(String, String, String)> {
    answer["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["step"].as_str().unwrap().into(),
                c["status"].as_str().unwrap().into(),
                c["code"].as_str().unwrap().into(),
            )
        })
        .collect()
}

/// The failing checks, as (step, code).
fn failures(answer: &Value) -> Vec<(String, String)> {
    statuses(answer).into_iter().filter(|(_, status, _)| status == "fail").map(|(step, _, code)| (step, code)).collect()
}

fn pair(step: &str, code: &str) -> (String, String) {
    (step.to_string(), code.to_string())
}

async fn a_good_certificate_passes_every_step(app: TestApp) {
    let s = setup(&app).await;
    let credential = s.issuer.sign(
        &subject("JL-2023-0001", "c-eng", "ENGINEERING", "intermediate", "2023-05-01"),
        "jilin",
        now_minus(1),
    );
    issue(&app, &s, &credential).await;
    let answer =
        verify(&app, json!({"credential": credential, "name": "张小三", "id_number": "220102198001011234"})).await;
    assert_eq!(answer["verdict"], "valid", "{answer}");
    let steps: Vec<_> = statuses(&answer).into_iter().map(|(step, status, _)| (step, status)).collect();
    // Evaluated before sessions were required: the session step says so and is skipped.
    let expected: Vec<(String, String)> =
        ["format", "signature", "key", "issuer", "authority", "sanctions", "session", "status", "registry", "holder"]
            .iter()
            .map(|s| (s.to_string(), if *s == "session" { "skip" } else { "pass" }.to_string()))
            .collect();
    assert_eq!(steps, expected);
    assert!(answer["checked_against"]["log_size"].as_i64().unwrap() > 0);
    assert_eq!(answer["certificate"]["holder"], "张*三");
    // By number and name: the same verdict from the registered copy.
    let by_number = verify(&app, json!({"certificate_number": "JL-2023-0001", "name": "张小三"})).await;
    assert_eq!(by_number["verdict"], "valid", "{by_number}");
    // Pretty-printed and re-ordered, it is the same certificate.
    let reformatted: Value = serde_json::from_str(&serde_json::to_string_pretty(&credential).unwrap()).unwrap();
    assert_eq!(verify(&app, json!({"credential": reformatted})).await["verdict"], "valid");
    // Its issuance is in the transparency log, with a proof file that checks offline.
    let dir = tempfile::tempdir().unwrap();
    crate::log::certificate_proofs(&app, "JL-2023-0001", &credential, dir.path()).await;
}

async fn each_step_fails_on_its_own_fraud(app: TestApp) {
    let s = setup(&app).await;
    let sign = |number: &str, committee: &str, level: &str, evaluated: &str| {
        s.issuer.sign(&subject(number, committee, "ENGINEERING", level, evaluated), "jilin", now_minus(2))
    };

    // 1 format: an unknown format version.
    let mut bad_format = sign("F-1", "c-eng", "intermediate", "2023-05-01");
    bad_format["credentialSubject"]["formatVersion"] = json!(99);
    let answer = verify(&app, json!({"credential": bad_format})).await;
    assert_eq!(failures(&answer), [pair("format", "malformed")]);
    assert_eq!(answer["verdict"], "invalid");

    // 2 signature: a registered certificate with the level raised after signing.
    let genuine = sign("S-1", "c-eng", "intermediate", "2023-05-01");
    issue(&app, &s, &genuine).await;
    let mut forged = genuine.clone();
    forged["credentialSubject"]["level"] = json!("associate_senior");
    assert_eq!(failures(&verify(&app, json!({"credential": forged})).await), [pair("signature", "bad_signature")]);
    let mut context = genuine.clone();
    context["@context"] = json!(["https://www.w3.org/ns/credentials/v2"]);
    assert_eq!(failures(&verify(&app, json!({"credential": context})).await), [pair("signature", "context_mismatch")]);

    // 3 key: the key is reported compromised from an instant between two registrations. The later
    // certificate fails at the key step — however early its `created` claims to be, the registry
    // logged it after the compromise — and the earlier one stands.
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    let between = Utc::now();
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    let stolen = sign("K-1", "c-eng", "intermediate", "2023-05-01");
    issue(&app, &s, &stolen).await;
    app.post(&format!("/api/v1/admin/keys/{}/compromise", s.key_id), &s.admin, json!({"at": between.to_rfc3339()}))
        .await
        .created();
    assert_eq!(failures(&verify(&app, json!({"credential": stolen})).await), [pair("key", "key_compromised")]);
    // … and the earlier certificate, signed before the compromise, stands.
    assert_eq!(verify(&app, json!({"credential": genuine})).await["verdict"], "valid");
    // An unregistered key: its certificate cannot have been registered either.
    let stranger = Issuer::new(9).sign(
        &subject("K-2", "c-eng", "ENGINEERING", "intermediate", "2023-05-01"),
        "jilin",
        now_minus(2),
    );
    assert_eq!(
        failures(&verify(&app, json!({"credential": stranger})).await),
        [pair("key", "key_unregistered"), pair("registry", "not_in_registry")]
    );

    // 4 issuer: Jilin signing for Yunnan's committee.
    // (A fresh key: the first one is compromised now.)
    let fresh = Issuer::new(2);
    app.post("/api/v1/admin/keys", &s.admin, json!({"owner": {"kind": "authority", "id": "jilin"}, "public_key": fresh.public, "valid_from": "2020-01-01T00:00:00Z"})).await.created();
    let mut yunnan_applicant = subject("I-1", "c-sanctioned", "ECONOMICS", "intermediate", "2023-08-01");
    yunnan_applicant.applicant_region = "530102".into();
    yunnan_applicant.specialty = None;
    let foreign = fresh.sign(&yunnan_applicant, "jilin", now_minus(1));
    assert_eq!(
        failures(&verify(&app, json!({"credential": foreign})).await),
        [pair("issuer", "issuer_not_for_committee"), pair("registry", "not_in_registry")]
    );

    // 5 authority: registered, then the authorization is withdrawn back to before the evaluation.
    let s = Setup { issuer: fresh, ..s };
    let susp =
        s.issuer.sign(&subject("A-1", "c-susp", "AGRICULTURE", "intermediate", "2024-01-10"), "jilin", now_minus(1));
    issue(&app, &s, &susp).await;
    let withdrawal = json!({"effective_on": "2024-01-01", "document_number": "吉人社函〔2026〕1号"});
    app.post("/api/v1/admin/authorizations/a-susp/withdraw", &s.publisher, withdrawal).await.created();
    assert_eq!(failures(&verify(&app, json!({"credential": susp})).await), [pair("authority", "withdrawn")]);
    // A title above the committee's authorized level never gets registered.
    let above = s.issuer.sign(&subject("A-2", "c-eng", "ENGINEERING", "senior", "2023-05-01"), "jilin", now_minus(1));
    assert_eq!(
        failures(&verify(&app, json!({"credential": above})).await),
        [pair("authority", "level_not_covered"), pair("registry", "not_in_registry")]
    );
    // An evaluation after the approval expired.
    let expired =
        s.issuer.sign(&subject("A-3", "c-health-old", "HEALTH", "intermediate", "2023-05-01"), "jilin", now_minus(1));
    assert_eq!(failures(&verify(&app, json!({"credential": expired})).await)[0], pair("authority", "expired"));

    // 7 status: see revocation_and_suspension_change_the_verdict.
    // 8 registry: a well-signed certificate the registry never received, and one that differs from its registration.
    let unregistered =
        s.issuer.sign(&subject("R-1", "c-eng", "ENGINEERING", "intermediate", "2023-05-03"), "jilin", now_minus(1));
    assert_eq!(
        failures(&verify(&app, json!({"credential": unregistered})).await),
        [pair("registry", "not_in_registry")]
    );
    let mut altered_subject = subject("S-1", "c-eng", "ENGINEERING", "intermediate", "2023-05-01");
    altered_subject.title_name = "高级工程师".into();
    let twin = s.issuer.sign(&altered_subject, "jilin", now_minus(1));
    assert_eq!(failures(&verify(&app, json!({"credential": twin})).await), [pair("registry", "registry_mismatch")]);

    // 9 holder: the right certificate, the wrong person.
    let answer = verify(&app, json!({"credential": genuine, "name": "李四"})).await;
    assert_eq!(failures(&answer), [pair("holder", "holder_name_mismatch")]);
    assert_eq!(answer["verdict"], "invalid");
    let answer = verify(&app, json!({"credential": genuine, "id_number": "220102198001019999"})).await;
    assert_eq!(failures(&answer), [pair("holder", "holder_id_mismatch")]);

    // 6 sanctions (last: the sanction covers dates the other cases use): registered, then a back-dated suspension of the committee covers the evaluation date.
    let sanctioned =
        s.issuer.sign(&subject("X-1", "c-eng", "ENGINEERING", "intermediate", "2023-05-02"), "jilin", now_minus(1));
    issue(&app, &s, &sanctioned).await;
    let suspension = json!({"subject": {"kind": "committee", "id": "c-eng"}, "measure": "suspension_of_authority", "effective_from": "2023-04-01",
        "effective_until": "2023-06-30", "document_number": "吉人社监〔2026〕2号", "legal_basis": "人社部发〔2024〕56号", "summary": "评审程序违规"});
    app.post("/api/v1/admin/sanctions", &s.publisher, suspension).await.created();
    assert_eq!(failures(&verify(&app, json!({"credential": sanctioned})).await), [pair("sanctions", "suspended")]);
}

async fn revocation_and_suspension_change_the_verdict(app: TestApp) {
    let s = setup(&app).await;
    let credential =
        s.issuer.sign(&subject("ST-1", "c-eng", "ENGINEERING", "intermediate", "2023-05-01"), "jilin", now_minus(1));
    issue(&app, &s, &credential).await;
    let act = |reason: &str| json!({"reason": reason});
    app.post("/api/v1/admin/certificates/ST-1/suspend", &s.issuer_token, act("核查中")).await.created();
    let answer = verify(&app, json!({"credential": credential})).await;
    assert_eq!(answer["verdict"], "suspended");
    assert_eq!(failures(&answer), [pair("status", "suspended")]);
    app.post("/api/v1/admin/certificates/ST-1/suspend", &s.issuer_token, act("再次"))
        .await
        .problem(409, "already_suspended");
    app.post("/api/v1/admin/certificates/ST-1/unsuspend", &s.issuer_token, act("核查完毕")).await.created();
    assert_eq!(verify(&app, json!({"credential": credential})).await["verdict"], "valid");
    app.post("/api/v1/admin/certificates/ST-1/revoke", &s.issuer_token, act("论文造假，撤销职称")).await.created();
    let answer = verify(&app, json!({"credential": credential})).await;
    assert_eq!(answer["verdict"], "revoked");
    assert!(
        answer["checks"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["code"] == "revoked" && c["message_zh"].as_str().unwrap().contains("论文造假"))
    );
    app.post("/api/v1/admin/certificates/ST-1/unsuspend", &s.issuer_token, act("x"))
        .await
        .problem(409, "already_revoked");
    app.post("/api/v1/admin/certificates/NOPE/revoke", &s.issuer_token, act("x"))
        .await
        .problem(422, "unknown_reference");
}

async fn lookups_mask_names_and_hide_wrong_names(app: TestApp) {
    let s = setup(&app).await;
    issue(
        &app,
        &s,
        &s.issuer.sign(&subject("LK-1", "c-eng", "ENGINEERING", "intermediate", "2023-05-01"), "jilin", now_minus(1)),
    )
    .await;
    let lookup = |number: &str, name: &str| {
        let body = json!({"number": number, "name": name});
        let app = &app;
        async move {
            let started = std::time::Instant::now();
            let answer = app.send("POST", "/api/v1/certificates/lookup", None, Some(body), &[]).await;
            (answer, started.elapsed())
        }
    };
    let floor = zhicheng::http::limits::NAME_CHECK_FLOOR;
    let (found, took) = lookup("LK-1", "张小三").await;
    assert_eq!(found.status, 200, "{}", found.body);
    assert_eq!(found.body["certificate"]["holder"], "张*三");
    assert_eq!(found.body["certificate"]["status"]["state"], "active");
    assert!(!found.body.to_string().contains("张小三"), "the full name is not echoed");
    assert!(took >= floor, "{took:?}");
    let (wrong_name, took_wrong) = lookup("LK-1", "李四").await;
    let (unknown, took_unknown) = lookup("LK-404", "张小三").await;
    assert_eq!(wrong_name.status.as_u16(), 404);
    assert_eq!(wrong_name.body, unknown.body, "a wrong name must look exactly like an unknown number");
    assert!(took_wrong >= floor && took_unknown >= floor, "both wait out the floor: {took_wrong:?} {took_unknown:?}");
    let v1 = verify(&app, json!({"certificate_number": "LK-1", "name": "李四"})).await;
    let v2 = verify(&app, json!({"certificate_number": "LK-404", "name": "李四"})).await;
    assert_eq!(v1["verdict"], "not_found");
    assert_eq!((&v1["checks"], &v1["certificate"]), (&v2["checks"], &v2["certificate"]));
    // The name never travels in a URL: the old GET is gone.
    assert_eq!(app.get("/api/v1/certificates/lookup?number=LK-1&name=张小三").await.status.as_u16(), 405);
    let missing = app.send("POST", "/api/v1/certificates/lookup", None, Some(json!({"number": "LK-1"})), &[]).await;
    assert_eq!(missing.status.as_u16(), 422, "{}", missing.body);
}

async fn issuing_refuses_what_would_not_verify(app: TestApp) {
    let s = setup(&app).await;
    let above = s.issuer.sign(&subject("N-1", "c-eng", "ENGINEERING", "senior", "2023-05-01"), "jilin", now_minus(1));
    app.post("/api/v1/admin/certificates", &s.issuer_token, json!({"credential": above}))
        .await
        .problem(422, "level_not_covered");
    let ok =
        s.issuer.sign(&subject("N-2", "c-eng", "ENGINEERING", "intermediate", "2023-05-01"), "jilin", now_minus(1));
    app.post("/api/v1/admin/certificates", &s.publisher, json!({"credential": ok})).await.problem(403, "wrong_role");
    let mut tampered = ok.clone();
    tampered["credentialSubject"]["holderName"] = json!("王五");
    app.post("/api/v1/admin/certificates", &s.issuer_token, json!({"credential": tampered}))
        .await
        .problem(422, "bad_signature");
    // A batch with one bad certificate registers none of them.
    let batch = app.post("/api/v1/admin/certificates", &s.issuer_token, json!({"credentials": [ok, above]})).await;
    batch.problem(422, "level_not_covered");
    assert_eq!(batch.body["errors"][0]["line"], 2);
    assert_eq!(
        verify(&app, json!({"credential": ok})).await["verdict"],
        "invalid",
        "nothing from the refused batch was registered"
    );
    issue(&app, &s, &ok).await;
    app.post("/api/v1/admin/certificates", &s.issuer_token, json!({"credential": ok}))
        .await
        .problem(409, "duplicate_certificate_number");
    // Another authority's issuer cannot register Jilin's certificates.
    let yunnan = app.token("yunnan", Role::Issuer).await;
    let other =
        s.issuer.sign(&subject("N-3", "c-eng", "ENGINEERING", "intermediate", "2023-05-01"), "jilin", now_minus(1));
    app.post("/api/v1/admin/certificates", &yunnan, json!({"credential": other})).await.problem(403, "not_the_issuer");
    // Malformed and oversized requests get problems, not verdicts.
    app.send_raw("POST", "/api/v1/verify", None, "application/json", "{\"credential\": {")
        .await
        .problem(400, "malformed_json");
    let huge = format!("{{\"credential\": {{\"x\": \"{}\"}}}}", "a".repeat(100_000));
    let r = app.send_raw("POST", "/api/v1/verify", None, "application/json", huge).await;
    assert_eq!(r.status.as_u16(), 413);
    app.send("POST", "/api/v1/verify", None, Some(json!({})), &[]).await.problem(400, "one_of");
}

async fn every_key_and_signature_code(app: TestApp) {
    let s = setup(&app).await;
    let register = |issuer: &Issuer, owner: Value, from: &str, until: Option<&str>| json!({"owner": owner, "public_key": issuer.public, "valid_from": from, "valid_until": until});
    let jilin = json!({"kind": "authority", "id": "jilin"});
    let first_failure = |answer: &Value| failures(answer).into_iter().next().unwrap();
    let cert = |issuer: &Issuer, number: &str, at: DateTime<Utc>| {
        issuer.sign(&subject(number, "c-eng", "ENGINEERING", "intermediate", "2023-05-01"), "jilin", at)
    };

    let future = Issuer::new(31);
    let tomorrow = (Utc::now() + Duration::days(1)).to_rfc3339();
    app.post("/api/v1/admin/keys", &s.admin, register(&future, jilin.clone(), &tomorrow, None)).await.created();
    assert_eq!(
        first_failure(&verify(&app, json!({"credential": cert(&future, "C-1", now_minus(1))})).await),
        pair("key", "key_not_yet_valid")
    );

    let old = Issuer::new(32);
    app.post(
        "/api/v1/admin/keys",
        &s.admin,
        register(&old, jilin.clone(), "2020-01-01T00:00:00Z", Some("2021-01-01T00:00:00Z")),
    )
    .await
    .created();
    assert_eq!(
        first_failure(&verify(&app, json!({"credential": cert(&old, "C-2", now_minus(1))})).await),
        pair("key", "key_expired")
    );

    let retired = Issuer::new(33);
    let id = app
        .post("/api/v1/admin/keys", &s.admin, register(&retired, jilin.clone(), "2020-01-01T00:00:00Z", None))
        .await
        .created()["id"]
        .as_str()
        .unwrap()
        .to_string();
    app.post(&format!("/api/v1/admin/keys/{id}/retire"), &s.admin, json!({"at": now_minus(2).to_rfc3339()}))
        .await
        .created();
    app.post(&format!("/api/v1/admin/keys/{id}/retire"), &s.admin, json!({"at": now_minus(2).to_rfc3339()}))
        .await
        .problem(409, "already_retired");
    assert_eq!(
        first_failure(&verify(&app, json!({"credential": cert(&retired, "C-3", now_minus(1))})).await),
        pair("key", "key_retired")
    );
    assert_ne!(
        failures(&verify(&app, json!({"credential": cert(&retired, "C-4", now_minus(3))})).await)[0].0,
        "key",
        "signed before retirement"
    );

    let units = Issuer::new(34);
    app.post(
        "/api/v1/admin/keys",
        &s.admin,
        register(&units, json!({"kind": "committee", "id": "c-eng"}), "2020-01-01T00:00:00Z", None),
    )
    .await
    .created();
    assert_eq!(
        first_failure(&verify(&app, json!({"credential": cert(&units, "C-5", now_minus(1))})).await),
        pair("key", "key_not_issuers")
    );
    app.post("/api/v1/admin/keys", &s.admin, register(&units, jilin.clone(), "2020-01-01T00:00:00Z", None))
        .await
        .problem(409, "duplicate_key");
    app.post(
        "/api/v1/admin/keys",
        &s.admin,
        json!({"owner": jilin, "public_key": "z6MkNOTAKEY", "valid_from": "2020-01-01T00:00:00Z"}),
    )
    .await
    .problem(422, "invalid_public_key");

    let ahead = Utc::now() + Duration::days(1);
    assert_eq!(
        first_failure(&verify(&app, json!({"credential": cert(&s.issuer, "C-6", ahead)})).await),
        pair("key", "signed_in_future")
    );
    let unsigned = zhicheng::domain::certificate::unsigned_credential(
        &subject("C-7", "c-eng", "ENGINEERING", "intermediate", "2023-05-01"),
        &IssuerRef::Authority("jilin".into()),
        "x",
        now_minus(1),
        &[],
    );
    let method = format!("did:key:{0}#{0}", s.issuer.public);
    let odd_time = data_integrity::sign(&unsigned, &s.issuer.key, &method, "yesterday").unwrap();
    assert_eq!(first_failure(&verify(&app, json!({"credential": odd_time})).await), pair("key", "malformed_created"));
    let url_method =
        data_integrity::sign(&unsigned, &s.issuer.key, "https://keys.example/jilin#1", "2026-01-01T00:00:00Z").unwrap();
    assert_eq!(
        first_failure(&verify(&app, json!({"credential": url_method})).await),
        pair("signature", "unknown_verification_method")
    );
    let good = cert(&s.issuer, "C-8", now_minus(1));
    let mut suite = good.clone();
    suite["proof"]["cryptosuite"] = json!("ecdsa-jcs-2019");
    assert_eq!(
        first_failure(&verify(&app, json!({"credential": suite})).await),
        pair("signature", "unsupported_proof")
    );
    let mut garbled = good.clone();
    garbled["proof"]["proofValue"] = json!("z111");
    assert_eq!(
        first_failure(&verify(&app, json!({"credential": garbled})).await),
        pair("signature", "malformed_signature")
    );
    let mut bare = good.clone();
    bare.as_object_mut().unwrap().remove("proof");
    assert_eq!(first_failure(&verify(&app, json!({"credential": bare})).await), pair("signature", "missing_proof"));
    let orphan =
        s.issuer.sign(&subject("C-9", "c-nope", "ENGINEERING", "intermediate", "2023-05-01"), "jilin", now_minus(1));
    let answer = verify(&app, json!({"credential": orphan})).await;
    assert_eq!(first_failure(&answer), pair("issuer", "unknown_committee"));
    assert!(statuses(&answer).iter().any(|(step, status, _)| step == "authority" && status == "skip"));
    let qr = verify(&app, json!({"qr": zhicheng::crypto::compact::encode(&good)})).await;
    assert_eq!(failures(&qr), [pair("registry", "not_in_registry")]);
    app.send("POST", "/api/v1/verify", None, Some(json!({"qr": "HC1:NOTOURS"})), &[])
        .await
        .problem(400, "malformed_qr");
}

/// The server checks concurrent signatures as a batch, and a batch can accept a signature whose
/// `R` carries a small-order component that the one-by-one check rejects. Only someone altering
/// a genuine signature makes one, and it cannot change a verdict: issuing refuses it, so it
/// never matches a registered certificate (docs/DECISIONS.md, "Verifying signatures in batches").
async fn a_batch_cannot_make_a_malleated_signature_valid(app: TestApp) {
    use curve25519_dalek::constants::EIGHT_TORSION;
    use curve25519_dalek::edwards::CompressedEdwardsY;
    use zhicheng::domain::verification::{HolderClaim, Presented, Verdict};

    let s = setup(&app).await;
    let genuine =
        s.issuer.sign(&subject("M-1", "c-eng", "ENGINEERING", "intermediate", "2023-05-01"), "jilin", now_minus(1));
    issue(&app, &s, &genuine).await;
    // R + T, T of order 2: [s]B = R + [k]A no longer holds, but 2·(R + T − [s]B + [k]A) = 0.
    let mut malleated = genuine.clone();
    let proof_value = genuine["proof"]["proofValue"].as_str().unwrap();
    let mut signature = multikey::from_base58btc(proof_value).unwrap();
    let r = CompressedEdwardsY(signature[..32].try_into().unwrap()).decompress().unwrap();
    signature[..32].copy_from_slice((r + EIGHT_TORSION[4]).compress().as_bytes());
    malleated["proof"]["proofValue"] = json!(multikey::base58btc(&signature));

    let mut presented = Presented::new(malleated.clone());
    assert!(!presented.signature_check().unwrap().verify(), "one by one, the malleated signature fails");
    let answer = verify(&app, json!({"credential": malleated})).await;
    assert_eq!(failures(&answer), [pair("signature", "bad_signature")]);
    // Were a batch to accept it, the registry would still not know it.
    presented.set_signature_valid(true);
    let verifier = zhicheng::verify::Verifier::new(app.store.clone(), None);
    let (outcome, _) = verifier.verify(&mut presented, &HolderClaim::default()).await.unwrap();
    assert_eq!(outcome.verdict, Verdict::Invalid);
    let failed: Vec<_> = outcome
        .checks
        .iter()
        .filter(|c| c.status == zhicheng::domain::verification::CheckStatus::Fail)
        .map(|c| c.code.as_ref())
        .collect();
    assert_eq!(failed, ["registry_mismatch"]);

    // A bulk request checks its lines' signatures as one batch (a cofactored equation, which
    // accepts this one): the genuine line stays valid, the malleated one invalid.
    let body = format!("{}\n{}\n", json!({"credential": genuine}), json!({"credential": malleated}));
    let answer = app.send_raw("POST", "/api/v1/bulk/verify", Some(&s.publisher), "application/x-ndjson", body).await;
    let lines = answer.body.as_str().expect("NDJSON").lines();
    let verdicts: Vec<Value> = lines.map(|l| serde_json::from_str::<Value>(l).unwrap()["verdict"].clone()).collect();
    assert_eq!(verdicts, [json!("valid"), json!("invalid")], "{}", answer.body);
}
