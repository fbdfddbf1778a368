//! Row shapes shared by both databases, and their conversion to domain types.
//! Enumerations are stored as their stable codes; sets and terms as JSON.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use sqlx::types::Json;

use crate::domain::Date;
use crate::domain::authority::{Authority, AuthorityLevel, Delegation};
use crate::domain::authorization::{Action, Authorization, HistoryRecord, Terms};
use crate::domain::catalog::Level;
use crate::domain::code::Code;
use crate::domain::committee::{Committee, CommitteeKind, OrganizingUnit};
use crate::domain::publish::Role;
use crate::domain::sanction::{Lift, Measure, Sanction, Subject, SubjectKind};
use crate::store::StoreError;
use crate::store::{StoredCheckpoint, TokenInfo};

fn corrupt(what: &str, value: &str) -> StoreError {
    StoreError::Corrupt(format!("unknown {what} code {value:?} in the database"))
}

#[derive(sqlx::FromRow)]
pub struct AuthorityRow {
    pub id: String,
    pub name: String,
    pub level: String,
    pub region: String,
    pub parent_id: Option<String>,
}

impl TryFrom<AuthorityRow> for Authority {
    type Error = StoreError;
    fn try_from(r: AuthorityRow) -> Result<Self, StoreError> {
        let level = AuthorityLevel::parse(&r.level).ok_or_else(|| corrupt("authority level", &r.level))?;
        Ok(Authority { id: r.id, name: r.name, level, region: r.region, parent_id: r.parent_id })
    }
}

#[derive(sqlx::FromRow)]
pub struct DelegationRow {
    pub id: String,
    pub authority_id: String,
    pub delegated_by: String,
    pub series: String,
    pub specialties: Json<Vec<String>>,
    pub levels: Json<Vec<Level>>,
    pub valid_from: Date,
    pub valid_until: Option<Date>,
    pub document_number: String,
}

impl From<DelegationRow> for Delegation {
    fn from(r: DelegationRow) -> Self {
        Delegation {
            id: r.id,
            authority_id: r.authority_id,
            delegated_by: r.delegated_by,
            series: r.series,
            specialties: r.specialties.0,
            levels: r.levels.0,
            valid_from: r.valid_from,
            valid_until: r.valid_until,
            document_number: r.document_number,
        }
    }
}

#[derive(sqlx::FromRow)]
pub struct CommitteeRow {
    pub id: String,
    pub name: String,
    pub kind: String,
    pub unit_name: String,
    pub unit_credit_code: String,
    pub authority_id: String,
    pub region: String,
    pub domains: Json<Vec<String>>,
    pub contact: Option<String>,
}

impl TryFrom<CommitteeRow> for Committee {
    type Error = StoreError;
    fn try_from(r: CommitteeRow) -> Result<Self, StoreError> {
        let kind = CommitteeKind::parse(&r.kind).ok_or_else(|| corrupt("committee kind", &r.kind))?;
        Ok(Committee {
            id: r.id,
            name: r.name,
            kind,
            organizing_unit: OrganizingUnit { name: r.unit_name, credit_code: r.unit_credit_code },
            authority_id: r.authority_id,
            region: r.region,
            domains: r.domains.0,
            contact: r.contact,
        })
    }
}

/// An authorization joined with one of its history records.
#[derive(sqlx::FromRow)]
pub struct AuthorizationRecordRow {
    pub id: String,
    pub committee_id: String,
    pub granted_by: String,
    pub authorization_document: String,
    pub action: String,
    pub effective_on: Date,
    pub document_number: String,
    pub note: Option<String>,
    pub terms: Option<Json<Terms>>,
    pub logged_at: DateTime<Utc>,
}

