//! The payload every event carries, one typed shape whatever wrote it: an API call, a bulk
//! import, the demo or a trusted fixture load. The payload is the operation as published
//! (`operation`, tagged by `op`), the id of the entity it created or changed, and for
//! amendments the state before. `v` says which shape a stored payload has:
//!
//! - `2` (written since payloads were typed): this module's [`EventPayload`];
//! - absent, with an `operation`: the same shape, written by the API before `v` existed;
//! - absent, without one: the record shapes early trusted loads wrote (`{number, sha256}`,
//!   `{id, committee_id, record}`, the bare record).
//!
//! Stored payloads are never rewritten: a log leaf is the JCS of the stored payload, so an
//! old one stays as it was hashed. Readers of any shape go through [`Touched::of`] and
//! [`issued_certificate`], which accept all three.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::domain::authority::{Authority, Delegation};
use crate::domain::authorization::{Action, Authorization, HistoryRecord};
use crate::domain::certificate::IssuerKey;
use crate::domain::committee::Committee;
use crate::domain::publish::{
    AuthorityAmendment, AuthorizationAct, AuthorizationAmendment, CertificateAct, CommitteeAmendment, KeyAct,
    NewAuthorization, NewCommittee, NewDelegation, NewKey, NewSanction, Operation, SanctionLift,
};
use crate::domain::sanction::{Lift, Sanction, SubjectKind};

/// The payload version written today.
pub const PAYLOAD_VERSION: u32 = 2;

/// One event's payload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventPayload {
    /// The payload shape: [`PAYLOAD_VERSION`].
    pub v: u32,
    /// The entity created or changed.
    pub id: String,
    pub operation: Logged,
    /// For amendments: the entity as it was before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before: Option<serde_json::Value>,
}

impl EventPayload {
    pub fn new(id: impl Into<String>, operation: Logged) -> EventPayload {
        EventPayload { v: PAYLOAD_VERSION, id: id.into(), operation, before: None }
    }

    pub fn with_before(mut self, before: Option<serde_json::Value>) -> EventPayload {
        self.before = before;
        self
    }

    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).expect("an event payload is plain data")
    }
}

/// A certificate's issuance as the log keeps it: its number and the SHA-256 of its
/// credential, never the credential (whose text names the holder).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IssuedCertificate {
    pub number: String,
    pub sha256: String,
}

/// What was published, one variant per event kind.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Logged {
    CreateAuthority(NewAuthority),
    AmendAuthority(AuthorityAmendment),
    Delegate(NewDelegation),
    CreateCommittee(NewCommittee),
    AmendCommittee(CommitteeAmendment),
    GrantAuthorization(NewAuthorization),
    AmendAuthorization(AuthorizationAmendment),
    SuspendAuthorization(AuthorizationAct),
    ReinstateAuthorization(AuthorizationAct),
    WithdrawAuthorization(AuthorizationAct),
    PublishSanction(NewSanction),
    LiftSanction(SanctionLift),
    RegisterKey(NewKey),
    RetireKey(KeyAct),
    CompromiseKey(KeyAct),
    IssueCertificate(IssuedCertificate),
    RevokeCertificate(CertificateAct),
    SuspendCertificate(CertificateAct),
    UnsuspendCertificate(CertificateAct),
    RegisterSession(crate::domain::session::NewSession),
    PublishSessionOutcome(crate::domain::session::SessionOutcomeSubmission),
    PlanDraw(crate::domain::draw::NewDrawPlan),
    RecordInspection(crate::domain::draw::NewInspection),
    PublishNotice(crate::domain::notice::NewNotice),
    /// A supervisor credential's number and digest: the holder's name stays out of the log.
    IssueSupervisorCredential(IssuedCertificate),
    RevokeSupervisorCredential(CertificateAct),
    RecordVisit(crate::domain::supervisor::NewVisit),
    /// That a complaint was received: no personal data, only what it concerns.
    ReceiveComplaint(ReceivedComplaint),
    /// A complaint's new status (the note to the complainant stays out of the log).
    UpdateComplaint(ComplaintUpdate),
    /// A snapshot set's manifest (`zhicheng export`): no registry record changes.
    PublishSnapshot(PublishedSnapshot),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReceivedComplaint {
    pub tracking_number: String,
    pub committee_id: String,
    pub session_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ComplaintUpdate {
    pub tracking_number: String,
    pub status: crate::domain::complaint::ComplaintStatus,
}

/// A published snapshot set: the log size its files reflect and the SHA-256 (hex) of its
/// signed manifest's bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PublishedSnapshot {
    pub log_size: u64,
    pub manifest_sha256: String,
}

