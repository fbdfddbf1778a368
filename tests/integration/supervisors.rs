//! Supervisor credentials (issue 17): issued by an HR authority for a jurisdiction within its
//! own, verified at the venue by QR on the same `/verify` path, revocable — and a revoked one
//! fails verification.

use chrono::{Duration, Utc};
use serde_json::{Value, json};
use zhicheng::crypto::data_integrity;
use zhicheng::domain::publish::Role;
use zhicheng::domain::supervisor::{SupervisorSubject, unsigned_supervisor_credential};

use crate::certificates::{Setup, setup};
use crate::support::{TestApp, both};

both!(a_supervisor_credential_verifies_by_qr_until_revoked, a_visit_needs_two_qualified_supervisors);

fn credential(s: &Setup, number: &str, jurisdiction: &str, days: i64) -> Value {
    let subject = SupervisorSubject {
        subject_type: "Supervisor".into(),
        format_version: 1,
        credential_number: number.into(),
        holder_name: "李明华".into(),
        jurisdiction: jurisdiction.into(),
    };
    let from = Utc::now() - Duration::days(30);
    let unsigned = unsigned_supervisor_credential(
        &subject,
        "jilin",
        "吉林省人力资源和社会保障厅",
        from,
        from + Duration::days(days),
    );
    let method = format!("did:key:{0}#{0}", s.issuer.public);
    let created = (Utc::now() - Duration::hours(1)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    data_integrity::sign(&unsigned, &s.issuer.key, &method, &created).unwrap()
}

async fn verify(app: &TestApp, body: Value) -> Value {
    app.send("POST", "/api/v1/verify", None, Some(body), &[]).await.body
}

fn code(answer: &Value, step: &str) -> (String, String) {
    let check = answer["checks"].as_array().unwrap().iter().find(|c| c["step"] == step).unwrap();
    (check["status"].as_str().unwrap().to_string(), check["code"].as_str().unwrap().to_string())
}

async fn a_supervisor_credential_verifies_by_qr_until_revoked(app: TestApp) {
    let s = setup(&app).await;
    let good = credential(&s, "JLJG-2026-0001", "220100", 365);
    app.post("/api/v1/admin/supervisors", &s.issuer_token, json!({"credential": good})).await.created();

    // At the venue's door: the QR code's text, on the same path as a title certificate.
    let qr = json!({"qr": zhicheng::crypto::compact::encode(&good), "name": "李明华"});
    let answer = verify(&app, qr.clone()).await;
    assert_eq!(answer["verdict"], "valid", "{answer}");
    assert_eq!(code(&answer, "issuer"), ("pass".into(), "ok".into()));
    assert_eq!(code(&answer, "authority"), ("pass".into(), "ok".into()), "within its period");
    assert_eq!(code(&answer, "holder"), ("pass".into(), "ok".into()));

    // Forged: another name on a signed credential; out of period; beyond the issuer's
    // jurisdiction (refused at issuance); issued by another province (refused).
    let mut forged = good.clone();
    forged["credentialSubject"]["holderName"] = json!("王冒充");
    assert_eq!(code(&verify(&app, json!({"credential": forged})).await, "signature").1, "bad_signature");
    let expired = credential(&s, "JLJG-2025-0009", "220100", 10);
    let answer = verify(&app, json!({"credential": expired})).await;
    assert_eq!(code(&answer, "authority").1, "supervisor_expired", "{answer}");
    app.post("/api/v1/admin/supervisors", &s.issuer_token, json!({"credential": expired}))
        .await
        .problem(422, "expired");
    let beyond = credential(&s, "JLJG-2026-0002", "530100", 365);
    app.post("/api/v1/admin/supervisors", &s.issuer_token, json!({"credential": beyond}))
        .await
        .problem(422, "jurisdiction_not_issuers");
    let yunnan = app.token("yunnan", Role::Issuer).await;
    app.post(
        "/api/v1/admin/supervisors",
        &yunnan,
        json!({"credential": credential(&s, "JLJG-2026-0003", "220100", 365)}),
    )
    .await
    .problem(403, "not_the_issuer");

    // Revoked: only by the issuer (or above it), once; verification fails from then on.
    let revoke = "/api/v1/admin/supervisors/JLJG-2026-0001/revoke";
    let reason = json!({"reason": "调离监管岗位"});
    app.post(revoke, &yunnan, reason.clone()).await.problem(403, "not_supervisor");
    app.post(revoke, &s.issuer_token, reason.clone()).await.created();
    app.post(revoke, &s.issuer_token, reason).await.problem(409, "already_revoked");
    let answer = verify(&app, qr).await;
    assert_eq!(answer["verdict"], "revoked", "{answer}");
    assert_eq!(code(&answer, "status"), ("fail".into(), "revoked".into()));
}

async fn a_visit_needs_two_qualified_supervisors(app: TestApp) {
    let s = setup(&app).await;
    let committee = crate::sessions::authorized_committee(&app, &s.publisher).await;
    let registered = app
        .post("/api/v1/admin/sessions", &s.publisher, crate::sessions::session(&committee, &["intermediate"], 0))
        .await;
    let session = registered.created()["id"].as_str().unwrap().to_string();
    for (number, jurisdiction) in [("JG-A", "220000"), ("JG-B", "220000"), ("JG-CITY", "220100")] {
        let c = credential(&s, number, jurisdiction, 365);
        app.post("/api/v1/admin/supervisors", &s.issuer_token, json!({"credential": c})).await.created();
    }
    let url = format!("/api/v1/admin/sessions/{session}/visits");
    let visit =
        |supervisors: &[&str]| json!({"supervisors": supervisors, "findings": "专家随机抽取、回避与投票程序符合规定"});
    app.post(&url, &s.publisher, visit(&["JG-A"])).await.problem(422, "too_few_supervisors");
    app.post(&url, &s.publisher, visit(&["JG-A", "JG-A"])).await.problem(422, "too_few_supervisors");
    let narrow = app.post(&url, &s.publisher, visit(&["JG-A", "JG-CITY"])).await;
    assert_eq!(
        narrow.problem(409, "supervisor_not_qualified")["errors"][0]["field"],
        "supervisors[1]",
        "a city supervisor for a provincial committee"
    );
    app.post(&url, &s.publisher, visit(&["JG-A", "JG-NONE"])).await.problem(422, "unknown_reference");
    app.post(&url, &s.publisher, visit(&["JG-A", "JG-B"])).await.created();
    app.post("/api/v1/admin/supervisors/JG-B/revoke", &s.issuer_token, json!({"reason": "违反监管纪律"}))
        .await
        .created();
    app.post(&url, &s.publisher, visit(&["JG-A", "JG-B"])).await.problem(409, "supervisor_not_qualified");
    let shown = app.ok(&format!("/api/v1/sessions/{session}")).await;
    let visits = shown["visits"].as_array().unwrap();
    assert_eq!(visits.len(), 1, "{shown}");
    assert_eq!(visits[0]["supervisors"], json!(["JG-A", "JG-B"]));
}