/// Folds joined rows (ordered by authorization, then sequence) into authorizations,
/// grouped by committee id.
pub fn fold_authorizations(
    rows: Vec<AuthorizationRecordRow>,
) -> Result<BTreeMap<String, Vec<Authorization>>, StoreError> {
    let mut by_committee: BTreeMap<String, Vec<Authorization>> = BTreeMap::new();
    for r in rows {
        let action = Action::parse(&r.action).ok_or_else(|| corrupt("authorization action", &r.action))?;
        let record = HistoryRecord {
            action,
            effective_on: r.effective_on,
            document_number: r.document_number,
            note: r.note,
            logged_at: r.logged_at,
            terms: r.terms.map(|t| t.0),
        };
        let list = by_committee.entry(r.committee_id.clone()).or_default();
        match list.last_mut() {
            Some(a) if a.id == r.id => a.history.push(record),
            _ => list.push(Authorization {
                id: r.id,
                committee_id: r.committee_id,
                granted_by: r.granted_by,
                document_number: r.authorization_document,
                history: vec![record],
            }),
        }
    }
    Ok(by_committee)
}

#[derive(sqlx::FromRow)]
pub struct SanctionRow {
    pub id: String,
    pub subject_kind: String,
    pub subject_id: Option<String>,
    pub subject_name: Option<String>,
    pub measure: String,
    pub region: String,
    pub effective_from: Date,
    pub effective_until: Option<Date>,
    pub void_from: Option<Date>,
    pub decided_by: String,
    pub document_number: String,
    pub legal_basis: String,
    pub summary: String,
    pub logged_at: DateTime<Utc>,
    pub lift_effective_on: Option<Date>,
    pub lift_document_number: Option<String>,
    pub lift_reason: Option<String>,
    pub lift_logged_at: Option<DateTime<Utc>>,
}

impl TryFrom<SanctionRow> for Sanction {
    type Error = StoreError;
    fn try_from(r: SanctionRow) -> Result<Self, StoreError> {
        let kind = SubjectKind::parse(&r.subject_kind).ok_or_else(|| corrupt("subject kind", &r.subject_kind))?;
        let measure = Measure::parse(&r.measure).ok_or_else(|| corrupt("measure", &r.measure))?;
        let lift = match (r.lift_effective_on, r.lift_document_number, r.lift_logged_at) {
            (Some(effective_on), Some(document_number), Some(logged_at)) => {
                Some(Lift { effective_on, document_number, reason: r.lift_reason, logged_at })
            }
            _ => None,
        };
        Ok(Sanction {
            id: r.id,
            subject: Subject { kind, id: r.subject_id, name: r.subject_name },
            measure,
            region: r.region,
            effective_from: r.effective_from,
            effective_until: r.effective_until,
            void_from: r.void_from,
            decided_by: r.decided_by,
            document_number: r.document_number,
            legal_basis: r.legal_basis,
            summary: r.summary,
            logged_at: r.logged_at,
            lift,
        })
    }
}

pub const SANCTION_COLUMNS: &str = "s.id, s.subject_kind, s.subject_id, s.subject_name, s.measure, s.region, \
    s.effective_from, s.effective_until, s.void_from, s.decided_by, s.document_number, s.legal_basis, \
    s.summary, s.logged_at, l.effective_on AS lift_effective_on, l.document_number AS lift_document_number, \
    l.reason AS lift_reason, l.logged_at AS lift_logged_at \
    FROM sanctions s LEFT JOIN sanction_lifts l ON l.sanction_id = s.id";

pub const AUTHORIZATION_COLUMNS: &str = "a.id, a.committee_id, a.granted_by, a.document_number AS authorization_document, \
    r.action, r.effective_on, r.document_number, r.note, r.terms, r.logged_at \
    FROM authorizations a JOIN authorization_records r ON r.authorization_id = a.id";

pub const COMMITTEE_COLUMNS: &str =
    "id, name, kind, unit_name, unit_credit_code, authority_id, region, domains, contact FROM committees";

