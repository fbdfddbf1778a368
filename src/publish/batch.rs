//! A write batch: the registry state the operations touch, loaded up front in a few queries,
//! and the rows they will write. Applying an operation is pure — check it against the state
//! left by the operations before it, then change that state — so a 100,000-line import costs
//! a handful of batched reads and multi-row inserts, not a round trip per line.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};

use super::Applied;
use crate::domain::Date;
use crate::domain::authority::{Authority, AuthorityGraph};
use crate::domain::authorization::{Action, Authorization, HistoryRecord, Terms};
use crate::domain::certificate::{IssuerKey, IssuerRef};
use crate::domain::code::Code;
use crate::domain::committee::Committee;
use crate::domain::committee::CommitteeRecord;
use crate::domain::draw::{self, DrawPlan, Inspection, NewDrawPlan, NewInspection};
use crate::domain::notice::{self, NewNotice, Notice};
use crate::domain::publish::CertificateAct;
use crate::domain::publish::ViolationKind;
use crate::domain::publish::{self, Actor, Operation, Violation};
use crate::domain::sanction::{Lift, Sanction, SubjectKind};
use crate::domain::session::{self, EvaluationSession, NewSession, SessionOutcome, SessionOutcomeSubmission};
use crate::domain::supervisor::{self, NewVisit, SupervisorStanding, Visit};
use crate::domain::verification::{
    CertificateState, CheckStatus, Evidence, HolderClaim, Presented, RegisteredCertificate, SessionEvidence, Step,
    verify, verify_supervisor,
};
use crate::publish::event::{EventPayload, IssuedCertificate, Logged, Touched};

/// What to load before applying `ops`.
#[derive(Debug, Default)]
pub struct Prefetch {
    pub committee_ids: HashSet<String>,
    pub credit_codes: HashSet<String>,
    pub authorization_ids: HashSet<String>,
    /// Committees whose existing (committee, series, document) grant keys matter.
    pub grant_committee_ids: HashSet<String>,
    pub sanction_ids: HashSet<String>,
    pub sanction_documents: HashSet<String>,
    pub key_ids: HashSet<String>,
    pub public_keys: HashSet<String>,
    /// Committees needed whole (authorizations and sanctions), to verify certificates.
    pub committee_records: HashSet<String>,
    pub certificate_numbers: HashSet<String>,
    pub session_ids: HashSet<String>,
    /// Committees whose sessions certificates may rest on without naming one.
    pub session_committees: HashSet<String>,
    pub plan_ids: HashSet<String>,
    pub inspection_ids: HashSet<String>,
    pub notice_ids: HashSet<String>,
    pub supervisor_numbers: HashSet<String>,
    pub visit_ids: HashSet<String>,
    /// `purpose#index` of status-list slots certificates claim (the authority is the actor's).
    pub slots: HashSet<String>,
}

impl Prefetch {
    pub fn of(ops: &[Operation]) -> Prefetch {
        let mut p = Prefetch::default();
        for op in ops {
            match op {
                Operation::CreateCommittee(c) => {
                    p.committee_ids.extend(c.id.clone());
                    p.credit_codes.insert(c.organizing_unit.credit_code.clone());
                }
                Operation::AmendCommittee(a) => {
                    p.committee_ids.insert(a.committee_id.clone());
                }
                Operation::GrantAuthorization(g) => {
                    p.committee_ids.insert(g.committee_id.clone());
                    p.grant_committee_ids.insert(g.committee_id.clone());
                    p.authorization_ids.extend(g.id.clone());
                }
                Operation::AmendAuthorization(a) => {
                    p.authorization_ids.insert(a.authorization_id.clone());
                }
                Operation::SuspendAuthorization(a)
                | Operation::ReinstateAuthorization(a)
                | Operation::WithdrawAuthorization(a) => {
                    p.authorization_ids.insert(a.authorization_id.clone());
                }
                Operation::PublishSanction(s) => {
                    if s.subject.kind == SubjectKind::Committee {
                        p.committee_ids.extend(s.subject.id.clone());
                    }
                    p.sanction_ids.extend(s.id.clone());
                    p.sanction_documents.insert(s.document_number.clone());
                }
                Operation::LiftSanction(l) => {
                    p.sanction_ids.insert(l.sanction_id.clone());
                }
                Operation::RegisterKey(k) => {
                    p.public_keys.insert(k.public_key.clone());
                    p.key_ids.extend(k.id.clone());
                    if let IssuerRef::Committee(c) = &k.owner {
                        p.committee_records.insert(c.clone());
                    }
                }
                Operation::RetireKey(k) | Operation::CompromiseKey(k) => {
                    p.key_ids.insert(k.key_id.clone());
                }
                Operation::IssueCertificate(c) => {
                    let presented = Presented::new(c.credential.clone());
                    p.public_keys.extend(presented.public_key().map(str::to_string));
                    if let Ok(parsed) = &presented.parsed {
                        p.certificate_numbers.insert(parsed.subject.certificate_number.clone());
                        p.committee_records.insert(parsed.subject.committee_id.clone());
                        if session::needed(&parsed.subject) {
                            match &parsed.subject.evaluation_session {
                                Some(id) => p.session_ids.insert(id.clone()),
                                None => p.session_committees.insert(parsed.subject.committee_id.clone()),
                            };
                        }
                        if let IssuerRef::Committee(id) = &parsed.issuer {
                            p.committee_records.insert(id.clone());
                        }
                        for (purpose, _, index) in &parsed.status {
                            p.slots.insert(format!("{purpose}#{index}"));
                        }
                    }
                }
                Operation::RevokeCertificate(a)
                | Operation::SuspendCertificate(a)
                | Operation::UnsuspendCertificate(a) => {
                    p.certificate_numbers.insert(a.number.clone());
                }
                Operation::RegisterSession(s) => {
                    p.committee_records.insert(s.committee_id.clone());
                    p.session_ids.extend(s.id.clone());
                }
                Operation::PublishSessionOutcome(o) => {
                    p.session_ids.insert(o.session_id.clone());
                }
                Operation::PlanDraw(plan) => {
                    p.committee_ids.extend(plan.eligible.iter().cloned());
                    p.plan_ids.extend(plan.id.clone());
                }
                Operation::RecordInspection(i) => {
                    p.plan_ids.insert(i.plan_id.clone());
                    p.inspection_ids.extend(i.id.clone());
                }
                Operation::IssueSupervisorCredential(c) => {
                    let presented = Presented::new(c.credential.clone());
                    p.public_keys.extend(presented.public_key().map(str::to_string));
                    if let Ok(parsed) = supervisor::parse_supervisor(&c.credential) {
                        p.supervisor_numbers.insert(parsed.subject.credential_number);
                    }
                }
                Operation::RevokeSupervisorCredential(a) => {
                    p.supervisor_numbers.insert(a.number.clone());
                }
                Operation::RecordVisit(v) => {
                    p.session_ids.insert(v.session_id.clone());
                    p.supervisor_numbers.extend(v.supervisors.iter().cloned());
                    p.visit_ids.extend(v.id.clone());
                }
                Operation::PublishNotice(n) => {
                    p.committee_ids.insert(n.committee_id.clone());
                    p.session_ids.extend(n.session_id.clone());
                    p.notice_ids.extend(n.id.clone());
                }
                Operation::CreateAuthority(_) | Operation::AmendAuthority(_) | Operation::Delegate(_) => {}
            }
        }
        p
    }
}