/// An authority as created: the root has no parent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewAuthority {
    pub id: String,
    pub name: String,
    pub level: crate::domain::authority::AuthorityLevel,
    pub region: String,
    pub parent_id: Option<String>,
}

impl Logged {
    /// The operation as the log records it. An issuance is logged by digest (`issued`), and a
    /// new authority with the id it was given.
    pub fn of(op: &Operation, id: &str, issued: Option<IssuedCertificate>) -> Logged {
        match op.clone() {
            Operation::CreateAuthority(a) => Logged::CreateAuthority(NewAuthority {
                id: id.to_string(),
                name: a.name,
                level: a.level,
                region: a.region,
                parent_id: Some(a.parent_id),
            }),
            Operation::AmendAuthority(a) => Logged::AmendAuthority(a),
            Operation::Delegate(d) => Logged::Delegate(d),
            Operation::CreateCommittee(c) => Logged::CreateCommittee(c),
            Operation::AmendCommittee(c) => Logged::AmendCommittee(c),
            Operation::GrantAuthorization(a) => Logged::GrantAuthorization(a),
            Operation::AmendAuthorization(a) => Logged::AmendAuthorization(a),
            Operation::SuspendAuthorization(a) => Logged::SuspendAuthorization(a),
            Operation::ReinstateAuthorization(a) => Logged::ReinstateAuthorization(a),
            Operation::WithdrawAuthorization(a) => Logged::WithdrawAuthorization(a),
            Operation::PublishSanction(s) => Logged::PublishSanction(s),
            Operation::LiftSanction(l) => Logged::LiftSanction(l),
            Operation::RegisterKey(k) => Logged::RegisterKey(k),
            Operation::RetireKey(k) => Logged::RetireKey(k),
            Operation::CompromiseKey(k) => Logged::CompromiseKey(k),
            Operation::IssueCertificate(_) => {
                Logged::IssueCertificate(issued.expect("an issuance is logged with its digest"))
            }
            Operation::RevokeCertificate(a) => Logged::RevokeCertificate(a),
            Operation::SuspendCertificate(a) => Logged::SuspendCertificate(a),
            Operation::UnsuspendCertificate(a) => Logged::UnsuspendCertificate(a),
            Operation::RegisterSession(s) => {
                Logged::RegisterSession(crate::domain::session::NewSession { id: Some(id.to_string()), ..s })
            }
            Operation::PublishSessionOutcome(o) => Logged::PublishSessionOutcome(o),
            Operation::PlanDraw(p) => {
                Logged::PlanDraw(crate::domain::draw::NewDrawPlan { id: Some(id.to_string()), ..p })
            }
            Operation::RecordInspection(i) => {
                Logged::RecordInspection(crate::domain::draw::NewInspection { id: Some(id.to_string()), ..i })
            }
            Operation::IssueSupervisorCredential(_) => {
                Logged::IssueSupervisorCredential(issued.expect("an issuance is logged with its digest"))
            }
            Operation::RevokeSupervisorCredential(a) => Logged::RevokeSupervisorCredential(a),
            Operation::RecordVisit(v) => {
                Logged::RecordVisit(crate::domain::supervisor::NewVisit { id: Some(id.to_string()), ..v })
            }
            Operation::PublishNotice(n) => {
                Logged::PublishNotice(crate::domain::notice::NewNotice { id: Some(id.to_string()), ..n })
            }
        }
    }

