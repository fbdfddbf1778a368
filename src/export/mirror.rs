//! A mirror of the public tables, kept up to date from the change feed: load a snapshot set's
//! NDJSON files, apply every entry from the manifest's `log_size` on, and the tables encode to
//! the bytes the next snapshot holds. Each event is applied as the publishing code applied it
//! (the publisher from the event's authority, times from its `logged_at`), opening the
//! commitments of personal data with the disclosures the feed serves beside them.
//!
//! Pure: no I/O, so any client can run the same fold over what it downloaded.

use std::collections::BTreeMap;

use crate::domain::Date;
use crate::domain::authority::{Authority, Delegation};
use crate::domain::authorization::{Action, Authorization, HistoryRecord, Terms};
use crate::domain::certificate::IssuerKey;
use crate::domain::code::Code;
use crate::domain::committee::Committee;
use crate::domain::draw::{DrawPlan, Inspection};
use crate::domain::log::Disclosure;
use crate::domain::notice::{self, Notice};
use crate::domain::sanction::{Lift, Sanction, SubjectKind};
use crate::domain::session::{EvaluationSession, SessionOutcome};
use crate::domain::supervisor::Visit;
use crate::domain::verification::CertificateState;
use crate::publish::event::{EventPayload, Logged};
use crate::store::{CertificateStatusRow, ExportRow, Table};

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum MirrorError {
    #[error("{table} 第 {line} 行无法读取 / {table} line {line} cannot be read: {reason}")]
    Row { table: &'static str, line: usize, reason: String },
    #[error("日志条目 {index} 无法重放 / log entry {index} cannot be replayed: {reason}")]
    Entry { index: i64, reason: String },
}

/// The public tables, keyed by id in byte order (the order exports write them in).
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Mirror {
    authorities: BTreeMap<String, Authority>,
    delegations: BTreeMap<String, Delegation>,
    committees: BTreeMap<String, Committee>,
    authorizations: BTreeMap<String, Authorization>,
    sanctions: BTreeMap<String, Sanction>,
    keys: BTreeMap<String, IssuerKey>,
    certificates: BTreeMap<String, CertificateStatusRow>,
    sessions: BTreeMap<String, EvaluationSession>,
    notices: BTreeMap<String, Notice>,
    draws: BTreeMap<String, DrawPlan>,
    inspections: BTreeMap<String, Inspection>,
    visits: BTreeMap<String, Visit>,
}

impl Mirror {
    /// Loads one table's NDJSON file.
    pub fn load(&mut self, table: Table, ndjson: &str) -> Result<(), MirrorError> {
        for (i, line) in ndjson.lines().enumerate().filter(|(_, l)| !l.is_empty()) {
            let error =
                |e: serde_json::Error| MirrorError::Row { table: table.code(), line: i + 1, reason: e.to_string() };
            match table {
                Table::Authorities => {
                    insert(&mut self.authorities, serde_json::from_str(line).map_err(error)?, |a| &a.id)
                }
                Table::Delegations => {
                    insert(&mut self.delegations, serde_json::from_str(line).map_err(error)?, |d| &d.id)
                }
                Table::Committees => {
                    insert(&mut self.committees, serde_json::from_str(line).map_err(error)?, |c| &c.id)
                }
                Table::Authorizations => {
                    insert(&mut self.authorizations, serde_json::from_str(line).map_err(error)?, |a| &a.id)
                }
                Table::Sanctions => insert(&mut self.sanctions, serde_json::from_str(line).map_err(error)?, |s| &s.id),
                Table::Keys => insert(&mut self.keys, serde_json::from_str(line).map_err(error)?, |k| &k.id),
                Table::Certificates => {
                    insert(&mut self.certificates, serde_json::from_str(line).map_err(error)?, |c| &c.number)
                }
                Table::Sessions => insert(&mut self.sessions, serde_json::from_str(line).map_err(error)?, |s| &s.id),
                Table::Notices => insert(&mut self.notices, serde_json::from_str(line).map_err(error)?, |n| &n.id),
                Table::Draws => insert(&mut self.draws, serde_json::from_str(line).map_err(error)?, |d| &d.id),
                Table::Inspections => {
                    insert(&mut self.inspections, serde_json::from_str(line).map_err(error)?, |i| &i.id)
                }
                Table::Visits => insert(&mut self.visits, serde_json::from_str(line).map_err(error)?, |v| &v.id),
            }
        }
        Ok(())
    }

    /// One table's rows, in the order exports write them.
    pub fn rows(&self, table: Table) -> Box<dyn Iterator<Item = ExportRow> + '_> {
        match table {
            Table::Authorities => Box::new(self.authorities.values().cloned().map(ExportRow::Authority)),
            Table::Delegations => Box::new(self.delegations.values().cloned().map(ExportRow::Delegation)),
            Table::Committees => Box::new(self.committees.values().cloned().map(ExportRow::Committee)),
            Table::Authorizations => Box::new(self.authorizations.values().cloned().map(ExportRow::Authorization)),
            Table::Sanctions => Box::new(self.sanctions.values().cloned().map(ExportRow::Sanction)),
            Table::Keys => Box::new(self.keys.values().cloned().map(ExportRow::Key)),
            Table::Certificates => Box::new(self.certificates.values().cloned().map(ExportRow::Certificate)),
            Table::Sessions => Box::new(self.sessions.values().cloned().map(ExportRow::Session)),
            Table::Notices => Box::new(self.notices.values().cloned().map(ExportRow::Notice)),
            Table::Draws => Box::new(self.draws.values().cloned().map(ExportRow::Draw)),
            Table::Inspections => Box::new(self.inspections.values().cloned().map(ExportRow::Inspection)),
            Table::Visits => Box::new(self.visits.values().cloned().map(ExportRow::Visit)),
        }
    }

    /// Applies one log entry (the event as `/api/v1/changes` serves it) with its disclosures.
    pub fn apply(&mut self, entry: &serde_json::Value, disclosures: &[Disclosure]) -> Result<(), MirrorError> {
        let event: Entry = serde_json::from_value(entry.clone())
            .map_err(|e| MirrorError::Entry { index: entry["index"].as_i64().unwrap_or(-1), reason: e.to_string() })?;
        let fail = |reason: String| MirrorError::Entry { index: event.index, reason };
        let mut payload = event.payload.clone();
        for d in disclosures {
            let slot = payload.pointer_mut(&d.path).ok_or_else(|| fail(format!("no commitment at {}", d.path)))?;
            *slot = serde_json::Value::String(d.value.clone());
        }
        let payload: EventPayload = serde_json::from_value(payload)
            .map_err(|e| fail(format!("not a typed (v2) payload, or a commitment left unopened: {e}")))?;
        self.apply_logged(&event, payload.id, payload.operation).map_err(fail)
    }

    fn apply_logged(&mut self, event: &Entry, id: String, logged: Logged) -> Result<(), String> {
        let by = event.authority.clone();
        let at = event.logged_at;
        match logged {
            Logged::CreateAuthority(a) => {
                let authority = Authority {
                    id: a.id,
                    name: a.name.trim().to_string(),
                    level: a.level,
                    region: a.region,
                    parent_id: a.parent_id,
                };
                self.authorities.insert(authority.id.clone(), authority);
            }
            Logged::AmendAuthority(a) => {
                found(&mut self.authorities, &a.authority_id)?.name = a.name.trim().to_string()
            }
            Logged::Delegate(d) => {
                let delegation = Delegation {
                    id: id.clone(),
                    authority_id: d.authority_id,
                    delegated_by: by,
                    series: d.series,
                    specialties: d.specialties,
                    levels: d.levels,
                    valid_from: d.valid_from,
                    valid_until: d.valid_until,
                    document_number: d.document_number,
                };
                self.delegations.insert(id, delegation);
            }
            Logged::CreateCommittee(c) => {
                let committee = Committee {
                    id: id.clone(),
                    name: c.name.trim().to_string(),
                    kind: c.kind,
                    organizing_unit: c.organizing_unit,
                    authority_id: by,
                    region: c.region,
                    domains: c.domains,
                    contact: c.contact,
                };
                self.committees.insert(id, committee);
            }
            Logged::AmendCommittee(a) => {
                let committee = found(&mut self.committees, &a.committee_id)?;
                if let Some(name) = a.name {
                    committee.name = name.trim().to_string();
                }
                if let Some(unit) = a.organizing_unit {
                    committee.organizing_unit = unit;
                }
                if let Some(domains) = a.domains {
                    committee.domains = domains;
                }
                if a.contact.is_some() {
                    committee.contact = a.contact;
                }
            }
            Logged::GrantAuthorization(g) => {
                let terms = Terms {
                    series: g.series,
                    specialties: g.specialties,
                    levels: g.levels,
                    scope: g.scope,
                    valid_from: g.valid_from,
                    valid_until: g.valid_until,
                };
                let authorization = Authorization {
                    id: id.clone(),
                    committee_id: g.committee_id,
                    granted_by: by,
                    document_number: g.document_number.clone(),
                    history: vec![record(Action::Granted, g.valid_from, g.document_number, g.note, at, Some(terms))],
                };
                self.authorizations.insert(id, authorization);
            }
            Logged::AmendAuthorization(m) => {
                let authorization = found(&mut self.authorizations, &m.authorization_id)?;
                let terms = Terms {
                    series: authorization.terms_on(m.effective_on).series.clone(),
                    specialties: m.specialties,
                    levels: m.levels,
                    scope: m.scope,
                    valid_from: m.valid_from,
                    valid_until: m.valid_until,
                };
                authorization.history.push(record(
                    Action::Amended,
                    m.effective_on,
                    m.document_number,
                    m.note,
                    at,
                    Some(terms),
                ));
            }
            Logged::SuspendAuthorization(a) | Logged::ReinstateAuthorization(a) | Logged::WithdrawAuthorization(a) => {
                let action = match event.kind.as_str() {
                    "authorization.suspended" => Action::Suspended,
                    "authorization.reinstated" => Action::Reinstated,
                    _ => Action::Withdrawn,
                };
                found(&mut self.authorizations, &a.authorization_id)?.history.push(record(
                    action,
                    a.effective_on,
                    a.document_number,
                    a.note,
                    at,
                    None,
                ));
            }
            Logged::PublishSanction(s) => {
                let region = match (s.subject.kind, &s.subject.id) {
                    (SubjectKind::Committee, Some(c)) => found(&mut self.committees, c)?.region.clone(),
                    _ => s.region.clone().ok_or("a sanction without a committee names its region")?,
                };
                let sanction = Sanction {
                    id: id.clone(),
                    subject: s.subject,
                    measure: s.measure,
                    region,
                    effective_from: s.effective_from,
                    effective_until: s
                        .effective_until
                        .or_else(|| crate::domain::publish::default_until(s.measure, s.effective_from)),
                    void_from: s.void_from,
                    decided_by: by,
                    document_number: s.document_number,
                    legal_basis: s.legal_basis,
                    summary: s.summary,
                    logged_at: at,
                    lift: None,
                };
                self.sanctions.insert(id, sanction);
            }
            Logged::LiftSanction(l) => {
                found(&mut self.sanctions, &l.sanction_id)?.lift = Some(Lift {
                    effective_on: l.effective_on,
                    document_number: l.document_number,
                    reason: l.reason,
                    logged_at: at,
                });
            }
            Logged::RegisterKey(k) => {
                let key = IssuerKey {
                    id: id.clone(),
                    owner: k.owner,
                    public_key: k.public_key,
                    valid_from: k.valid_from,
                    valid_until: k.valid_until,
                    retired_at: None,
                    compromised_at: None,
                    registered_by: by,
                };
                self.keys.insert(id, key);
            }
            Logged::RetireKey(k) => found(&mut self.keys, &k.key_id)?.retired_at = Some(k.at),
            Logged::CompromiseKey(k) => found(&mut self.keys, &k.key_id)?.compromised_at = Some(k.at),
            Logged::IssueCertificate(c) => {
                let row = CertificateStatusRow {
                    number: c.number.clone(),
                    credential_sha256: c.sha256,
                    state: CertificateState::Active,
                };
                self.certificates.insert(c.number, row);
            }
            Logged::RevokeCertificate(a) | Logged::SuspendCertificate(a) | Logged::UnsuspendCertificate(a) => {
                let action = event.kind.strip_prefix("certificate.").unwrap_or_default();
                let row = found(&mut self.certificates, &a.number)?;
                row.state = row.state.clone().then(action, &a.reason, a.effective_at.unwrap_or(at));
            }
            Logged::RegisterSession(s) => {
                let session = EvaluationSession {
                    id: id.clone(),
                    committee_id: s.committee_id,
                    series: s.series,
                    specialty: s.specialty,
                    levels: s.levels,
                    meets_on: s.meets_on,
                    applicants: s.applicants,
                    pass_rate_cap: s.pass_rate_cap,
                    registered_by: by,
                    logged_at: at,
                    outcome: None,
                };
                self.sessions.insert(id, session);
            }
            Logged::PublishSessionOutcome(o) => {
                found(&mut self.sessions, &o.session_id)?.outcome = Some(SessionOutcome {
                    public_sector: o.public_sector,
                    enterprise: o.enterprise,
                    review_problems: o.review_problems,
                    checklist: o.checklist,
                    logged_at: at,
                });
            }
            Logged::PublishNotice(n) => {
                let ends_on = notice::check_notice(&n).map_err(|v| format!("{}: {}", v.field, v.message_en))?;
                let notice = Notice {
                    id: id.clone(),
                    committee_id: n.committee_id,
                    session_id: n.session_id,
                    title: n.title,
                    published_on: n.published_on,
                    working_days: n.working_days,
                    ends_on,
                    url: n.url,
                    complaint_channel: n.complaint_channel,
                    published_by: by,
                    logged_at: at,
                };
                self.notices.insert(id, notice);
            }
            Logged::PlanDraw(p) => {
                let plan = DrawPlan {
                    id: id.clone(),
                    name: p.name,
                    authority_id: by,
                    eligible: p.eligible,
                    count: p.count,
                    document_number: p.document_number,
                    logged_at: at,
                    log_index: event.index as u64,
                };
                self.draws.insert(id, plan);
            }
            Logged::RecordInspection(i) => {
                let inspection = Inspection {
                    id: id.clone(),
                    plan_id: i.plan_id,
                    committee_id: i.committee_id,
                    inspected_on: i.inspected_on,
                    result: i.result,
                    summary: i.summary,
                    inspected_by: by,
                    logged_at: at,
                };
                self.inspections.insert(id, inspection);
            }
            Logged::RecordVisit(v) => {
                let visit = Visit {
                    id: id.clone(),
                    session_id: v.session_id,
                    supervisors: v.supervisors,
                    findings: v.findings,
                    recorded_by: by,
                    logged_at: at,
                };
                self.visits.insert(id, visit);
            }
            // Supervisor credentials carry their holder's name and complaints are not public:
            // neither is an exported table.
            Logged::PublishSnapshot(_)
            | Logged::IssueSupervisorCredential(_)
            | Logged::RevokeSupervisorCredential(_)
            | Logged::ReceiveComplaint(_)
            | Logged::UpdateComplaint(_) => {}
        }
        Ok(())
    }
}

/// The fields of a log entry (`domain::log::Event::entry`) a replay needs.
#[derive(Debug, serde::Deserialize)]
struct Entry {
    index: i64,
    kind: String,
    /// The publishing authority.
    authority: String,
    logged_at: chrono::DateTime<chrono::Utc>,
    payload: serde_json::Value,
}

fn insert<T>(map: &mut BTreeMap<String, T>, value: T, key: impl Fn(&T) -> &String) {
    map.insert(key(&value).clone(), value);
}

fn found<'a, T>(map: &'a mut BTreeMap<String, T>, id: &str) -> Result<&'a mut T, String> {
    map.get_mut(id).ok_or_else(|| format!("{id} is not in the mirror"))
}

fn record(
    action: Action,
    effective_on: Date,
    document_number: String,
    note: Option<String>,
    logged_at: chrono::DateTime<chrono::Utc>,
    terms: Option<Terms>,
) -> HistoryRecord {
    HistoryRecord { action, effective_on, document_number, note, logged_at, terms }
}