/// An event waiting for its sequence number.
#[derive(Debug, Clone)]
pub struct PendingEvent {
    pub kind: String,
    pub entity_type: &'static str,
    pub entity_id: String,
    pub authority_id: String,
    pub credential: String,
    pub logged_at: DateTime<Utc>,
    pub effective_on: Option<Date>,
    pub back_dated: bool,
    pub payload: serde_json::Value,
    /// What a cached copy must drop once the event is written.
    pub touched: Touched,
}

impl PendingEvent {
    /// An event that is no registry record, logged as it is (a snapshot's manifest, a
    /// complaint's receipt): it changes nothing a cache holds.
    pub fn standalone(
        id: &str,
        operation: Logged,
        authority_id: &str,
        credential: &str,
        now: DateTime<Utc>,
    ) -> PendingEvent {
        let payload = EventPayload::new(id, operation);
        PendingEvent {
            kind: payload.operation.kind().to_string(),
            entity_type: payload.operation.entity_type(),
            entity_id: id.to_string(),
            authority_id: authority_id.to_string(),
            credential: credential.to_string(),
            logged_at: crate::domain::log::log_time(now),
            effective_on: None,
            back_dated: false,
            payload: payload.to_json(),
            touched: Touched::Nothing,
        }
    }
}

/// The loaded state and the pending writes of one transaction.
#[derive(Debug, Default)]
pub struct Batch {
    pub graph: AuthorityGraph,
    pub committees: HashMap<String, Committee>,
    /// (name, credit code) of committees that exist.
    pub committee_keys: HashSet<(String, String)>,
    pub authorizations: HashMap<String, Authorization>,
    /// How many history records each loaded authorization had, so only new ones are written.
    pub loaded_records: HashMap<String, usize>,
    /// (committee, series, document number) of grants that exist.
    pub grant_keys: HashSet<(String, String, String)>,
    pub sanctions: HashMap<String, Sanction>,
    /// (subject kind, subject id or name, measure, document number) of sanctions that exist.
    pub sanction_keys: HashSet<(String, String, String, String)>,

    pub new_authorities: Vec<String>,
    pub renamed_authorities: Vec<String>,
    pub new_delegations: Vec<crate::domain::authority::Delegation>,
    pub new_committees: Vec<String>,
    pub amended_committees: Vec<String>,
    pub new_authorizations: Vec<String>,
    pub new_sanctions: Vec<String>,
    pub lifted_sanctions: Vec<String>,
    pub events: Vec<PendingEvent>,

    pub keys: HashMap<String, IssuerKey>,
    pub key_ids_by_public: HashMap<String, String>,
    pub new_keys: Vec<String>,
    pub changed_keys: Vec<String>,
    pub committee_records: HashMap<String, CommitteeRecord>,
    pub certificates: HashMap<String, CertificateEntry>,
    /// Status-list slots in use: `<authority>.<purpose>#<index>`.
    pub taken_slots: HashSet<String>,
    pub new_certificates: Vec<NewCertificate>,
    pub status_changes: Vec<StatusChange>,
    /// Sessions loaded (by id) and registered in this batch.
    pub sessions: HashMap<String, EvaluationSession>,
    pub new_sessions: Vec<String>,
    pub concluded_sessions: Vec<String>,
    /// Draw plans loaded (with the checkpoint note that seeds them, once signed) and new.
    pub plans: HashMap<String, (DrawPlan, Option<String>)>,
    pub new_plans: Vec<String>,
    /// Inspection ids that exist, and the inspections this batch records.
    pub inspection_ids: HashSet<String>,
    pub new_inspections: Vec<Inspection>,
    /// Notice ids that exist, and the notices this batch publishes.
    pub notice_ids: HashSet<String>,
    pub new_notices: Vec<Notice>,
    /// Registered supervisor credentials by number (issuer, standing), and this batch's.
    pub supervisors: HashMap<String, (String, SupervisorStanding)>,
    /// The regions of the committees whose sessions visits name.
    pub session_regions: HashMap<String, String>,
    pub new_visits: Vec<Visit>,
    pub visit_ids: HashSet<String>,
    pub new_supervisors: Vec<NewSupervisor>,
    pub supervisor_revocations: Vec<StatusChange>,
}

/// A supervisor credential to register.
#[derive(Debug, Clone)]
pub struct NewSupervisor {
    pub number: String,
    /// The credential's JCS text, proof included.
    pub credential: String,
    pub credential_sha256: String,
    pub holder_name: String,
    pub issuer: String,
    pub jurisdiction: String,
    pub valid_from: DateTime<Utc>,
    pub valid_until: DateTime<Utc>,
    pub key_id: String,
    pub logged_at: DateTime<Utc>,
}

/// A registered certificate as the batch sees it.
#[derive(Debug, Clone)]
pub struct CertificateEntry {
    pub registered: RegisteredCertificate,
    pub status_authority: String,
    /// Status changes recorded so far (the next one's sequence number).
    pub changes: usize,
}

#[derive(Debug, Clone)]
pub struct NewCertificate {
    pub number: String,
    /// The credential's JCS text, proof included.
    pub credential: String,
    pub credential_sha256: String,
    pub holder_name: String,
    pub issuer: String,
    pub status_authority: String,
    pub committee_id: String,
    pub key_id: String,
    pub revocation_index: Option<i64>,
    pub suspension_index: Option<i64>,
    pub logged_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct StatusChange {
    pub number: String,
    pub seq: i64,
    pub action: &'static str,
    pub reason: String,
    pub effective_at: DateTime<Utc>,
}

pub struct Context<'a> {
    pub actor: &'a Actor,
    pub now: DateTime<Utc>,
    pub today: Date,
}

/// The most bytes of an event's payload: an entry bundle gives each log entry a 16-bit length,
/// and the entry wraps its payload in a few hundred bytes more.
pub const MAX_PAYLOAD_BYTES: usize = 60_000;

/// An event too large for the log would make its entry bundle unreadable for ever.
fn check_entry_size(payload: &serde_json::Value) -> Result<(), Violation> {
    let size = crate::crypto::jcs(payload).len();
    if size > MAX_PAYLOAD_BYTES {
        return Err(Violation::new(
            ViolationKind::Invalid,
            "entry_too_large",
            "body",
            format!("该操作的日志条目过大（{size} 字节，上限 {MAX_PAYLOAD_BYTES}）"),
            format!("the operation's log entry would be {size} bytes; at most {MAX_PAYLOAD_BYTES}"),
        ));
    }
    Ok(())
}

/// A caller-chosen id must be non-empty and not name an existing entity.
fn unused_id<V>(id: &Option<String>, existing: &HashMap<String, V>) -> Result<(), Violation> {
    let Some(id) = id else { return Ok(()) };
    publish::non_empty("id", id)?;
    if existing.contains_key(id) {
        return Err(taken("id", id));
    }
    Ok(())
}

fn taken(field: &str, id: &str) -> Violation {
    Violation::conflict("duplicate_id", field, format!("编号“{id}”已被使用"), format!("the id {id:?} is already taken"))
}

fn sanction_key(s: &Sanction) -> (String, String, String, String) {
    let subject = s.subject.id.clone().or_else(|| s.subject.name.clone()).unwrap_or_default();
    (s.subject.kind.code().into(), subject, s.measure.code().into(), s.document_number.clone())
}

impl Batch {
    /// Rows loaded for authorizations: remember their length so only appended records are written.
    pub fn add_loaded_authorization(&mut self, a: Authorization) {
        self.loaded_records.insert(a.id.clone(), a.history.len());
        self.authorizations.insert(a.id.clone(), a);
    }