    /// The event kind, e.g. `authorization.withdrawn`: the same as the operation's.
    pub fn kind(&self) -> &'static str {
        match self {
            Logged::CreateAuthority(_) => "authority.created",
            Logged::AmendAuthority(_) => "authority.amended",
            Logged::Delegate(_) => "delegation.granted",
            Logged::CreateCommittee(_) => "committee.created",
            Logged::AmendCommittee(_) => "committee.amended",
            Logged::GrantAuthorization(_) => "authorization.granted",
            Logged::AmendAuthorization(_) => "authorization.amended",
            Logged::SuspendAuthorization(_) => "authorization.suspended",
            Logged::ReinstateAuthorization(_) => "authorization.reinstated",
            Logged::WithdrawAuthorization(_) => "authorization.withdrawn",
            Logged::PublishSanction(_) => "sanction.published",
            Logged::LiftSanction(_) => "sanction.lifted",
            Logged::RegisterKey(_) => "key.registered",
            Logged::RetireKey(_) => "key.retired",
            Logged::CompromiseKey(_) => "key.compromised",
            Logged::IssueCertificate(_) => "certificate.issued",
            Logged::RevokeCertificate(_) => "certificate.revoked",
            Logged::SuspendCertificate(_) => "certificate.suspended",
            Logged::UnsuspendCertificate(_) => "certificate.unsuspended",
            Logged::RegisterSession(_) => "session.registered",
            Logged::PublishSessionOutcome(_) => "session.concluded",
            Logged::PlanDraw(_) => "draw.planned",
            Logged::RecordInspection(_) => "inspection.recorded",
            Logged::PublishNotice(_) => "notice.published",
            Logged::IssueSupervisorCredential(_) => "supervisor.issued",
            Logged::RevokeSupervisorCredential(_) => "supervisor.revoked",
            Logged::RecordVisit(_) => "visit.recorded",
            Logged::ReceiveComplaint(_) => "complaint.received",
            Logged::UpdateComplaint(_) => "complaint.updated",
            Logged::PublishSnapshot(_) => "snapshot.published",
        }
    }

    /// The type of entity the event is about: the kind's first word.
    pub fn entity_type(&self) -> &'static str {
        let kind = self.kind();
        &kind[..kind.find('.').expect("kinds are entity.verb")]
    }
}

/// The payloads of records loaded in bulk (demo data, fixtures): each is logged as the
/// operation that would have published it.
pub mod trusted {
    use super::*;

    pub fn authority(a: &Authority) -> EventPayload {
        EventPayload::new(
            &a.id,
            Logged::CreateAuthority(NewAuthority {
                id: a.id.clone(),
                name: a.name.clone(),
                level: a.level,
                region: a.region.clone(),
                parent_id: a.parent_id.clone(),
            }),
        )
    }

    pub fn delegation(d: &Delegation) -> EventPayload {
        EventPayload::new(
            &d.id,
            Logged::Delegate(NewDelegation {
                authority_id: d.authority_id.clone(),
                series: d.series.clone(),
                specialties: d.specialties.clone(),
                levels: d.levels.clone(),
                valid_from: d.valid_from,
                valid_until: d.valid_until,
                document_number: d.document_number.clone(),
            }),
        )
    }

    pub fn committee(c: &Committee) -> EventPayload {
        EventPayload::new(
            &c.id,
            Logged::CreateCommittee(NewCommittee {
                id: Some(c.id.clone()),
                name: c.name.clone(),
                kind: c.kind,
                organizing_unit: c.organizing_unit.clone(),
                region: c.region.clone(),
                domains: c.domains.clone(),
                contact: c.contact.clone(),
            }),
        )
    }