#[derive(sqlx::FromRow)]
pub struct IssuerKeyRow {
    pub id: String,
    pub owner_kind: String,
    pub owner_id: String,
    pub public_key: String,
    pub valid_from: DateTime<Utc>,
    pub valid_until: Option<DateTime<Utc>>,
    pub retired_at: Option<DateTime<Utc>>,
    pub compromised_at: Option<DateTime<Utc>>,
    pub registered_by: String,
}

impl TryFrom<IssuerKeyRow> for crate::domain::certificate::IssuerKey {
    type Error = StoreError;
    fn try_from(r: IssuerKeyRow) -> Result<Self, StoreError> {
        use crate::domain::certificate::IssuerRef;
        let owner = match r.owner_kind.as_str() {
            "authority" => IssuerRef::Authority(r.owner_id),
            "committee" => IssuerRef::Committee(r.owner_id),
            other => return Err(StoreError::Corrupt(format!("unknown key owner kind {other:?}"))),
        };
        Ok(crate::domain::certificate::IssuerKey {
            id: r.id,
            owner,
            public_key: r.public_key,
            valid_from: r.valid_from,
            valid_until: r.valid_until,
            retired_at: r.retired_at,
            compromised_at: r.compromised_at,
            registered_by: r.registered_by,
        })
    }
}

pub const KEY_COLUMNS: &str = "id, owner_kind, owner_id, public_key, valid_from, valid_until, retired_at, compromised_at, registered_by FROM issuer_keys";

#[derive(sqlx::FromRow)]
pub struct TokenRow {
    pub id: String,
    pub authority_id: String,
    pub role: String,
    pub label: Option<String>,
    pub created_at: DateTime<Utc>,
    pub created_by: String,
    pub revoked_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub committee_id: Option<String>,
}

impl TryFrom<TokenRow> for TokenInfo {
    type Error = StoreError;
    fn try_from(r: TokenRow) -> Result<Self, StoreError> {
        let role = Role::parse(&r.role)
            .ok_or_else(|| StoreError::Corrupt(format!("unknown role {:?} in the database", r.role)))?;
        Ok(TokenInfo {
            id: r.id,
            authority_id: r.authority_id,
            role,
            label: r.label,
            created_at: r.created_at,
            created_by: r.created_by,
            revoked_at: r.revoked_at,
            last_used_at: r.last_used_at,
            committee_id: r.committee_id,
        })
    }
}

pub const TOKEN_COLUMNS: &str =
    "id, authority_id, role, label, created_at, created_by, revoked_at, last_used_at, committee_id FROM api_tokens";

#[derive(sqlx::FromRow)]
pub struct EventRow {
    pub seq: i64,
    pub kind: String,
    pub entity_type: String,
    pub entity_id: String,
    pub authority_id: String,
    pub credential: String,
    pub logged_at: DateTime<Utc>,
    pub effective_on: Option<crate::domain::Date>,
    pub back_dated: bool,
    pub payload: String,
    pub prev_seq: Option<i64>,
}

#[derive(sqlx::FromRow)]
pub struct CheckpointRow {
    pub size: i64,
    pub root: Vec<u8>,
    pub note: String,
}

impl From<CheckpointRow> for StoredCheckpoint {
    fn from(r: CheckpointRow) -> Self {
        StoredCheckpoint { size: r.size as u64, root: r.root.try_into().unwrap_or([0; 32]), note: r.note }
    }
}

/// A certificate's status change as stored: action, reason, effective at.
pub type StatusChangeRow<'a> = (&'a str, &'a str, DateTime<Utc>);

/// Status changes `(number, action, reason, effective at)`, ordered by number and
/// sequence, grouped by certificate number.
pub fn changes_by_number(
    changes: &[(String, String, String, DateTime<Utc>)],
) -> std::collections::HashMap<&str, Vec<StatusChangeRow<'_>>> {
    let mut by_number: std::collections::HashMap<&str, Vec<_>> = std::collections::HashMap::new();
    for c in changes {
        by_number.entry(c.0.as_str()).or_default().push((c.1.as_str(), c.2.as_str(), c.3));
    }
    by_number
}