    /// Applies one operation to the batch, or says which rule it breaks (and changes nothing).
    pub fn apply(&mut self, cx: &Context<'_>, op: &Operation) -> Result<(), Violation> {
        publish::check_role(cx.actor, op)?;
        // Every string of every operation, whatever its kind; a credential has its own checks.
        let json = serde_json::to_value(op).expect("an operation is plain data");
        crate::domain::text::check_operation_text(&json, &["credential"])?;
        let (entity_type, id, before) = match op {
            Operation::CreateAuthority(new) => {
                publish::check_new_authority(&self.graph, cx.actor, new)?;
                let authority = Authority {
                    id: new.id.clone().unwrap_or_else(|| crate::publish::ids::new_id("auth_")),
                    name: new.name.trim().to_string(),
                    level: new.level,
                    region: new.region.clone(),
                    parent_id: Some(new.parent_id.clone()),
                };
                let id = authority.id.clone();
                self.graph.add_authority(authority);
                self.new_authorities.push(id.clone());
                ("authority", id, None)
            }
            Operation::AmendAuthority(a) => {
                publish::check_authority_amendment(&self.graph, cx.actor, a)?;
                let before = self.graph.get(&a.authority_id).map(|x| serde_json::json!(x));
                self.graph.rename(&a.authority_id, a.name.trim());
                if !self.new_authorities.contains(&a.authority_id) {
                    self.renamed_authorities.push(a.authority_id.clone());
                }
                ("authority", a.authority_id.clone(), before)
            }
            Operation::Delegate(d) => {
                let mut delegation = publish::check_delegation(&self.graph, cx.actor, d)?;
                let duplicate = self
                    .graph
                    .delegations_to(&d.authority_id)
                    .iter()
                    .any(|x| x.series == d.series && x.document_number == d.document_number);
                if duplicate {
                    return Err(Violation::duplicate_document("document_number", &d.document_number));
                }
                delegation.id = crate::publish::ids::new_id("dl_");
                let id = delegation.id.clone();
                self.graph.add_delegation(delegation.clone());
                self.new_delegations.push(delegation);
                ("delegation", id, None)
            }
            Operation::CreateCommittee(c) => {
                publish::check_new_committee(&self.graph, cx.actor, c)?;
                unused_id(&c.id, &self.committees)?;
                let key = (c.name.trim().to_string(), c.organizing_unit.credit_code.clone());
                if self.committee_keys.contains(&key) {
                    return Err(Violation::conflict(
                        "duplicate_committee",
                        "name",
                        "同一组建单位下已有同名评审委员会",
                        "a committee with this name and organizing unit already exists",
                    ));
                }
                let committee = Committee {
                    id: c.id.clone().unwrap_or_else(|| crate::publish::ids::new_id("cmt_")),
                    name: key.0.clone(),
                    kind: c.kind,
                    organizing_unit: c.organizing_unit.clone(),
                    authority_id: cx.actor.authority_id.clone(),
                    region: c.region.clone(),
                    domains: c.domains.clone(),
                    contact: c.contact.clone(),
                };
                let id = committee.id.clone();
                self.committee_keys.insert(key);
                self.committees.insert(id.clone(), committee);
                self.new_committees.push(id.clone());
                ("committee", id, None)
            }
            Operation::AmendCommittee(a) => {
                let committee = self
                    .committees
                    .get(&a.committee_id)
                    .ok_or_else(|| Violation::unknown("committee_id", "评审委员会", "committee", &a.committee_id))?;
                publish::check_committee_amendment(&self.graph, cx.actor, committee, a)?;
                let before = serde_json::json!(committee);
                let committee = self.committees.get_mut(&a.committee_id).expect("checked above");
                if let Some(name) = &a.name {
                    committee.name = name.trim().to_string();
                }
                if let Some(unit) = &a.organizing_unit {
                    committee.organizing_unit = unit.clone();
                }
                if let Some(domains) = &a.domains {
                    committee.domains = domains.clone();
                }
                if a.contact.is_some() {
                    committee.contact = a.contact.clone();
                }
                if !self.new_committees.contains(&a.committee_id) && !self.amended_committees.contains(&a.committee_id)
                {
                    self.amended_committees.push(a.committee_id.clone());
                }
                ("committee", a.committee_id.clone(), Some(before))
            }
            Operation::GrantAuthorization(g) => {
                let committee = self
                    .committees
                    .get(&g.committee_id)
                    .ok_or_else(|| Violation::unknown("committee_id", "评审委员会", "committee", &g.committee_id))?;
                let terms = publish::check_grant(&self.graph, cx.actor, committee, g)?;
                let key = (g.committee_id.clone(), g.series.clone(), g.document_number.clone());
                if self.grant_keys.contains(&key) {
                    return Err(Violation::duplicate_document("document_number", &g.document_number));
                }
                unused_id(&g.id, &self.authorizations)?;
                let authorization = Authorization {
                    id: g.id.clone().unwrap_or_else(|| crate::publish::ids::new_id("az_")),
                    committee_id: g.committee_id.clone(),
                    granted_by: cx.actor.authority_id.clone(),
                    document_number: g.document_number.clone(),
                    history: vec![record(
                        Action::Granted,
                        g.valid_from,
                        &g.document_number,
                        &g.note,
                        cx.now,
                        Some(terms),
                    )],
                };
                let id = authorization.id.clone();
                self.grant_keys.insert(key);
                self.authorizations.insert(id.clone(), authorization);
                self.new_authorizations.push(id.clone());
                ("authorization", id, None)
            }
            Operation::AmendAuthorization(m) => {
                let (authorization, committee) = self.authorization_and_committee(&m.authorization_id)?;
                let terms = publish::check_amendment(&self.graph, cx.actor, committee, authorization, m)?;
                self.append(
                    &m.authorization_id,
                    record(Action::Amended, m.effective_on, &m.document_number, &m.note, cx.now, Some(terms)),
                );
                ("authorization", m.authorization_id.clone(), None)
            }
            Operation::SuspendAuthorization(a)
            | Operation::ReinstateAuthorization(a)
            | Operation::WithdrawAuthorization(a) => {
                let action = match op {
                    Operation::SuspendAuthorization(_) => Action::Suspended,
                    Operation::ReinstateAuthorization(_) => Action::Reinstated,
                    _ => Action::Withdrawn,
                };
                let (authorization, _) = self.authorization_and_committee(&a.authorization_id)?;
                publish::check_act(&self.graph, cx.actor, authorization, action, a.effective_on, &a.document_number)?;
                self.append(
                    &a.authorization_id,
                    record(action, a.effective_on, &a.document_number, &a.note, cx.now, None),
                );
                ("authorization", a.authorization_id.clone(), None)
            }
            Operation::PublishSanction(s) => {
                let committee = match (s.subject.kind, &s.subject.id) {
                    (SubjectKind::Committee, Some(id)) => self.committees.get(id),
                    _ => None,
                };
                let region = publish::check_sanction(&self.graph, cx.actor, committee, s)?;
                unused_id(&s.id, &self.sanctions)?;
                let sanction = Sanction {
                    id: s.id.clone().unwrap_or_else(|| crate::publish::ids::new_id("sx_")),
                    subject: s.subject.clone(),
                    measure: s.measure,
                    region,
                    effective_from: s.effective_from,
                    effective_until: s.effective_until.or_else(|| publish::default_until(s.measure, s.effective_from)),
                    void_from: s.void_from,
                    decided_by: cx.actor.authority_id.clone(),
                    document_number: s.document_number.clone(),
                    legal_basis: s.legal_basis.clone(),
                    summary: s.summary.clone(),
                    logged_at: cx.now,
                    lift: None,
                };
                let key = sanction_key(&sanction);
                if self.sanction_keys.contains(&key) {
                    return Err(Violation::duplicate_document("document_number", &s.document_number));
                }
                let id = sanction.id.clone();
                self.sanction_keys.insert(key);
                self.sanctions.insert(id.clone(), sanction);
                self.new_sanctions.push(id.clone());
                ("sanction", id, None)
            }
            Operation::LiftSanction(l) => {
                let sanction = self
                    .sanctions
                    .get(&l.sanction_id)
                    .ok_or_else(|| Violation::unknown("sanction_id", "惩戒记录", "sanction", &l.sanction_id))?;
                publish::check_lift(&self.graph, cx.actor, sanction, l)?;
                let sanction = self.sanctions.get_mut(&l.sanction_id).expect("checked above");
                sanction.lift = Some(Lift {
                    effective_on: l.effective_on,
                    document_number: l.document_number.clone(),
                    reason: l.reason.clone(),
                    logged_at: cx.now,
                });
                if !self.new_sanctions.contains(&l.sanction_id) {
                    self.lifted_sanctions.push(l.sanction_id.clone());
                }
                ("sanction", l.sanction_id.clone(), None)
            }
            Operation::RegisterKey(k) => ("key", self.register_key(cx, k)?, None),
            Operation::RetireKey(k) | Operation::CompromiseKey(k) => {
                self.change_key(cx, k, matches!(op, Operation::CompromiseKey(_)))?;
                ("key", k.key_id.clone(), None)
            }
            Operation::IssueCertificate(c) => ("certificate", self.issue_certificate(cx, &c.credential)?, None),
            Operation::RegisterSession(s) => ("session", self.register_session(cx, s)?, None),
            Operation::PlanDraw(p) => ("draw", self.plan_draw(cx, p)?, None),
            Operation::RecordInspection(i) => ("inspection", self.record_inspection(cx, i)?, None),
            Operation::PublishNotice(n) => ("notice", self.publish_notice(cx, n)?, None),
            Operation::IssueSupervisorCredential(c) => ("supervisor", self.issue_supervisor(cx, &c.credential)?, None),
            Operation::RevokeSupervisorCredential(a) => ("supervisor", self.revoke_supervisor(cx, a)?, None),
            Operation::RecordVisit(v) => ("visit", self.record_visit(cx, v)?, None),
            Operation::PublishSessionOutcome(o) => {
                self.conclude_session(cx, o)?;
                ("session", o.session_id.clone(), None)
            }
            Operation::RevokeCertificate(a) | Operation::SuspendCertificate(a) | Operation::UnsuspendCertificate(a) => {
                let action = match op {
                    Operation::RevokeCertificate(_) => "revoked",
                    Operation::SuspendCertificate(_) => "suspended",
                    _ => "unsuspended",
                };
                self.change_certificate(cx, a, action)?;
                ("certificate", a.number.clone(), None)
            }
        };
        // The log keeps an issued credential's digest, not its text: the holder's name stays out.
        let issued = match op {
            Operation::IssueCertificate(_) => self
                .new_certificates
                .last()
                .map(|c| IssuedCertificate { number: c.number.clone(), sha256: c.credential_sha256.clone() }),
            Operation::IssueSupervisorCredential(_) => self
                .new_supervisors
                .last()
                .map(|c| IssuedCertificate { number: c.number.clone(), sha256: c.credential_sha256.clone() }),
            _ => None,
        };
        let payload = EventPayload::new(&id, Logged::of(op, &id, issued)).with_before(before);
        let json = payload.to_json();
        check_entry_size(&json)?;
        let touched = self.touched(&payload.operation, entity_type, &id);
        self.events.push(event(cx, op, &payload, json, touched));
        Ok(())
    }