    /// One history record of an authorization. `None` for an amendment without terms,
    /// which no valid history holds.
    pub fn authorization_record(a: &Authorization, r: &HistoryRecord) -> Option<EventPayload> {
        let act = || AuthorizationAct {
            authorization_id: a.id.clone(),
            effective_on: r.effective_on,
            document_number: r.document_number.clone(),
            note: r.note.clone(),
        };
        let logged = match r.action {
            Action::Granted => {
                let t = r.terms.clone()?;
                Logged::GrantAuthorization(NewAuthorization {
                    id: Some(a.id.clone()),
                    committee_id: a.committee_id.clone(),
                    series: t.series,
                    specialties: t.specialties,
                    levels: t.levels,
                    scope: t.scope,
                    valid_from: t.valid_from,
                    valid_until: t.valid_until,
                    document_number: r.document_number.clone(),
                    note: r.note.clone(),
                })
            }
            Action::Amended => {
                let t = r.terms.clone()?;
                Logged::AmendAuthorization(AuthorizationAmendment {
                    authorization_id: a.id.clone(),
                    specialties: t.specialties,
                    levels: t.levels,
                    scope: t.scope,
                    valid_from: t.valid_from,
                    valid_until: t.valid_until,
                    effective_on: r.effective_on,
                    document_number: r.document_number.clone(),
                    note: r.note.clone(),
                })
            }
            Action::Suspended => Logged::SuspendAuthorization(act()),
            Action::Reinstated => Logged::ReinstateAuthorization(act()),
            Action::Withdrawn => Logged::WithdrawAuthorization(act()),
        };
        Some(EventPayload::new(&a.id, logged))
    }

    pub fn sanction(s: &Sanction) -> EventPayload {
        EventPayload::new(
            &s.id,
            Logged::PublishSanction(NewSanction {
                id: Some(s.id.clone()),
                subject: s.subject.clone(),
                measure: s.measure,
                region: Some(s.region.clone()),
                effective_from: s.effective_from,
                effective_until: s.effective_until,
                void_from: s.void_from,
                document_number: s.document_number.clone(),
                legal_basis: s.legal_basis.clone(),
                summary: s.summary.clone(),
            }),
        )
    }

    pub fn sanction_lift(sanction_id: &str, l: &Lift) -> EventPayload {
        EventPayload::new(
            sanction_id,
            Logged::LiftSanction(SanctionLift {
                sanction_id: sanction_id.to_string(),
                effective_on: l.effective_on,
                document_number: l.document_number.clone(),
                reason: l.reason.clone(),
            }),
        )
    }

    /// A key's registration, then its retirement and compromise where the record has them.
    pub fn key(k: &IssuerKey) -> Vec<EventPayload> {
        let mut out = vec![EventPayload::new(
            &k.id,
            Logged::RegisterKey(NewKey {
                id: Some(k.id.clone()),
                owner: k.owner.clone(),
                public_key: k.public_key.clone(),
                valid_from: k.valid_from,
                valid_until: k.valid_until,
            }),
        )];
        let act = |at| KeyAct { key_id: k.id.clone(), at };
        if let Some(at) = k.retired_at {
            out.push(EventPayload::new(&k.id, Logged::RetireKey(act(at))));
        }
        if let Some(at) = k.compromised_at {
            out.push(EventPayload::new(&k.id, Logged::CompromiseKey(act(at))));
        }
        out
    }

    pub fn certificate_issued(number: &str, sha256: &str) -> EventPayload {
        EventPayload::new(
            number,
            Logged::IssueCertificate(IssuedCertificate { number: number.to_string(), sha256: sha256.to_string() }),
        )
    }

    /// A status change: `action` is `revoked`, `suspended` or `unsuspended`.
    pub fn certificate_change(
        number: &str,
        action: CertificateAction,
        reason: &str,
        at: DateTime<Utc>,
    ) -> EventPayload {
        let act = CertificateAct { number: number.to_string(), reason: reason.to_string(), effective_at: Some(at) };
        let logged = match action {
            CertificateAction::Revoked => Logged::RevokeCertificate(act),
            CertificateAction::Suspended => Logged::SuspendCertificate(act),
            CertificateAction::Unsuspended => Logged::UnsuspendCertificate(act),
        };
        EventPayload::new(number, logged)
    }
}

/// A change of a certificate's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CertificateAction {
    Revoked,
    Suspended,
    Unsuspended,
}

