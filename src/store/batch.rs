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
use crate::domain::committee::Committee;
use crate::domain::publish::{self, Actor, Operation, Violation};
use crate::domain::sanction::{Lift, Sanction, SubjectKind};

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
    pub payload: String,
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
}

pub struct Context<'a> {
    pub actor: &'a Actor,
    pub now: DateTime<Utc>,
    pub today: Date,
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
        let (entity_type, id, before) = match op {
            Operation::CreateAuthority(new) => {
                publish::check_new_authority(&self.graph, cx.actor, new)?;
                let authority = Authority {
                    id: new.id.clone().unwrap_or_else(|| crate::tokens::new_id("auth_")),
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
                delegation.id = crate::tokens::new_id("dl_");
                let id = delegation.id.clone();
                self.graph.add_delegation(delegation.clone());
                self.new_delegations.push(delegation);
                ("delegation", id, None)
            }
            Operation::CreateCommittee(c) => {
                publish::check_new_committee(&self.graph, cx.actor, c)?;
                if let Some(id) = &c.id {
                    publish::non_empty("id", id)?;
                    if self.committees.contains_key(id) {
                        return Err(taken("id", id));
                    }
                }
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
                    id: c.id.clone().unwrap_or_else(|| crate::tokens::new_id("cmt_")),
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
                if let Some(id) = &g.id {
                    publish::non_empty("id", id)?;
                    if self.authorizations.contains_key(id) {
                        return Err(taken("id", id));
                    }
                }
                let authorization = Authorization {
                    id: g.id.clone().unwrap_or_else(|| crate::tokens::new_id("az_")),
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
                if let Some(id) = &s.id {
                    publish::non_empty("id", id)?;
                    if self.sanctions.contains_key(id) {
                        return Err(taken("id", id));
                    }
                }
                let sanction = Sanction {
                    id: s.id.clone().unwrap_or_else(|| crate::tokens::new_id("sx_")),
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
        };
        self.events.push(event(cx, op, entity_type, &id, before));
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
    entity_type: &'static str,
    id: &str,
    before: Option<serde_json::Value>,
) -> PendingEvent {
    let effective_on = publish::effective_on(op);
    let back_dated =
        publish::back_dating_matters(op) && effective_on.is_some_and(|d| publish::is_back_dated(d, cx.today));
    let mut payload = serde_json::json!({ "id": id, "operation": op });
    if let Some(before) = before {
        payload["before"] = before;
    }
    PendingEvent {
        kind: op.event_kind().to_string(),
        entity_type,
        entity_id: id.to_string(),
        authority_id: cx.actor.authority_id.clone(),
        credential: cx.actor.credential.clone(),
        logged_at: cx.now,
        effective_on,
        back_dated,
        payload: payload.to_string(),
    }
}