    /// What a cached copy of the registry must drop after `logged`, known exactly here since
    /// the batch holds every entity an operation names.
    fn touched(&self, logged: &Logged, entity_type: &str, id: &str) -> Touched {
        let committee_of_authorization =
            |id: &str| self.authorizations.get(id).map(|a| Touched::Committee(a.committee_id.clone()));
        let of_sanction = |id: &str| {
            self.sanctions.get(id).map(|s| Touched::sanction_subject(s.subject.kind, s.subject.id.as_deref()))
        };
        let exact = match logged {
            Logged::CreateCommittee(_) | Logged::AmendCommittee(_) => Some(Touched::Committee(id.to_string())),
            Logged::GrantAuthorization(a) => Some(Touched::Committee(a.committee_id.clone())),
            Logged::AmendAuthorization(_)
            | Logged::SuspendAuthorization(_)
            | Logged::ReinstateAuthorization(_)
            | Logged::WithdrawAuthorization(_) => committee_of_authorization(id),
            Logged::PublishSanction(_) | Logged::LiftSanction(_) => of_sanction(id),
            Logged::RegisterKey(_) | Logged::RetireKey(_) | Logged::CompromiseKey(_) => Some(Touched::Keys),
            Logged::IssueCertificate(_)
            | Logged::RevokeCertificate(_)
            | Logged::SuspendCertificate(_)
            | Logged::UnsuspendCertificate(_) => Some(Touched::Certificate(id.to_string())),
            Logged::CreateAuthority(_) | Logged::AmendAuthority(_) | Logged::Delegate(_) => Some(Touched::Everything),
            Logged::RegisterSession(_) | Logged::PublishSessionOutcome(_) => Some(Touched::Sessions),
            Logged::PublishSnapshot(_)
            | Logged::PlanDraw(_)
            | Logged::RecordInspection(_)
            | Logged::PublishNotice(_)
            | Logged::IssueSupervisorCredential(_)
            | Logged::RevokeSupervisorCredential(_)
            | Logged::RecordVisit(_)
            | Logged::ReceiveComplaint(_)
            | Logged::UpdateComplaint(_) => Some(Touched::Nothing),
        };
        exact.unwrap_or_else(|| Touched::PartOfCommittee { entity_type: entity_type.to_string(), id: id.to_string() })
    }

    fn register_session(&mut self, cx: &Context<'_>, s: &NewSession) -> Result<String, Violation> {
        let record = self
            .committee_records
            .get(&s.committee_id)
            .ok_or_else(|| Violation::unknown("committee_id", "评委会", "committee", &s.committee_id))?;
        publish::supervises(&self.graph, cx.actor, "committee_id", &record.committee.authority_id)?;
        publish::organizes(cx.actor, "committee_id", &s.committee_id)?;
        session::check_registration(record, &self.graph, s, cx.today)?;
        unused_id(&s.id, &self.sessions)?;
        let id = s.id.clone().unwrap_or_else(|| crate::publish::ids::new_id("ses_"));
        let registered = EvaluationSession {
            id: id.clone(),
            committee_id: s.committee_id.clone(),
            series: s.series.clone(),
            specialty: s.specialty.clone(),
            levels: s.levels.clone(),
            meets_on: s.meets_on,
            applicants: s.applicants,
            pass_rate_cap: s.pass_rate_cap,
            registered_by: cx.actor.authority_id.clone(),
            logged_at: cx.now,
            outcome: None,
        };
        self.sessions.insert(id.clone(), registered);
        self.new_sessions.push(id.clone());
        Ok(id)
    }