impl crate::domain::code::Code for CertificateAction {}

/// What an event changed, for the readers that keep copies (caches of other nodes).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Touched {
    /// A committee's record: itself, an authorization or a sanction of it.
    Committee(String),
    /// Part of a committee's record whose committee the payload does not name (an act on an
    /// authorization or a lift of a sanction): the first event about the entity names it.
    PartOfCommittee {
        entity_type: String,
        id: String,
    },
    Keys,
    Certificate(String),
    /// A session's registration or outcome: what verification reads of sessions.
    Sessions,
    /// Nothing any cached record holds (a sanction against a person, say).
    Nothing,
    /// The authority graph, which every answer depends on.
    #[default]
    Everything,
}

impl Touched {
    /// What an event about `entity_type`/`entity_id` with this stored payload changed. Reads
    /// every payload version (see the module's documentation).
    pub fn of(entity_type: &str, entity_id: &str, payload: &serde_json::Value) -> Touched {
        let op = &payload["operation"];
        let named_committee =
            [&op["committee_id"], &payload["committee_id"]].into_iter().find_map(|v| v.as_str().map(str::to_string));
        let sanctioned_committee = [&op["subject"], &payload["subject"]]
            .into_iter()
            .find(|s| s["kind"] == "committee")
            .and_then(|s| s["id"].as_str().map(str::to_string));
        let part = || Touched::PartOfCommittee { entity_type: entity_type.to_string(), id: entity_id.to_string() };
        match entity_type {
            "committee" => Touched::Committee(entity_id.to_string()),
            "authorization" => named_committee.map_or_else(part, Touched::Committee),
            // A sanction against anyone but a committee changes no committee record; a lift
            // names only the sanction (v0 lifts carry no `operation`).
            "sanction" => match sanctioned_committee {
                Some(c) => Touched::Committee(c),
                None if op["op"] == "lift_sanction" || (op.is_null() && payload.get("subject").is_none()) => part(),
                None => Touched::Nothing,
            },
            "key" => Touched::Keys,
            "certificate" => Touched::Certificate(entity_id.to_string()),
            "session" => Touched::Sessions,
            // Other supervision records and complaints are no part of anything a cache holds.
            "snapshot" | "draw" | "inspection" | "notice" | "supervisor" | "visit" | "complaint" => Touched::Nothing,
            _ => Touched::Everything,
        }
    }

    /// Whether a sanction subject of this kind has a committee record to change.
    pub fn sanction_subject(kind: SubjectKind, id: Option<&str>) -> Touched {
        match (kind, id) {
            (SubjectKind::Committee, Some(id)) => Touched::Committee(id.to_string()),
            _ => Touched::Nothing,
        }
    }
}

/// The issuance a stored `certificate.issued` payload records, in any payload version.
pub fn issued_certificate(payload: &serde_json::Value) -> Option<IssuedCertificate> {
    let logged = if payload.get("operation").is_some() { &payload["operation"] } else { payload };
    Some(IssuedCertificate {
        number: logged["number"].as_str()?.to_string(),
        sha256: logged["sha256"].as_str()?.to_string(),
    })
}

