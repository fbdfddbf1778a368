//! The cache never serves stale data on the node that wrote: for every kind of write, a read
//! made (and cached) just before it sees the change just after it.

use serde_json::{Value, json};

use crate::certificates::{setup, subject};
use crate::publishing::{committee_body, grant_body};
use crate::support::{TestApp, both};

both!(after_every_kind_of_write_the_next_read_here_is_fresh);

async fn coverage_codes(app: &TestApp, committee: &str) -> Vec<String> {
    let q = "series=ENGINEERING&specialty=人工智能工程技术&level=intermediate&region=220102&on=2025-06-01";
    let answer = app.ok(&format!("/api/v1/committees/{committee}/coverage?{q}")).await;
    answer["reasons"].as_array().unwrap().iter().map(|r| r["code"].as_str().unwrap().to_string()).collect()
}

async fn status_bits(app: &TestApp) -> String {
    app.ok("/api/v1/status-lists/jilin.revocation").await["credentialSubject"]["encodedList"]
        .as_str()
        .unwrap()
        .to_string()
}

async fn after_every_kind_of_write_the_next_read_here_is_fresh(app: TestApp) {
    let s = setup(&app).await;
    let (publisher, admin, issuer) = (&s.publisher, &s.admin, &s.issuer_token);

    // Committees: created (a cached "not found" must go), amended.
    app.get("/api/v1/committees/cmt-cache").await.problem(404, "not_found");
    let mut body = committee_body("吉林省缓存测试评审委员会", "220100", 901);
    body["id"] = json!("cmt-cache");
    app.post("/api/v1/admin/committees", publisher, body).await.created();
    assert_eq!(app.ok("/api/v1/committees/cmt-cache").await["committee"]["name"], "吉林省缓存测试评审委员会");
    // The committee's page (for people) is kept the same way as the API's answer.
    let page = || async { app.get("/committees/cmt-cache").await.body.as_str().unwrap_or_default().to_string() };
    assert!(!page().await.contains("（更名）"));
    let renamed = json!({"name": "吉林省缓存测试评审委员会（更名）"});
    let r = app.send("PATCH", "/api/v1/admin/committees/cmt-cache", Some(publisher), Some(renamed), &[]).await;
    assert_eq!(r.status.as_u16(), 201, "{}", r.body);
    assert_eq!(app.ok("/api/v1/committees/cmt-cache").await["committee"]["name"], "吉林省缓存测试评审委员会（更名）");
    assert!(page().await.contains("吉林省缓存测试评审委员会（更名）"));

    // Authorizations: granted (names its committee), then acts that name only the authorization.
    assert_eq!(coverage_codes(&app, "cmt-cache").await, ["no_authorization"]);
    let granted =
        app.post("/api/v1/admin/authorizations", publisher, grant_body("cmt-cache", "吉人社函〔2025〕901号")).await;
    let authorization = granted.created()["id"].as_str().unwrap().to_string();
    assert!(coverage_codes(&app, "cmt-cache").await.is_empty());
    let act = |doc: &str| json!({"effective_on": "2025-05-01", "document_number": doc});
    for (action, doc, expected) in [
        ("suspend", "吉人社函〔2025〕902号", vec!["suspended"]),
        ("reinstate", "吉人社函〔2025〕903号", vec![]),
        ("withdraw", "吉人社函〔2025〕904号", vec!["withdrawn"]),
    ] {
        app.post(&format!("/api/v1/admin/authorizations/{authorization}/{action}"), publisher, act(doc))
            .await
            .created();
        assert_eq!(coverage_codes(&app, "cmt-cache").await, expected, "after {action}");
    }

    // Sanctions on the committee: published (names it), lifted (names only the sanction).
    let sanction = json!({
        "subject": {"kind": "committee", "id": "cmt-cache"}, "measure": "public_criticism",
        "effective_from": "2025-06-01", "document_number": "吉人社监〔2025〕901号",
        "legal_basis": "人社部发〔2024〕56号", "summary": "缓存测试"
    });
    let sanction_id =
        app.post("/api/v1/admin/sanctions", publisher, sanction).await.created()["id"].as_str().unwrap().to_string();
    let sanctions = |v: &Value| v["committee"]["sanctions"].as_array().unwrap().clone();
    assert_eq!(sanctions(&app.ok("/api/v1/committees/cmt-cache").await)[0]["lifted"], Value::Null);
    assert!(page().await.contains("缓存测试") && !page().await.contains("解除处理"));
    let lift = json!({"effective_on": "2025-07-01", "document_number": "吉人社监〔2025〕902号"});
    app.post(&format!("/api/v1/admin/sanctions/{sanction_id}/lift"), publisher, lift).await.created();
    let lifted = sanctions(&app.ok("/api/v1/committees/cmt-cache").await)[0]["lifted"].clone();
    assert_eq!(lifted["document_number"], "吉人社监〔2025〕902号");
    assert!(page().await.contains("解除处理"));

    // Authorities: the graph is re-read.
    let amended = json!({"name": "吉林省人力资源和社会保障厅（缓存测试）"});
    assert_ne!(app.ok("/api/v1/authorities/jilin").await["authority"]["name"], amended["name"]);
    let r = app.send("PATCH", "/api/v1/admin/authorities/jilin", Some(admin), Some(amended.clone()), &[]).await;
    assert_eq!(r.status.as_u16(), 201, "{}", r.body);
    assert_eq!(app.ok("/api/v1/authorities/jilin").await["authority"]["name"], amended["name"]);
    assert_eq!(app.ok("/api/v1/committees/cmt-cache").await["committee"]["authority_id"], "jilin");
    assert!(
        page().await.contains("吉林省人力资源和社会保障厅（缓存测试）"),
        "the page names its authority as it is now"
    );

    // Certificates: issued (a cached unknown number must go), revoked (status list too).
    let status = [zhicheng::domain::certificate::StatusEntry {
        purpose: "revocation",
        list_url: "http://registry.test/api/v1/status-lists/jilin.revocation".into(),
        index: 7,
    }];
    let credential = s.issuer.sign_with_status(
        &subject("JL-CACHE-1", "c-eng", "ENGINEERING", "intermediate", "2023-05-01"),
        "jilin",
        chrono::Utc::now() - chrono::Duration::hours(1),
        &status,
    );
    let by_number = json!({"certificate_number": "JL-CACHE-1", "name": "张小三"});
    let verify = |body: Value| async { app.send("POST", "/api/v1/verify", None, Some(body), &[]).await.body };
    assert_eq!(verify(by_number.clone()).await["verdict"], "not_found");
    let bits_before = status_bits(&app).await;
    app.post("/api/v1/admin/certificates", issuer, json!({"credential": credential})).await.created();
    assert_eq!(verify(by_number.clone()).await["verdict"], "valid");
    app.post("/api/v1/admin/certificates/JL-CACHE-1/revoke", issuer, json!({"reason": "缓存测试"})).await.created();
    assert_eq!(verify(json!({"credential": credential})).await["verdict"], "revoked");
    assert_ne!(status_bits(&app).await, bits_before, "the revocation bit is set at once");

    // Keys: retired and compromised keys are re-read.
    let key_path = format!("/api/v1/keys/{}", s.key_id);
    assert_eq!(app.ok(&key_path).await["key"]["compromised_at"], Value::Null);
    let at = json!({"at": chrono::Utc::now().to_rfc3339()});
    app.post(&format!("/api/v1/admin/keys/{}/compromise", s.key_id), admin, at).await.created();
    assert_ne!(app.ok(&key_path).await["key"]["compromised_at"], Value::Null);
}