    /// The authority that registered a session (or one above it) publishes its outcome.
    fn conclude_session(&mut self, cx: &Context<'_>, o: &SessionOutcomeSubmission) -> Result<(), Violation> {
        let registered = self
            .sessions
            .get(&o.session_id)
            .ok_or_else(|| Violation::unknown("session_id", "评审会议", "session", &o.session_id))?;
        publish::supervises(&self.graph, cx.actor, "session_id", &registered.registered_by)?;
        publish::organizes(cx.actor, "session_id", &registered.committee_id)?;
        session::check_outcome(registered, o, cx.today)?;
        let registered = self.sessions.get_mut(&o.session_id).expect("checked above");
        registered.outcome = Some(SessionOutcome {
            public_sector: o.public_sector,
            enterprise: o.enterprise,
            review_problems: o.review_problems,
            checklist: o.checklist.clone(),
            logged_at: cx.now,
        });
        self.concluded_sessions.push(o.session_id.clone());
        Ok(())
    }

    fn plan_draw(&mut self, cx: &Context<'_>, p: &NewDrawPlan) -> Result<String, Violation> {
        draw::check_plan(p)?;
        for (i, id) in p.eligible.iter().enumerate() {
            let field = format!("eligible[{i}]");
            let committee =
                self.committees.get(id).ok_or_else(|| Violation::unknown(&field, "评委会", "committee", id))?;
            publish::supervises(&self.graph, cx.actor, &field, &committee.authority_id)?;
        }
        unused_id(&p.id, &self.plans)?;
        let id = p.id.clone().unwrap_or_else(|| crate::publish::ids::new_id("draw_"));
        let plan = DrawPlan {
            id: id.clone(),
            name: p.name.clone(),
            authority_id: cx.actor.authority_id.clone(),
            eligible: p.eligible.clone(),
            count: p.count,
            document_number: p.document_number.clone(),
            logged_at: cx.now,
            // Known once the event is numbered (`flush`).
            log_index: 0,
        };
        self.plans.insert(id.clone(), (plan, None));
        self.new_plans.push(id.clone());
        Ok(id)
    }

    /// Published by the plan's authority (or one above it) for a committee its draw selected.
    fn record_inspection(&mut self, cx: &Context<'_>, i: &NewInspection) -> Result<String, Violation> {
        let (plan, note) = self
            .plans
            .get(&i.plan_id)
            .ok_or_else(|| Violation::unknown("plan_id", "抽查计划", "draw plan", &i.plan_id))?;
        publish::supervises(&self.graph, cx.actor, "plan_id", &plan.authority_id)?;
        let Some(note) = note else {
            return Err(Violation::conflict(
                "draw_pending",
                "plan_id",
                "抽查结果尚未产生：等待覆盖该计划的日志检查点签发（约一秒）",
                "the draw is not made yet: it waits for the log checkpoint covering the plan (about a second)",
            ));
        };
        draw::check_inspection(&draw::select(plan, &draw::seed(note)), i, cx.today)?;
        if let Some(id) = &i.id {
            publish::non_empty("id", id)?;
            if self.inspection_ids.contains(id) {
                return Err(taken("id", id));
            }
        }
        let id = i.id.clone().unwrap_or_else(|| crate::publish::ids::new_id("insp_"));
        self.inspection_ids.insert(id.clone());
        self.new_inspections.push(Inspection {
            id: id.clone(),
            plan_id: i.plan_id.clone(),
            committee_id: i.committee_id.clone(),
            inspected_on: i.inspected_on,
            result: i.result,
            summary: i.summary.clone(),
            inspected_by: cx.actor.authority_id.clone(),
            logged_at: cx.now,
        });
        Ok(id)
    }

    /// A supervisor credential the token's authority signed, for a jurisdiction within its own.
    fn issue_supervisor(&mut self, cx: &Context<'_>, credential: &serde_json::Value) -> Result<String, Violation> {
        let parsed = supervisor::parse_supervisor(credential).map_err(|e| {
            Violation::new(
                ViolationKind::Invalid,
                "malformed",
                &format!("credential.{}", e.field),
                format!("监管凭证格式错误：{}", e.message),
                e.message.clone(),
            )
        })?;
        if parsed.issuer != IssuerRef::Authority(cx.actor.authority_id.clone()) {
            return Err(Violation::new(
                ViolationKind::Forbidden,
                "not_the_issuer",
                "credential.issuer",
                "监管凭证应由本部门签发",
                "a supervisor credential is issued by the token's own authority",
            ));
        }
        let number = parsed.subject.credential_number.clone();
        if self.supervisors.contains_key(&number) {
            return Err(Violation::conflict(
                "duplicate_credential_number",
                "credential.credentialSubject.credentialNumber",
                "监管凭证编号已登记",
                "this supervisor credential number is already registered",
            ));
        }
        if parsed.valid_until < cx.now {
            let (zh, en) = ("监管凭证已过期", "the credential has expired");
            return Err(Violation::new(ViolationKind::Invalid, "expired", "credential.validUntil", zh, en));
        }
        let presented = Presented::new(credential.clone());
        let key = presented.public_key().and_then(|pk| self.key_ids_by_public.get(pk)).map(|id| &self.keys[id]);
        let evidence = Evidence {
            key,
            committee: None,
            graph: &self.graph,
            registered: None,
            holder_key: None,
            session: SessionEvidence::NotLooked,
            now: cx.now,
        };
        let outcome = verify_supervisor(&presented, &parsed, &evidence, &HolderClaim::default());
        let checked = [Step::Format, Step::Signature, Step::Key, Step::Issuer];
        let failed = outcome.checks.into_iter().find(|c| checked.contains(&c.step) && c.status == CheckStatus::Fail);
        if let Some(failed) = failed {
            return Err(Violation::new(
                ViolationKind::Invalid,
                &failed.code,
                "credential",
                failed.message_zh,
                failed.message_en,
            ));
        }
        let key_id = key.map(|k| k.id.clone()).expect("the key check passed");
        let text = String::from_utf8(crate::crypto::jcs(credential)).expect("JCS is UTF-8");
        let standing = SupervisorStanding {
            jurisdiction: parsed.subject.jurisdiction.clone(),
            valid_from: parsed.valid_from,
            valid_until: parsed.valid_until,
            revoked: false,
        };
        self.supervisors.insert(number.clone(), (cx.actor.authority_id.clone(), standing));
        self.new_supervisors.push(NewSupervisor {
            number: number.clone(),
            credential_sha256: presented.digest(),
            credential: text,
            holder_name: parsed.subject.holder_name.clone(),
            issuer: cx.actor.authority_id.clone(),
            jurisdiction: parsed.subject.jurisdiction.clone(),
            valid_from: parsed.valid_from,
            valid_until: parsed.valid_until,
            key_id,
            logged_at: cx.now,
        });
        Ok(number)
    }

    /// Revoked by the issuing authority or one above it; once.
    fn revoke_supervisor(&mut self, cx: &Context<'_>, a: &CertificateAct) -> Result<String, Violation> {
        let (issuer, standing) = self
            .supervisors
            .get_mut(&a.number)
            .ok_or_else(|| Violation::unknown("number", "监管凭证", "supervisor credential", &a.number))?;
        publish::supervises(&self.graph, cx.actor, "number", issuer)?;
        publish::non_empty("reason", &a.reason)?;
        if standing.revoked {
            return Err(Violation::conflict("already_revoked", "number", "监管凭证已撤销", "already revoked"));
        }
        standing.revoked = true;
        self.supervisor_revocations.push(StatusChange {
            number: a.number.clone(),
            seq: 0,
            action: "revoked",
            reason: a.reason.clone(),
            effective_at: a.effective_at.unwrap_or(cx.now),
        });
        Ok(a.number.clone())
    }