/// Whether a log entry (the event object) records the issuance of certificate `number` whose
/// credential hashes to `sha256`.
pub fn records_issuance(entry: &serde_json::Value, number: &str, sha256: &str) -> bool {
    entry["kind"] == "certificate.issued"
        && issued_certificate(&entry["payload"]).is_some_and(|l| l.number == number && l.sha256 == sha256)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::domain::code::Code;

    #[test]
    fn each_payload_version_names_what_it_touched() {
        let committee = |id: &str| Touched::Committee(id.into());
        let part = |t: &str, id: &str| Touched::PartOfCommittee { entity_type: t.into(), id: id.into() };
        let cases = [
            ("committee", "c1", json!({}), committee("c1")),
            (
                "authorization",
                "a1",
                json!({"v": 2, "operation": {"op": "grant_authorization", "committee_id": "c1"}}),
                committee("c1"),
            ),
            (
                "authorization",
                "a1",
                json!({"operation": {"op": "grant_authorization", "committee_id": "c1"}}),
                committee("c1"),
            ),
            ("authorization", "a1", json!({"committee_id": "c1", "record": {}}), committee("c1")),
            (
                "authorization",
                "a1",
                json!({"operation": {"op": "withdraw_authorization"}}),
                part("authorization", "a1"),
            ),
            ("sanction", "s1", json!({"operation": {"subject": {"kind": "committee", "id": "c1"}}}), committee("c1")),
            ("sanction", "s1", json!({"subject": {"kind": "committee", "id": "c1"}}), committee("c1")),
            ("sanction", "s1", json!({"operation": {"op": "lift_sanction"}}), part("sanction", "s1")),
            // A v0 lift is the bare lift record.
            ("sanction", "s1", json!({"effective_on": "2026-01-01", "document_number": "x"}), part("sanction", "s1")),
            ("sanction", "s2", json!({"operation": {"subject": {"kind": "applicant"}}}), Touched::Nothing),
            ("sanction", "s2", json!({"subject": {"kind": "applicant"}}), Touched::Nothing),
            ("key", "k1", json!({}), Touched::Keys),
            ("certificate", "N-1", json!({}), Touched::Certificate("N-1".into())),
            ("authority", "x", json!({}), Touched::Everything),
            ("delegation", "d", json!({}), Touched::Everything),
            // Another node's session drops the session reads only; other supervision records
            // must not empty this node's caches (a committee record among them).
            (
                "session",
                "ses-1",
                json!({"operation": {"op": "register_session", "committee_id": "c1"}}),
                Touched::Sessions,
            ),
            ("notice", "n1", json!({"operation": {"op": "publish_notice", "committee_id": "c1"}}), Touched::Nothing),
            ("complaint", "TS1", json!({"operation": {"committee_id": "c1"}}), Touched::Nothing),
        ];
        for (entity_type, id, payload, expected) in cases {
            assert_eq!(Touched::of(entity_type, id, &payload), expected, "{entity_type} {payload}");
        }
    }

    #[test]
    fn an_issuance_is_read_from_every_payload_version() {
        let expected = Some(IssuedCertificate { number: "N-1".into(), sha256: "ab".into() });
        let v2 = trusted::certificate_issued("N-1", "ab").to_json();
        assert_eq!(v2["v"], 2);
        assert_eq!(v2["operation"]["op"], "issue_certificate");
        let v1 = json!({"id": "N-1", "operation": {"op": "issue_certificate", "number": "N-1", "sha256": "ab"}});
        let v0 = json!({"number": "N-1", "sha256": "ab"});
        for payload in [v2, v1, v0] {
            assert_eq!(issued_certificate(&payload), expected, "{payload}");
        }
        assert_eq!(issued_certificate(&json!({"number": "N-1"})), None);
    }

    #[test]
    fn payloads_read_back_as_what_was_written() {
        let at: DateTime<Utc> = "2026-03-01T00:00:00Z".parse().unwrap();
        let payloads = [
            trusted::certificate_issued("N-1", "ab"),
            trusted::certificate_change("N-1", CertificateAction::Suspended, "调查中", at),
            EventPayload::new("k1", Logged::RetireKey(KeyAct { key_id: "k1".into(), at }))
                .with_before(Some(json!({"x": 1}))),
        ];
        for p in payloads {
            let back: EventPayload = serde_json::from_value(p.to_json()).unwrap();
            assert_eq!(back, p);
            assert_eq!(back.operation.entity_type(), back.operation.kind().split('.').next().unwrap());
        }
    }

    #[test]
    fn certificate_actions_round_trip_and_refuse_the_unknown() {
        for a in [CertificateAction::Revoked, CertificateAction::Suspended, CertificateAction::Unsuspended] {
            assert_eq!(CertificateAction::parse(a.code()), Some(a));
        }
        assert_eq!(CertificateAction::parse("active"), None);
    }
}
