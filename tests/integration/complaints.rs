//! Complaints (issue 17): named, not public, followed by tracking number and code, handled by
//! the supervising authority, counted on the session's page; the log records only their receipt
//! and status changes, never the complainant.

use serde_json::{Value, json};
use zhicheng::domain::publish::Role;

use crate::fixtures;
use crate::sessions::{authorized_committee, session};
use crate::support::{TestApp, both};

both!(a_complaint_is_filed_followed_and_concluded_without_going_public);

async fn a_complaint_is_filed_followed_and_concluded_without_going_public(app: TestApp) {
    app.load(&fixtures::registry()).await;
    let jilin = app.token("jilin", Role::Publisher).await;
    let committee = authorized_committee(&app, &jilin).await;
    let registered = app.post("/api/v1/admin/sessions", &jilin, session(&committee, &["intermediate"], 0)).await;
    let session_id = registered.created()["id"].as_str().unwrap().to_string();
    let complaint = |name: &str, summary: &str| {
        json!({"committee_id": committee, "session_id": session_id, "complainant_name": name,
            "contact": "13912345678", "summary": summary})
    };
    let file = |body: Value| app.send("POST", "/api/v1/complaints", None, Some(body), &[]);

    let anonymous = file(complaint("  ", "评审专家与申报人系师生关系未回避")).await;
    assert_eq!(anonymous.problem(422, "required")["errors"][0]["field"], "complainant_name");
    let with_id = file(complaint("赵投诉", "申报人220102198001011234材料造假")).await;
    assert_eq!(with_id.status.as_u16(), 422, "{}", with_id.body);
    let receipt = file(complaint("赵投诉", "评审专家与申报人系师生关系未回避")).await;
    assert_eq!(receipt.status.as_u16(), 201, "{}", receipt.body);
    let tracking = receipt.body["tracking_number"].as_str().unwrap().to_string();
    let code = receipt.body["access_code"].as_str().unwrap().to_string();
    assert!(tracking.starts_with("TS"), "{tracking}");

    let progress_url = format!("/api/v1/complaints/{tracking}/progress");
    let progress = |code: &str| app.send("POST", &progress_url, None, Some(json!({"access_code": code})), &[]);
    progress("zct_wrong").await.assert_status(404);
    assert_eq!(progress(&code).await.body["status"], "received");
    let counts = |shown: Value| shown["complaints"].clone();
    assert_eq!(counts(app.ok(&format!("/api/v1/sessions/{session_id}")).await), json!({"received": 1, "concluded": 0}));

    // Handled by the supervising authority's publisher only, and concluded with a note, once.
    let url = format!("/api/v1/admin/complaints/{tracking}");
    let yunnan = app.token("yunnan", Role::Publisher).await;
    app.post(&url, &yunnan, json!({"status": "under_review"})).await.problem(403, "not_supervisor");
    let issuer = app.token("jilin", Role::Issuer).await;
    app.post(&url, &issuer, json!({"status": "under_review"})).await.problem(403, "wrong_role");
    app.post(&url, &jilin, json!({"status": "under_review"})).await.assert_status(200);
    app.post(&url, &jilin, json!({"status": "substantiated"})).await.problem(422, "required");
    let note = "经核查属实，已责令该评委会重新组织评审";
    app.post(&url, &jilin, json!({"status": "substantiated", "note": note})).await.assert_status(200);
    app.post(&url, &jilin, json!({"status": "under_review"})).await.problem(409, "complaint_concluded");
    let followed = progress(&code).await.body;
    assert_eq!((followed["status"].as_str(), followed["note"].as_str()), (Some("substantiated"), Some(note)));
    assert_eq!(counts(app.ok(&format!("/api/v1/sessions/{session_id}")).await), json!({"received": 1, "concluded": 1}));

    // The log holds the receipt and the status changes, never the complainant or the text.
    let size = app.checkpoint().await.size;
    let entries = app.ok(&format!("/api/v1/log/entries?start=0&end={size}")).await.to_string();
    assert!(entries.contains(&tracking) && entries.contains("complaint.received"), "the receipt is logged");
    for private in ["赵投诉", "13912345678", "师生关系", note] {
        assert!(!entries.contains(private), "{private} reached the log");
    }
}