    /// On-site supervision of a session, by its registering authority (or one above it).
    fn record_visit(&mut self, cx: &Context<'_>, v: &NewVisit) -> Result<String, Violation> {
        let session = self
            .sessions
            .get(&v.session_id)
            .ok_or_else(|| Violation::unknown("session_id", "评审会议", "session", &v.session_id))?;
        publish::supervises(&self.graph, cx.actor, "session_id", &session.registered_by)?;
        // The committee's region: loaded for the session, or for a session registered in this batch.
        let id = &session.committee_id;
        let region = (self.session_regions.get(id))
            .or_else(|| self.committee_records.get(id).map(|r| &r.committee.region))
            .or_else(|| self.committees.get(id).map(|c| &c.region))
            .map_or("", String::as_str);
        supervisor::check_visit(v, session.meets_on, region, |n| self.supervisors.get(n).map(|(_, s)| s.clone()))?;
        if let Some(id) = &v.id {
            publish::non_empty("id", id)?;
            if self.visit_ids.contains(id) {
                return Err(taken("id", id));
            }
        }
        let id = v.id.clone().unwrap_or_else(|| crate::publish::ids::new_id("visit_"));
        self.visit_ids.insert(id.clone());
        self.new_visits.push(Visit {
            id: id.clone(),
            session_id: v.session_id.clone(),
            supervisors: v.supervisors.clone(),
            findings: v.findings.clone(),
            recorded_by: cx.actor.authority_id.clone(),
            logged_at: cx.now,
        });
        Ok(id)
    }

    /// A notice of a committee's results, by its supervising authority (or one above it).
    fn publish_notice(&mut self, cx: &Context<'_>, n: &NewNotice) -> Result<String, Violation> {
        let committee = self
            .committees
            .get(&n.committee_id)
            .ok_or_else(|| Violation::unknown("committee_id", "评委会", "committee", &n.committee_id))?;
        publish::supervises(&self.graph, cx.actor, "committee_id", &committee.authority_id)?;
        publish::organizes(cx.actor, "committee_id", &n.committee_id)?;
        if let Some(session_id) = &n.session_id {
            let session = self
                .sessions
                .get(session_id)
                .ok_or_else(|| Violation::unknown("session_id", "评审会议", "session", session_id))?;
            if session.committee_id != n.committee_id {
                return Err(Violation::conflict(
                    "session_of_another_committee",
                    "session_id",
                    "该评审会议不属于此评委会",
                    "the session belongs to another committee",
                ));
            }
        }
        let ends_on = notice::check_notice(n)?;
        if let Some(id) = &n.id {
            publish::non_empty("id", id)?;
            if self.notice_ids.contains(id) {
                return Err(taken("id", id));
            }
        }
        let id = n.id.clone().unwrap_or_else(|| crate::publish::ids::new_id("ntc_"));
        self.notice_ids.insert(id.clone());
        self.new_notices.push(Notice {
            id: id.clone(),
            committee_id: n.committee_id.clone(),
            session_id: n.session_id.clone(),
            title: n.title.clone(),
            published_on: n.published_on,
            working_days: n.working_days,
            ends_on,
            url: n.url.clone(),
            complaint_channel: n.complaint_channel.clone(),
            published_by: cx.actor.authority_id.clone(),
            logged_at: cx.now,
        });
        Ok(id)
    }

    fn register_key(&mut self, cx: &Context<'_>, k: &publish::NewKey) -> Result<String, Violation> {
        match &k.owner {
            IssuerRef::Authority(a) => {
                self.graph.get(a).ok_or_else(|| Violation::unknown("owner.id", "部门", "authority", a))?;
                publish::supervises(&self.graph, cx.actor, "owner.id", a)?;
            }
            IssuerRef::Committee(c) => {
                let record = self
                    .committee_records
                    .get(c)
                    .ok_or_else(|| Violation::unknown("owner.id", "评审委员会", "committee", c))?;
                publish::supervises(&self.graph, cx.actor, "owner.id", &record.committee.authority_id)?;
            }
        }
        if crate::crypto::multikey::decode_public(&k.public_key).is_err() {
            return Err(Violation::new(
                ViolationKind::Invalid,
                "invalid_public_key",
                "public_key",
                "公钥应为 Ed25519 Multikey（z6Mk…）",
                "public_key must be an Ed25519 Multikey (z6Mk…)",
            ));
        }
        if self.key_ids_by_public.contains_key(&k.public_key) {
            return Err(Violation::conflict(
                "duplicate_key",
                "public_key",
                "该公钥已注册",
                "this public key is already registered",
            ));
        }
        if k.valid_until.is_some_and(|u| u <= k.valid_from) {
            return Err(Violation::new(
                ViolationKind::Invalid,
                "window_inverted",
                "valid_until",
                "结束时间早于开始时间",
                "valid_until is not after valid_from",
            ));
        }
        let id = k.id.clone().unwrap_or_else(|| crate::publish::ids::new_id("key_"));
        if self.keys.contains_key(&id) {
            return Err(taken("id", &id));
        }
        let key = IssuerKey {
            id: id.clone(),
            owner: k.owner.clone(),
            public_key: k.public_key.clone(),
            valid_from: k.valid_from,
            valid_until: k.valid_until,
            retired_at: None,
            compromised_at: None,
            registered_by: cx.actor.authority_id.clone(),
        };
        self.key_ids_by_public.insert(key.public_key.clone(), id.clone());
        self.keys.insert(id.clone(), key);
        self.new_keys.push(id.clone());
        Ok(id)
    }

    fn change_key(&mut self, cx: &Context<'_>, k: &publish::KeyAct, compromised: bool) -> Result<(), Violation> {
        let key = self.keys.get(&k.key_id).ok_or_else(|| Violation::unknown("key_id", "密钥", "key", &k.key_id))?;
        publish::supervises(&self.graph, cx.actor, "key_id", &key.registered_by)?;
        if compromised && key.compromised_at.is_some() {
            return Err(Violation::conflict(
                "already_compromised",
                "key_id",
                "该密钥已标记为泄露",
                "the key is already marked compromised",
            ));
        }
        if !compromised && key.retired_at.is_some() {
            return Err(Violation::conflict("already_retired", "key_id", "该密钥已停用", "the key is already retired"));
        }
        let key = self.keys.get_mut(&k.key_id).expect("checked above");
        if compromised {
            key.compromised_at = Some(k.at);
        } else {
            key.retired_at = Some(k.at);
        }
        if !self.new_keys.contains(&k.key_id) && !self.changed_keys.contains(&k.key_id) {
            self.changed_keys.push(k.key_id.clone());
        }
        Ok(())
    }

