//! The certificate commands of the real binary, end to end against a running server.

use std::process::Command;

use serde_json::json;
use zhicheng::domain::publish::Role;

use crate::bulk::Server;
use crate::fixtures;
use crate::support::{TestApp, both};

both!(
    keygen_issue_publish_verify_revoke_and_qr,
    export_writes_a_signed_snapshot_set_and_logs_it,
    init_starts_a_real_registry_from_an_empty_database,
    a_container_checks_health_and_a_server_will_not_sign_for_an_unspecified_address,
);

/// Runs the built binary with `args`.
pub(crate) fn zhicheng(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_zhicheng")).args(args).env("NO_COLOR", "1").output().expect("run zhicheng")
}

async fn keygen_issue_publish_verify_revoke_and_qr(app: TestApp) {
    app.load(&fixtures::registry()).await;
    let admin = app.token("jilin", Role::Admin).await;
    let issuer = app.token("jilin", Role::Issuer).await;
    let dir = tempfile::tempdir().unwrap();
    let path = |name: &str| dir.path().join(name).to_str().unwrap().to_string();

    let keygen = zhicheng(&["keygen", "-o", &path("issuer.key")]);
    assert!(keygen.status.success(), "{}", String::from_utf8_lossy(&keygen.stderr));
    let public = String::from_utf8(keygen.stdout).unwrap().trim().to_string();
    assert!(public.starts_with("z6Mk"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(path("issuer.key")).unwrap().permissions().mode() & 0o777, 0o600);
    }
    app.post("/api/v1/admin/keys", &admin, json!({"owner": {"kind": "authority", "id": "jilin"}, "public_key": public, "valid_from": "2020-01-01T00:00:00Z"}))
        .await
        .created();

    let fields = json!({
        "issuer": "urn:zhicheng:authority:jilin", "issuerName": "吉林省人力资源和社会保障厅",
        "certificateNumber": "CLI-0001", "holderName": "赵小明", "holderIdNumber": "220102199001011239",
        "series": "ENGINEERING", "specialty": "建筑工程", "level": "intermediate", "titleName": "工程师", "obtainedBy": "evaluation",
        "committeeId": "c-eng", "committeeName": "吉林省建筑工程中级职称评审委员会", "evaluationDate": "2023-05-01",
        "approvalDocument": "吉人社函〔2023〕50号", "applicantRegion": "220102"
    });
    std::fs::write(path("fields.json"), fields.to_string()).unwrap();
    let mut server = Server::start(&app.url, "info").await;
    let url = format!("http://{}", server.addr);
    let issue = zhicheng(&[
        "issue",
        "--key",
        &path("issuer.key"),
        "--input",
        &path("fields.json"),
        "-o",
        &path("cert.json"),
        "--registry-url",
        &url,
        "--status-index",
        "5",
        "--publish",
        "--token",
        &issuer,
    ]);
    assert!(issue.status.success(), "{}", String::from_utf8_lossy(&issue.stderr));
    let signed = std::fs::read_to_string(path("cert.json")).unwrap();
    assert!(!signed.contains("220102199001011239"), "the ID number itself is never written");
    assert!(signed.contains(&format!("{url}/api/v1/status-lists/jilin.revocation")));

    let answer = app
        .send("POST", "/api/v1/verify", None, Some(json!({"certificate_number": "CLI-0001", "name": "赵小明"})), &[])
        .await;
    assert_eq!(answer.body["verdict"], "valid", "{}", answer.body);
    let with_id = app.send("POST", "/api/v1/verify", None, Some(json!({"credential": serde_json::from_str::<serde_json::Value>(&signed).unwrap(), "id_number": "220102199001011239"})), &[]).await;
    assert_eq!(with_id.body["verdict"], "valid");

    // Publishing the same certificate again is refused, and the CLI says so.
    let again = zhicheng(&[
        "issue",
        "--key",
        &path("issuer.key"),
        "--input",
        &path("fields.json"),
        "-o",
        &path("cert2.json"),
        "--registry-url",
        &url,
        "--status-index",
        "6",
        "--publish",
        "--token",
        &issuer,
    ]);
    assert!(!again.status.success());
    server.child.start_kill().unwrap();
    server.child.wait().await.unwrap();

    let revoke =
        zhicheng(&["revoke", "CLI-0001", "--reason", "论文抄袭", "--authority", "jilin", "--database-url", &app.url]);
    assert!(revoke.status.success(), "{}", String::from_utf8_lossy(&revoke.stderr));
    let verify = zhicheng(&["verify", &path("cert.json"), "--database-url", &app.url]);
    assert_eq!(verify.status.code(), Some(2));
    let verdict: serde_json::Value = serde_json::from_slice(&verify.stdout).unwrap();
    assert_eq!(verdict["verdict"], "revoked");

    let qr =
        zhicheng(&["qr", &path("cert.json"), "-o", &path("cert.png"), "--registry-url", "https://registry.example"]);
    assert!(qr.status.success(), "{}", String::from_utf8_lossy(&qr.stderr));
    // The QR code is a link to the verify page that carries the certificate itself.
    let text = zhicheng::verify::qr_image::decode(&std::fs::read(path("cert.png")).unwrap()).unwrap();
    assert!(text.starts_with("https://registry.example/v#ZC1:"), "{text}");
    assert_eq!(
        zhicheng::crypto::compact::decode(&text).unwrap(),
        serde_json::from_str::<serde_json::Value>(&signed).unwrap()
    );
}

