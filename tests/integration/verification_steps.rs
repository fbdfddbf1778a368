//! The ten verification steps as a pure function: evidence built in memory from the fixture
//! registry, one case per way a certificate can fail, no database and no HTTP. (The same
//! frauds through the API, on both databases: `certificates::each_step_fails_on_its_own_fraud`.)

use chrono::{Duration, Utc};
use serde_json::json;
use zhicheng::domain::authority::AuthorityGraph;
use zhicheng::domain::certificate::{IssuerKey, IssuerRef};
use zhicheng::domain::committee::CommitteeRecord;
use zhicheng::domain::session::{self, EvaluationSession};
use zhicheng::domain::verification::{
    CertificateState, CheckStatus, Evidence, HolderClaim, Presented, RegisteredCertificate, SessionEvidence, Verdict,
    verify,
};

use crate::certificates::{Issuer, subject};
use crate::fixtures;

struct World {
    graph: AuthorityGraph,
    records: Vec<CommitteeRecord>,
    key: IssuerKey,
}

fn world(issuer: &Issuer) -> World {
    let ds = fixtures::registry();
    World {
        graph: AuthorityGraph::new(ds.authorities.clone(), ds.delegations.clone()),
        records: ds.committee_records(),
        key: IssuerKey {
            id: "k1".into(),
            owner: IssuerRef::Authority("jilin".into()),
            public_key: issuer.public.clone(),
            valid_from: "2020-01-01T00:00:00Z".parse().unwrap(),
            valid_until: None,
            retired_at: None,
            compromised_at: None,
            registered_by: "jilin".into(),
        },
    }
}

/// What the registry holds for a presented credential: its digest unless `altered`.
fn registered(presented: &Presented, state: CertificateState) -> RegisteredCertificate {
    RegisteredCertificate {
        number: presented.certificate_number().unwrap_or_default().to_string(),
        credential_sha256: presented.digest(),
        holder_name: "张小三".into(),
        state,
        logged_at: Utc::now() - Duration::hours(1),
    }
}

/// The (step, code) of every check that did not pass.
fn failures(world: &World, credential: serde_json::Value, setup: &Setup) -> (Verdict, Vec<(String, String)>) {
    let presented = Presented::new(credential.clone());
    let key = (!setup.unknown_key).then(|| {
        let mut key = world.key.clone();
        key.compromised_at = setup.compromised_at;
        key
    });
    let registered_copy = setup.registered.clone().map(|state| {
        let original = Presented::new(setup.registered_as.clone().unwrap_or(credential));
        registered(&original, state)
    });
    let committee = presented.committee_id().and_then(|id| world.records.iter().find(|r| r.committee.id == id));
    let holder_key = crate::support::holder_key();
    // As the server looks sessions up: only for a certificate that needs one.
    let session = match &presented.parsed {
        Ok(parsed) if session::needed(&parsed.subject) => session::find_for(&setup.sessions, &parsed.subject)
            .map_or(SessionEvidence::NotFound, SessionEvidence::Found),
        _ => SessionEvidence::NotLooked,
    };
    let evidence = Evidence {
        key: key.as_ref(),
        committee,
        graph: &world.graph,
        registered: registered_copy.as_ref(),
        holder_key: Some(&holder_key),
        session,
        now: Utc::now(),
    };
    let outcome = verify(&presented, &evidence, &setup.holder);
    let failed = outcome
        .checks
        .iter()
        .filter(|c| c.status == CheckStatus::Fail)
        .map(|c| (serde_json::to_value(c.step).unwrap().as_str().unwrap().to_string(), c.code.to_string()))
        .collect();
    (outcome.verdict, failed)
}

#[derive(Clone)]
struct Setup {
    registered: Option<CertificateState>,
    /// The registered copy differs from what is presented.
    registered_as: Option<serde_json::Value>,
    unknown_key: bool,
    compromised_at: Option<chrono::DateTime<Utc>>,
    holder: HolderClaim,
    /// The registered evaluation sessions.
    sessions: Vec<EvaluationSession>,
}

/// c-eng's session on 2023-05-01, registered on `registered` (UTC midnight).
fn session_of_c_eng(id: &str, meets_on: &str, registered: &str) -> EvaluationSession {
    EvaluationSession {
        id: id.into(),
        committee_id: "c-eng".into(),
        series: "ENGINEERING".into(),
        specialty: None,
        levels: vec![zhicheng::domain::catalog::Level::Intermediate],
        meets_on: meets_on.parse().unwrap(),
        applicants: 40,
        pass_rate_cap: None,
        registered_by: "jilin".into(),
        logged_at: format!("{registered}T00:00:00Z").parse().unwrap(),
        outcome: None,
    }
}

impl Default for Setup {
    fn default() -> Self {
        Setup {
            registered: Some(CertificateState::Active),
            registered_as: None,
            unknown_key: false,
            compromised_at: None,
            holder: HolderClaim::default(),
            sessions: vec![
                session_of_c_eng("ses-1", "2023-05-01", "2023-04-01"),
                session_of_c_eng("ses-other-day", "2023-05-08", "2023-04-01"),
                session_of_c_eng("ses-late", "2023-05-01", "2023-05-03"),
            ],
        }
    }
}