    /// Registers a signed certificate; it must pass every check that does not need it to be
    /// registered already (format, signature, key, issuer, authority, sanctions).
    fn issue_certificate(&mut self, cx: &Context<'_>, credential: &serde_json::Value) -> Result<String, Violation> {
        let presented = Presented::new(credential.clone());
        let parsed = presented.parsed.as_ref().map_err(|e| {
            Violation::new(
                ViolationKind::Invalid,
                "malformed",
                &format!("credential.{}", e.field),
                format!("证书格式错误：{}", e.message),
                e.message.clone(),
            )
        })?;
        let number = parsed.subject.certificate_number.clone();
        if self.certificates.contains_key(&number) || self.new_certificates.iter().any(|c| c.number == number) {
            return Err(Violation::conflict(
                "duplicate_certificate_number",
                "credential.credentialSubject.certificateNumber",
                "证书编号已登记",
                "this certificate number is already registered",
            ));
        }
        let may_issue = match &parsed.issuer {
            IssuerRef::Authority(a) => *a == cx.actor.authority_id,
            IssuerRef::Committee(c) => self
                .committee_records
                .get(c)
                .is_some_and(|r| self.graph.is_self_or_ancestor(&cx.actor.authority_id, &r.committee.authority_id)),
        };
        if !may_issue {
            return Err(Violation::new(
                ViolationKind::Forbidden,
                "not_the_issuer",
                "credential.issuer",
                "凭证所属部门不是该证书的签发机构或其监管部门",
                "the credential's issuer is neither the token's authority nor a unit it supervises",
            ));
        }
        let key = presented.public_key().and_then(|pk| self.key_ids_by_public.get(pk)).map(|id| &self.keys[id]);
        let evidence = Evidence {
            key,
            committee: self.committee_records.get(&parsed.subject.committee_id),
            graph: &self.graph,
            registered: None,
            holder_key: None,
            session: match session::needed(&parsed.subject) {
                true => session::find_for(self.sessions.values(), &parsed.subject)
                    .map_or(SessionEvidence::NotFound, SessionEvidence::Found),
                false => SessionEvidence::NotLooked,
            },
            now: cx.now,
        };
        let outcome = verify(&presented, &evidence, &HolderClaim::default());
        let before_registry =
            [Step::Format, Step::Signature, Step::Key, Step::Issuer, Step::Authority, Step::Sanctions, Step::Session];
        let failed =
            outcome.checks.into_iter().find(|c| before_registry.contains(&c.step) && c.status == CheckStatus::Fail);
        if let Some(failed) = failed {
            let field = format!(
                "credential ({})",
                serde_json::to_value(failed.step).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default()
            );
            return Err(Violation::new(
                ViolationKind::Invalid,
                &failed.code,
                &field,
                failed.message_zh.clone(),
                failed.message_en.clone(),
            ));
        }
        let mut slots = Vec::new();
        let (mut revocation_index, mut suspension_index) = (None, None);
        for (purpose, url, index) in &parsed.status {
            let list = format!("{}.{purpose}", cx.actor.authority_id);
            if !url.ends_with(&format!("/api/v1/status-lists/{list}")) {
                return Err(Violation::new(
                    ViolationKind::Invalid,
                    "foreign_status_list",
                    "credential.credentialStatus",
                    format!("状态列表应为本登记的 /api/v1/status-lists/{list}"),
                    format!("the status list must be this registry's /api/v1/status-lists/{list}"),
                ));
            }
            let slot = format!("{list}#{index}");
            if self.taken_slots.contains(&slot) || slots.contains(&slot) {
                return Err(Violation::conflict(
                    "status_slot_taken",
                    "credential.credentialStatus",
                    format!("状态位 {slot} 已被占用"),
                    format!("status-list slot {slot} is already in use"),
                ));
            }
            slots.push(slot);
            let index = i64::try_from(*index).unwrap_or(i64::MAX);
            if purpose == "revocation" {
                revocation_index = Some(index);
            } else {
                suspension_index = Some(index);
            }
        }
        self.taken_slots.extend(slots);
        let canonical = String::from_utf8(crate::crypto::jcs(credential)).expect("JCS is UTF-8");
        self.new_certificates.push(NewCertificate {
            number: number.clone(),
            credential_sha256: presented.digest(),
            credential: canonical,
            holder_name: parsed.subject.holder_name.clone(),
            issuer: parsed.issuer.urn(),
            status_authority: cx.actor.authority_id.clone(),
            committee_id: parsed.subject.committee_id.clone(),
            key_id: key.map(|k| k.id.clone()).unwrap_or_default(),
            revocation_index,
            suspension_index,
            logged_at: cx.now,
        });
        Ok(number)
    }

    fn change_certificate(
        &mut self,
        cx: &Context<'_>,
        a: &publish::CertificateAct,
        action: &'static str,
    ) -> Result<(), Violation> {
        publish::non_empty("reason", &a.reason)?;
        let entry = self
            .certificates
            .get_mut(&a.number)
            .ok_or_else(|| Violation::unknown("number", "证书", "certificate", &a.number))?;
        if !self.graph.is_self_or_ancestor(&cx.actor.authority_id, &entry.status_authority) {
            return Err(Violation::new(
                ViolationKind::Forbidden,
                "not_supervisor",
                "number",
                "本部门无权变更该证书状态",
                "the acting authority may not change this certificate's status",
            ));
        }
        let refused = match (&entry.registered.state, action) {
            (CertificateState::Revoked { .. }, _) => {
                Some(("already_revoked", "证书已撤销", "the certificate is already revoked"))
            }
            (CertificateState::Suspended { .. }, "suspended") => {
                Some(("already_suspended", "证书已暂停", "the certificate is already suspended"))
            }
            (CertificateState::Active, "unsuspended") => {
                Some(("not_suspended", "证书未被暂停", "the certificate is not suspended"))
            }
            _ => None,
        };
        if let Some((code, zh, en)) = refused {
            return Err(Violation::conflict(code, "number", zh, en));
        }
        let since = a.effective_at.unwrap_or(cx.now);
        // The checks above leave only transitions that `after` applies from any live state.
        entry.registered.state = CertificateState::after([(action, a.reason.as_str(), since)]);
        self.status_changes.push(StatusChange {
            number: a.number.clone(),
            seq: entry.changes as i64,
            action,
            reason: a.reason.clone(),
            effective_at: since,
        });
        entry.changes += 1;
        Ok(())
    }

    fn authorization_and_committee(&self, id: &str) -> Result<(&Authorization, &Committee), Violation> {
        let authorization = self
            .authorizations
            .get(id)
            .ok_or_else(|| Violation::unknown("authorization_id", "评审权限", "authorization", id))?;
        let committee = self.committees.get(&authorization.committee_id).ok_or_else(|| {
            Violation::unknown("authorization_id", "评审委员会", "committee", &authorization.committee_id)
        })?;
        Ok((authorization, committee))
    }

    fn append(&mut self, id: &str, record: HistoryRecord) {
        self.authorizations.get_mut(id).expect("looked up by the caller").history.push(record);
    }

    /// Authorizations loaded from the database that gained records: (id, first new seq, records).
    pub fn appended_records(&self) -> Vec<(&str, i64, &HistoryRecord)> {
        let mut out = Vec::new();
        for (id, loaded) in &self.loaded_records {
            let a = &self.authorizations[id];
            for (seq, r) in a.history.iter().enumerate().skip(*loaded) {
                out.push((id.as_str(), seq as i64, r));
            }
        }
        out.sort_by_key(|(id, seq, _)| (*id, *seq));
        out
    }

    /// The results, with event sequence numbers from `first_seq` on.
    pub fn applied(&self, first_seq: i64) -> Vec<Applied> {
        self.events
            .iter()
            .enumerate()
            .map(|(i, e)| Applied {
                op: e.kind.clone(),
                id: e.entity_id.clone(),
                event_seq: first_seq + i as i64,
                back_dated: e.back_dated,
                touched: e.touched.clone(),
            })
            .collect()
    }
}

fn record(
    action: Action,
    effective_on: Date,
    document_number: &str,
    note: &Option<String>,
    now: DateTime<Utc>,
    terms: Option<Terms>,
) -> HistoryRecord {
    HistoryRecord {
        action,
        effective_on,
        document_number: document_number.to_string(),
        note: note.clone(),
        logged_at: now,
        terms,
    }
}