async fn export_writes_a_signed_snapshot_set_and_logs_it(app: TestApp) {
    app.load(&fixtures::registry()).await;
    let dir = tempfile::tempdir().unwrap();
    let path = |name: &str| dir.path().join(name).to_str().unwrap().to_string();
    let before = app.store.log_size().await.unwrap();
    let export = zhicheng(&[
        "export",
        "--out",
        &path("snapshot"),
        "--database-url",
        &app.url,
        "--registry-key",
        &path("registry.key"),
        "--log-key",
        &path("log.key"),
    ]);
    assert!(export.status.success(), "{}", String::from_utf8_lossy(&export.stderr));
    let bytes = std::fs::read(dir.path().join("snapshot/manifest.json")).unwrap();
    let manifest: zhicheng::export::manifest::Manifest = serde_json::from_slice(&bytes).unwrap();
    manifest.verify().expect("signed");
    assert_eq!(manifest.log_size, before as u64, "the set reflects the whole log at the time");
    assert!(manifest.checkpoint.as_deref().is_some_and(|c| c.contains(&format!("\n{before}\n"))));
    let committees = manifest.files.iter().find(|f| f.name == "committees.ndjson").unwrap();
    assert_eq!(committees.rows, fixtures::registry().committees.len() as u64);
    app.checkpoint().await;
    let logged = app.ok(&format!("/api/v1/changes?after={}", before - 1)).await;
    let entry = &logged["changes"][0]["entry"];
    assert_eq!(entry["kind"], "snapshot.published");
    assert_eq!(entry["payload"]["operation"]["manifest_sha256"], zhicheng::export::manifest::sha256_hex(&bytes));
}

/// From an empty database to a verified certificate, without the demo: `zhicheng init`, then
/// everything through the API with the tokens it leads to.
async fn init_starts_a_real_registry_from_an_empty_database(app: TestApp) {
    let refused = zhicheng(&["init", "--database-url", &app.url, "--province", "999999"]);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("999999"));
    let init = zhicheng(&["init", "--database-url", &app.url, "--province", "220000"]);
    assert!(init.status.success(), "{}", String::from_utf8_lossy(&init.stderr));
    let national = String::from_utf8(init.stdout).unwrap().trim().to_string();
    assert!(national.starts_with("zct_"), "the admin token, printed once: {national}");
    let again = zhicheng(&["init", "--database-url", &app.url]);
    assert!(!again.status.success(), "init runs once");
    let jilin = app.ok("/api/v1/authorities/hr-220000").await;
    assert_eq!(jilin["authority"]["name"], "吉林省人力资源和社会保障厅");
    assert_eq!(jilin["authority"]["parent_id"], "hr-000000");

    let token = |role: &str| {
        let body = json!({"authority_id": "hr-220000", "role": role, "label": format!("吉林 {role}")});
        let national = national.clone();
        let app = &app;
        async move {
            let created = app.post("/api/v1/admin/tokens", &national, body).await;
            assert_eq!(created.status, 201, "{}", created.body);
            created.body["secret"].as_str().unwrap().to_string()
        }
    };
    let (admin, publisher, issuer) = (token("admin").await, token("publisher").await, token("issuer").await);
    let committee = crate::publishing::committee_body("吉林省建筑工程中级职称评审委员会", "220100", 9);
    let committee =
        app.post("/api/v1/admin/committees", &publisher, committee).await.created()["id"].as_str().unwrap().to_string();
    let grant = json!({
        "committee_id": committee, "series": "ENGINEERING", "specialties": ["建筑工程"], "levels": ["intermediate"],
        "scope": {"regions": ["220000"]}, "valid_from": "2023-01-01", "valid_until": "2025-12-31",
        "document_number": "吉人社函〔2023〕50号"
    });
    app.post("/api/v1/admin/authorizations", &publisher, grant).await.created();
    let signer = crate::certificates::Issuer::new(3);
    let key = json!({"owner": {"kind": "authority", "id": "hr-220000"}, "public_key": signer.public, "valid_from": "2020-01-01T00:00:00Z"});
    app.post("/api/v1/admin/keys", &admin, key).await.created();
    let subject = crate::certificates::subject("JL-INIT-1", &committee, "ENGINEERING", "intermediate", "2023-05-01");
    let credential = signer.sign(&subject, "hr-220000", chrono::Utc::now() - chrono::Duration::days(1));
    let issued = app.post("/api/v1/admin/certificates", &issuer, json!({"credential": credential})).await;
    assert_eq!(issued.status, 201, "{}", issued.body);
    let verified = app.send("POST", "/api/v1/verify", None, Some(json!({"credential": credential})), &[]).await;
    assert_eq!(verified.body["verdict"], "valid", "{}", verified.body);
}

async fn a_container_checks_health_and_a_server_will_not_sign_for_an_unspecified_address(app: TestApp) {
    let refused = zhicheng(&["serve", "--listen", "0.0.0.0:0", "--database-url", &app.url]);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("--public-url"), "says what to set");
    let server = Server::start(&app.url, "info").await;
    let ready = zhicheng(&["healthcheck", "--url", &format!("http://{}/readyz", server.addr)]);
    assert!(ready.status.success(), "{}", String::from_utf8_lossy(&ready.stderr));
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let down = zhicheng(&["healthcheck", "--url", &format!("http://{closed}/readyz")]);
    assert_eq!(down.status.code(), Some(1));
}