#[test]
fn each_step_fails_on_its_own_fraud_and_only_there() {
    let issuer = Issuer::new(1);
    let world = world(&issuer);
    let signed = Utc::now() - Duration::hours(2);
    let sign = |number: &str, committee: &str, series: &str, level: &str, evaluated: &str| {
        issuer.sign(&subject(number, committee, series, level, evaluated), "jilin", signed)
    };
    let genuine = sign("S-1", "c-eng", "ENGINEERING", "intermediate", "2023-05-01");
    let pair = |step: &str, code: &str| (step.to_string(), code.to_string());
    let with = |edit: &dyn Fn(&mut serde_json::Value)| {
        let mut c = genuine.clone();
        edit(&mut c);
        c
    };
    let with_session = |id: &str| {
        let mut s = subject("S-2", "c-eng", "ENGINEERING", "intermediate", "2023-05-01");
        s.evaluation_session = Some(id.to_string());
        issuer.sign(&s, "jilin", signed)
    };
    let revoked = CertificateState::Revoked { reason: "造假".into(), since: Utc::now() - Duration::hours(1) };
    /// (what, credential, evidence set-up, verdict, failed checks)
    type Case<'a> = (&'a str, serde_json::Value, Setup, Verdict, Vec<(String, String)>);
    let cases: Vec<Case> = vec![
        ("genuine", genuine.clone(), Setup::default(), Verdict::Valid, vec![]),
        (
            "an unknown format version",
            with(&|c| c["credentialSubject"]["formatVersion"] = json!(99)),
            Setup::default(),
            Verdict::Invalid,
            vec![pair("format", "malformed")],
        ),
        (
            "the level raised after signing",
            with(&|c| c["credentialSubject"]["level"] = json!("associate_senior")),
            Setup { registered_as: Some(genuine.clone()), ..Setup::default() },
            Verdict::Invalid,
            vec![pair("signature", "bad_signature")],
        ),
        (
            "a context the proof does not start with",
            with(&|c| c["@context"] = json!(["https://www.w3.org/ns/credentials/v2"])),
            Setup { registered_as: Some(genuine.clone()), ..Setup::default() },
            Verdict::Invalid,
            vec![pair("signature", "context_mismatch")],
        ),
        (
            "a key compromised before the registry logged it",
            genuine.clone(),
            Setup { compromised_at: Some(Utc::now() - Duration::hours(3)), ..Setup::default() },
            Verdict::Invalid,
            vec![pair("key", "key_compromised")],
        ),
        (
            "an unregistered key",
            genuine.clone(),
            Setup { unknown_key: true, registered: None, ..Setup::default() },
            Verdict::Invalid,
            vec![pair("key", "key_unregistered"), pair("registry", "not_in_registry")],
        ),
        (
            "above the committee's authorized level",
            sign("A-2", "c-eng", "ENGINEERING", "senior", "2023-05-01"),
            Setup { registered: None, ..Setup::default() },
            Verdict::Invalid,
            vec![pair("authority", "level_not_covered"), pair("registry", "not_in_registry")],
        ),
        (
            "revoked",
            genuine.clone(),
            Setup { registered: Some(revoked), ..Setup::default() },
            Verdict::Revoked,
            vec![pair("status", "revoked")],
        ),
        (
            "never registered",
            genuine.clone(),
            Setup { registered: None, ..Setup::default() },
            Verdict::Invalid,
            vec![pair("registry", "not_in_registry")],
        ),
        (
            "resting on the session it names",
            with_session("ses-1"),
            Setup { registered: None, ..Setup::default() },
            Verdict::Invalid,
            vec![pair("registry", "not_in_registry")],
        ),
        (
            "naming a session nobody registered",
            with_session("ses-invented"),
            Setup { registered: None, ..Setup::default() },
            Verdict::Invalid,
            vec![pair("session", "session_unregistered"), pair("registry", "not_in_registry")],
        ),
        (
            "naming a session of another day",
            with_session("ses-other-day"),
            Setup { registered: None, ..Setup::default() },
            Verdict::Invalid,
            vec![pair("session", "session_mismatch"), pair("registry", "not_in_registry")],
        ),
        (
            "naming a session registered after it met",
            with_session("ses-late"),
            Setup { registered: None, ..Setup::default() },
            Verdict::Invalid,
            vec![pair("session", "session_registered_late"), pair("registry", "not_in_registry")],
        ),
        (
            "a wrong holder name",
            genuine.clone(),
            Setup { holder: HolderClaim { name: Some("李四".into()), id_number: None }, ..Setup::default() },
            Verdict::Invalid,
            vec![pair("holder", "holder_name_mismatch")],
        ),
    ];
    for (name, credential, setup, verdict, expected) in cases {
        let (got_verdict, got) = failures(&world, credential, &setup);
        assert_eq!(got, expected, "{name}");
        assert_eq!(got_verdict, verdict, "{name}");
    }
}