fn event(
    cx: &Context<'_>,
    op: &Operation,
    payload: &EventPayload,
    json: serde_json::Value,
    touched: Touched,
) -> PendingEvent {
    let effective_on = publish::effective_on(op);
    let back_dated =
        publish::back_dating_matters(op) && effective_on.is_some_and(|d| publish::is_back_dated(d, cx.today));
    PendingEvent {
        kind: payload.operation.kind().to_string(),
        entity_type: payload.operation.entity_type(),
        entity_id: payload.id.clone(),
        authority_id: cx.actor.authority_id.clone(),
        credential: cx.actor.credential.clone(),
        logged_at: cx.now,
        effective_on,
        back_dated,
        payload: json,
        touched,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::authority::AuthorityLevel;
    use crate::domain::authorization::{AuthorizationStatus, Scope};
    use crate::domain::catalog::Level;
    use crate::domain::committee::{CommitteeKind, OrganizingUnit};
    use crate::domain::publish::{AuthorizationAct, NewAuthorization, NewCommittee, Role};

    fn batch() -> Batch {
        let a = |id: &str, level, region: &str, parent: Option<&str>| Authority {
            id: id.into(),
            name: id.into(),
            level,
            region: region.into(),
            parent_id: parent.map(Into::into),
        };
        let graph = AuthorityGraph::new(
            vec![
                a("nat", AuthorityLevel::National, "000000", None),
                a("jilin", AuthorityLevel::Provincial, "220000", Some("nat")),
                a("changchun", AuthorityLevel::Municipal, "220100", Some("jilin")),
                a("yunnan", AuthorityLevel::Provincial, "530000", Some("nat")),
            ],
            vec![],
        );
        Batch { graph, ..Batch::default() }
    }

    fn actor(authority: &str, role: Role) -> Actor {
        Actor::new(authority, "test", role)
    }

    fn credit_code(n: u64) -> String {
        let first17 = format!("91220000{n:09}");
        format!("{first17}{}", crate::domain::credit_code::check_character(&first17).unwrap())
    }

    fn committee(id: &str, name: &str, region: &str) -> Operation {
        Operation::CreateCommittee(NewCommittee {
            id: Some(id.into()),
            name: name.into(),
            kind: CommitteeKind::Intermediate,
            organizing_unit: OrganizingUnit { name: "某单位".into(), credit_code: credit_code(1) },
            region: region.into(),
            domains: vec![],
            contact: None,
        })
    }

    fn grant(id: &str, committee: &str, document: &str) -> Operation {
        Operation::GrantAuthorization(NewAuthorization {
            id: Some(id.into()),
            committee_id: committee.into(),
            series: "ENGINEERING".into(),
            specialties: vec![],
            levels: vec![Level::Intermediate],
            scope: Scope::Regions { regions: vec!["220000".into()] },
            valid_from: Date::from_ymd_opt(2026, 1, 1).unwrap(),
            valid_until: Date::from_ymd_opt(2027, 12, 31).unwrap(),
            document_number: document.into(),
            note: None,
        })
    }

    fn withdraw(authorization: &str) -> Operation {
        Operation::WithdrawAuthorization(AuthorizationAct {
            authorization_id: authorization.into(),
            effective_on: Date::from_ymd_opt(2026, 6, 1).unwrap(),
            document_number: "吉人社〔2026〕9号".into(),
            note: None,
        })
    }

    /// Applies `ops` in order as `actor`; each result is `Ok` or the violation's code.
    fn apply(actor: &Actor, ops: &[Operation]) -> (Batch, Vec<Result<(), String>>) {
        let mut batch = batch();
        let cx = Context { actor, now: Utc::now(), today: Date::from_ymd_opt(2026, 3, 1).unwrap() };
        let results = ops.iter().map(|op| batch.apply(&cx, op).map_err(|v| v.code)).collect();
        (batch, results)
    }

    #[test]
    fn each_operation_is_checked_against_the_state_the_ones_before_it_left() {
        let jilin = actor("jilin", Role::Publisher);
        let ok = || Ok(());
        let err = |code: &str| Err(code.to_string());
        /// (what, actor, operations, each one's result)
        type Case<'a> = (&'a str, Actor, Vec<Operation>, Vec<Result<(), String>>);
        let cases: Vec<Case> = vec![
            (
                "a committee in the publisher's jurisdiction",
                jilin.clone(),
                vec![committee("c1", "甲", "220100")],
                vec![ok()],
            ),
            ("outside it", jilin.clone(), vec![committee("c1", "甲", "530100")], vec![err("outside_jurisdiction")]),
            (
                "the wrong role",
                actor("jilin", Role::Issuer),
                vec![committee("c1", "甲", "220100")],
                vec![err("wrong_role")],
            ),
            (
                "the same name and unit twice",
                jilin.clone(),
                vec![committee("c1", "甲", "220100"), committee("c2", "甲", "220100")],
                vec![ok(), err("duplicate_committee")],
            ),
            (
                "an id already taken",
                jilin.clone(),
                vec![committee("c1", "甲", "220100"), committee("c1", "乙", "220100")],
                vec![ok(), err("duplicate_id")],
            ),
            (
                "a grant to a committee created just before",
                jilin.clone(),
                vec![committee("c1", "甲", "220100"), grant("a1", "c1", "吉人社〔2026〕1号")],
                vec![ok(), ok()],
            ),
            ("a grant to no committee", jilin.clone(), vec![grant("a1", "nope", "x")], vec![err("unknown_reference")]),
            (
                "the same grant document twice",
                jilin.clone(),
                vec![committee("c1", "甲", "220100"), grant("a1", "c1", "d"), grant("a2", "c1", "d")],
                vec![ok(), ok(), err("duplicate_document_number")],
            ),
            (
                "a withdrawal of a grant made just before",
                jilin.clone(),
                vec![committee("c1", "甲", "220100"), grant("a1", "c1", "d"), withdraw("a1")],
                vec![ok(), ok(), ok()],
            ),
        ];
        for (name, actor, ops, expected) in cases {
            let (_, results) = apply(&actor, &ops);
            assert_eq!(results, expected, "{name}");
        }
    }

    #[test]
    fn a_refused_operation_changes_nothing() {
        let jilin = actor("jilin", Role::Publisher);
        let (batch, results) = apply(&jilin, &[committee("c1", "甲", "530100")]);
        assert!(results[0].is_err());
        assert!(batch.committees.is_empty() && batch.new_committees.is_empty() && batch.events.is_empty());
    }

    #[test]
    fn events_carry_the_typed_payload_and_what_they_touched() {
        let jilin = actor("jilin", Role::Publisher);
        let (batch, results) =
            apply(&jilin, &[committee("c1", "甲", "220100"), grant("a1", "c1", "d"), withdraw("a1")]);
        assert!(results.iter().all(Result::is_ok), "{results:?}");
        let kinds: Vec<&str> = batch.events.iter().map(|e| e.kind.as_str()).collect();
        assert_eq!(kinds, ["committee.created", "authorization.granted", "authorization.withdrawn"]);
        // The withdrawal names only the authorization; the batch knows its committee.
        assert!(batch.events.iter().all(|e| e.touched == Touched::Committee("c1".into())), "{:?}", batch.events);
        assert_eq!(batch.events[2].payload["v"], 2);
        assert_eq!(batch.events[2].payload["operation"]["op"], "withdraw_authorization");
        let withdrawn = &batch.authorizations["a1"];
        assert_eq!(withdrawn.status_on(Date::from_ymd_opt(2026, 7, 1).unwrap()), AuthorizationStatus::Withdrawn);
    }
}
