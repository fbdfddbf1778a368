//! Publishing: who may write what. Operations are what authorities publish; the checks
//! here are pure functions of the operation, the acting credential and the current state,
//! so the same rules hold for one API call and for each line of a bulk import.

use chrono::{DateTime, Months, Utc};
use serde::{Deserialize, Serialize};

use super::Date;
use super::authority::{Authority, AuthorityGraph, AuthorityLevel, CompetenceGap, CompetenceItem, Delegation};
use super::authorization::{Action, Authorization, AuthorizationStatus, Scope, Terms};
use super::catalog::{Catalog, Level, region_contains};
use super::code::Code;
use super::committee::{Committee, CommitteeKind, OrganizingUnit};
use super::credit_code;
use super::sanction::{Measure, Sanction, Subject, SubjectKind};
pub use super::violation::{Checked, Violation, ViolationKind};

/// What a credential may do. A token has exactly one role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Registry writes: committees, authorizations, delegations, sanctions.
    Publisher,
    /// Certificate writes (issue keys, certificates, revocations).
    Issuer,
    /// Manage the authority's own tokens and its sub-authorities.
    Admin,
    /// An API key for an outside user: bulk reads and a watch-list, no writes.
    Reader,
}

impl Code for Role {}

/// The authenticated party behind a write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub authority_id: String,
    /// `token:<id>` for an API token, `cli` for the command line, `demo` for demo data.
    pub credential: String,
    pub role: Role,
    /// Set for a committee's organizing unit (组建单位): a publisher token of the committee's
    /// authority that may only register the committee's sessions, publish their outcomes and
    /// the committee's notices.
    pub committee_id: Option<String>,
}

impl Actor {
    /// An actor for the whole of its authority's remit (no committee scope).
    pub fn new(authority_id: impl Into<String>, credential: impl Into<String>, role: Role) -> Actor {
        Actor { authority_id: authority_id.into(), credential: credential.into(), role, committee_id: None }
    }
}

/// At most this many bad lines are reported for one rejected import.
pub const MAX_REPORTED_LINES: usize = 1000;

/// A broken rule on one line (1-based) of a bulk write.
#[derive(Debug, Clone)]
pub struct LineViolation {
    pub line: usize,
    pub violation: Violation,
}

/// A national approval lasts at most three years (人社部令第40号); re-approval is a new grant.
pub const MAX_APPROVAL_MONTHS: u32 = 36;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewAuthority {
    /// Optional stable id; generated when absent.
    #[serde(default)]
    pub id: Option<String>,
    pub name: String,
    pub level: AuthorityLevel,
    /// The jurisdiction: a 6-digit GB/T 2260 code.
    pub region: String,
    pub parent_id: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct AuthorityAmendment {
    /// The target. In a bulk file, required; on a path endpoint the path gives it.
    #[serde(default)]
    pub authority_id: String,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewDelegation {
    /// The sub-authority receiving the competence.
    pub authority_id: String,
    pub series: String,
    #[serde(default)]
    pub specialties: Vec<String>,
    pub levels: Vec<Level>,
    pub valid_from: Date,
    #[serde(default)]
    pub valid_until: Option<Date>,
    pub document_number: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewCommittee {
    /// Optional stable id, so later lines of the same bulk file can refer to it.
    #[serde(default)]
    pub id: Option<String>,
    pub name: String,
    pub kind: CommitteeKind,
    pub organizing_unit: OrganizingUnit,
    /// Where the committee sits: a 6-digit GB/T 2260 code inside the publisher's jurisdiction.
    pub region: String,
    #[serde(default)]
    pub domains: Vec<String>,
    #[serde(default)]
    pub contact: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CommitteeAmendment {
    /// The target. In a bulk file, required; on a path endpoint the path gives it.
    #[serde(default)]
    pub committee_id: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub organizing_unit: Option<OrganizingUnit>,
    #[serde(default)]
    pub domains: Option<Vec<String>>,
    #[serde(default)]
    pub contact: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewAuthorization {
    /// Optional stable id, so later lines of the same bulk file can refer to it.
    #[serde(default)]
    pub id: Option<String>,
    pub committee_id: String,
    pub series: String,
    /// Empty: every specialty of the series.
    #[serde(default)]
    pub specialties: Vec<String>,
    pub levels: Vec<Level>,
    pub scope: Scope,
    pub valid_from: Date,
    pub valid_until: Date,
    pub document_number: String,
    #[serde(default)]
    pub note: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct AuthorizationAmendment {
    /// The target. In a bulk file, required; on a path endpoint the path gives it.
    #[serde(default)]
    pub authorization_id: String,
    #[serde(default)]
    pub specialties: Vec<String>,
    pub levels: Vec<Level>,
    pub scope: Scope,
    pub valid_from: Date,
    pub valid_until: Date,
    /// The new terms apply from this date.
    pub effective_on: Date,
    pub document_number: String,
    #[serde(default)]
    pub note: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct AuthorizationAct {
    /// The target. In a bulk file, required; on a path endpoint the path gives it.
    #[serde(default)]
    pub authorization_id: String,
    pub effective_on: Date,
    pub document_number: String,
    #[serde(default)]
    pub note: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewSanction {
    /// Optional stable id.
    #[serde(default)]
    pub id: Option<String>,
    pub subject: Subject,
    pub measure: Measure,
    /// Required unless the subject is a registered committee (its region is used).
    #[serde(default)]
    pub region: Option<String>,
    pub effective_from: Date,
    /// Open-ended when absent; a dishonesty record ends after three years by default.
    #[serde(default)]
    pub effective_until: Option<Date>,
    /// Withdrawals only: evaluations from this (earlier) date on are void too.
    #[serde(default)]
    pub void_from: Option<Date>,
    pub document_number: String,
    pub legal_basis: String,
    pub summary: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SanctionLift {
    /// The target. In a bulk file, required; on a path endpoint the path gives it.
    #[serde(default)]
    pub sanction_id: String,
    pub effective_on: Date,
    pub document_number: String,
    #[serde(default)]
    pub reason: Option<String>,
}

/// Registers an issuer's Ed25519 public key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewKey {
    #[serde(default)]
    pub id: Option<String>,
    /// The issuer the key signs for: an authority, or a committee's organizing unit.
    pub owner: super::certificate::IssuerRef,
    /// Multikey, `z6Mk…`.
    pub public_key: String,
    pub valid_from: DateTime<Utc>,
    #[serde(default)]
    pub valid_until: Option<DateTime<Utc>>,
}

/// Retires a key, or marks it compromised, from an instant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct KeyAct {
    /// The target. In a bulk file, required; on a path endpoint the path gives it.
    #[serde(default)]
    pub key_id: String,
    /// Signatures made after this instant are refused (for a compromise: at or after it).
    pub at: DateTime<Utc>,
}

/// A signed certificate to register.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CertificateSubmission {
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub credential: serde_json::Value,
}

/// Revokes, suspends or reinstates a certificate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CertificateAct {
    /// The target. In a bulk file, required; on a path endpoint the path gives it.
    #[serde(default)]
    pub number: String,
    pub reason: String,
    /// Defaults to the moment of publication.
    #[serde(default)]
    pub effective_at: Option<DateTime<Utc>>,
}

/// One publication. In a bulk NDJSON file each line is one of these, tagged by `op`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Operation {
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
    IssueCertificate(CertificateSubmission),
    RevokeCertificate(CertificateAct),
    SuspendCertificate(CertificateAct),
    UnsuspendCertificate(CertificateAct),
    RegisterSession(crate::domain::session::NewSession),
    PublishSessionOutcome(crate::domain::session::SessionOutcomeSubmission),
    PlanDraw(crate::domain::draw::NewDrawPlan),
    RecordInspection(crate::domain::draw::NewInspection),
    PublishNotice(crate::domain::notice::NewNotice),
    IssueSupervisorCredential(CertificateSubmission),
    RevokeSupervisorCredential(CertificateAct),
    RecordVisit(crate::domain::supervisor::NewVisit),
}

impl Operation {
    /// The event kind this operation records, e.g. `authorization.withdrawn`.
    pub fn event_kind(&self) -> &'static str {
        match self {
            Operation::CreateAuthority(_) => "authority.created",
            Operation::AmendAuthority(_) => "authority.amended",
            Operation::Delegate(_) => "delegation.granted",
            Operation::CreateCommittee(_) => "committee.created",
            Operation::AmendCommittee(_) => "committee.amended",
            Operation::GrantAuthorization(_) => "authorization.granted",
            Operation::AmendAuthorization(_) => "authorization.amended",
            Operation::SuspendAuthorization(_) => "authorization.suspended",
            Operation::ReinstateAuthorization(_) => "authorization.reinstated",
            Operation::WithdrawAuthorization(_) => "authorization.withdrawn",
            Operation::PublishSanction(_) => "sanction.published",
            Operation::LiftSanction(_) => "sanction.lifted",
            Operation::RegisterKey(_) => "key.registered",
            Operation::RetireKey(_) => "key.retired",
            Operation::CompromiseKey(_) => "key.compromised",
            Operation::IssueCertificate(_) => "certificate.issued",
            Operation::RevokeCertificate(_) => "certificate.revoked",
            Operation::SuspendCertificate(_) => "certificate.suspended",
            Operation::UnsuspendCertificate(_) => "certificate.unsuspended",
            Operation::RegisterSession(_) => "session.registered",
            Operation::PublishSessionOutcome(_) => "session.concluded",
            Operation::PlanDraw(_) => "draw.planned",
            Operation::RecordInspection(_) => "inspection.recorded",
            Operation::PublishNotice(_) => "notice.published",
            Operation::IssueSupervisorCredential(_) => "supervisor.issued",
            Operation::RevokeSupervisorCredential(_) => "supervisor.revoked",
            Operation::RecordVisit(_) => "visit.recorded",
        }
    }

    /// What a committee's organizing unit does itself (the rules: it applies for the session,
    /// reports the outcome and notices the result); everything else is the authority's.
    pub fn open_to_organizing_units(&self) -> bool {
        matches!(
            self,
            Operation::RegisterSession(_) | Operation::PublishSessionOutcome(_) | Operation::PublishNotice(_)
        )
    }

    pub fn required_role(&self) -> Role {
        match self {
            Operation::CreateAuthority(_)
            | Operation::AmendAuthority(_)
            | Operation::RegisterKey(_)
            | Operation::RetireKey(_)
            | Operation::CompromiseKey(_) => Role::Admin,
            Operation::IssueCertificate(_)
            | Operation::RevokeCertificate(_)
            | Operation::SuspendCertificate(_)
            | Operation::UnsuspendCertificate(_)
            | Operation::IssueSupervisorCredential(_)
            | Operation::RevokeSupervisorCredential(_) => Role::Issuer,
            _ => Role::Publisher,
        }
    }
}

pub fn check_role(actor: &Actor, op: &Operation) -> Checked<()> {
    let needed = op.required_role();
    if actor.committee_id.is_some() && !op.open_to_organizing_units() {
        return Err(Violation::forbidden(
            "outside_token_scope",
            "role",
            "该凭证属于评委会组建单位，只能登记本评委会的评审会议、公布其结果和公示",
            format!(
                "this credential belongs to a committee's organizing unit: it may register the committee's \
                 sessions, publish their outcomes and its notices, not {}",
                op.event_kind()
            ),
        ));
    }
    if actor.role == needed {
        return Ok(());
    }
    Err(Violation::forbidden(
        "wrong_role",
        "role",
        format!("该凭证角色为{}，此操作需要{}角色", actor.role.code(), needed.code()),
        format!(
            "this credential has the role {}; {} needs the role {}",
            actor.role.code(),
            op.event_kind(),
            needed.code()
        ),
    ))
}

pub fn non_empty(field: &str, value: &str) -> Checked<()> {
    if value.trim().is_empty() {
        return Err(Violation::invalid("required", field, "不能为空", "must not be empty"));
    }
    Ok(())
}

pub fn valid_region(field: &str, code: &str) -> Checked<()> {
    if Catalog::get().region(code).is_none() || code == super::catalog::NATIONWIDE {
        return Err(Violation::invalid(
            "invalid_region",
            field,
            format!("“{code}”不是有效的 GB/T 2260 地区代码"),
            format!("{code:?} is not a valid GB/T 2260 region code"),
        ));
    }
    Ok(())
}

pub fn valid_series(field: &str, code: &str) -> Checked<()> {
    if Catalog::get().series_by_code(code).is_none() {
        return Err(Violation::invalid(
            "unknown_series",
            field,
            format!("未知的职称系列代码“{code}”"),
            format!("unknown series code {code:?}"),
        ));
    }
    Ok(())
}

fn valid_levels(field: &str, levels: &[Level]) -> Checked<()> {
    if levels.is_empty() {
        return Err(Violation::invalid("required", field, "至少需要一个级别", "at least one level is required"));
    }
    Ok(())
}

pub fn valid_credit_code(field: &str, code: &str) -> Checked<()> {
    credit_code::validate(code)
        .map_err(|e| Violation::invalid("invalid_credit_code", field, e.message_zh(), e.message_en()))
}

/// A validity window: from ≤ until, and at most three years long.
pub fn valid_window(from: Date, until: Date) -> Checked<()> {
    if until < from {
        return Err(Violation::invalid(
            "window_inverted",
            "valid_until",
            format!("有效期结束日{until}早于开始日{from}"),
            format!("valid_until {until} is before valid_from {from}"),
        ));
    }
    let cap = from.checked_add_months(Months::new(MAX_APPROVAL_MONTHS)).unwrap_or(Date::MAX);
    if until >= cap {
        return Err(Violation::invalid(
            "window_exceeds_cap",
            "valid_until",
            format!("一次核准备案有效期最长3年（至{}）", cap.pred_opt().unwrap_or(cap)),
            format!("one approval lasts at most three years (until {} at the latest)", cap.pred_opt().unwrap_or(cap)),
        ));
    }
    Ok(())
}

fn actor_authority<'g>(graph: &'g AuthorityGraph, actor: &Actor) -> Checked<&'g Authority> {
    graph.get(&actor.authority_id).ok_or_else(|| {
        Violation::forbidden(
            "unknown_authority",
            "authority",
            "凭证所属部门不存在",
            "the credential's authority does not exist",
        )
    })
}

pub fn within_jurisdiction(graph: &AuthorityGraph, actor: &Actor, field: &str, region: &str) -> Checked<()> {
    let authority = actor_authority(graph, actor)?;
    if region_contains(&authority.region, region) {
        return Ok(());
    }
    Err(Violation::forbidden(
        "outside_jurisdiction",
        field,
        format!("地区{region}不在{}的管辖范围内", authority.name),
        format!("region {region} is outside the jurisdiction of {} ({})", authority.name, authority.region),
    ))
}

/// "谁授权、谁负责监管": the acting authority must be `owner` or above it.
/// An organizing unit's credential acts for its own committee only.
pub fn organizes(actor: &Actor, field: &str, committee_id: &str) -> Checked<()> {
    match &actor.committee_id {
        Some(own) if own != committee_id => Err(Violation::forbidden(
            "not_organizing_unit",
            field,
            format!("该凭证属于评委会 {own} 的组建单位，不能代 {committee_id} 办理"),
            format!("this credential belongs to the organizing unit of committee {own}, not of {committee_id}"),
        )),
        _ => Ok(()),
    }
}

pub fn supervises(graph: &AuthorityGraph, actor: &Actor, field: &str, owner: &str) -> Checked<()> {
    if graph.is_self_or_ancestor(&actor.authority_id, owner) {
        return Ok(());
    }
    Err(Violation::forbidden(
        "not_supervisor",
        field,
        format!("该事项由{owner}负责，本部门无权处理"),
        format!("this belongs to authority {owner}; the acting authority does not supervise it"),
    ))
}

/// The grant must lie inside the grantor's competence for every series/specialty/level/region
/// it names, at both ends of its window (no 超越评审权限 can be published).
pub fn grant_within_competence(
    graph: &AuthorityGraph,
    grantor: &str,
    terms: &Terms,
    committee_region: &str,
) -> Checked<()> {
    let (regions, specialties) = (terms.scope_regions(committee_region), terms.specialty_choices());
    for on in [terms.valid_from, terms.valid_until] {
        for region in &regions {
            for specialty in &specialties {
                for level in &terms.levels {
                    let item =
                        CompetenceItem { series: &terms.series, specialty: *specialty, level: *level, region, on };
                    if let Err(gap) = graph.competent(grantor, &item) {
                        return Err(beyond_competence(&gap, &item));
                    }
                }
            }
        }
    }
    Ok(())
}

fn beyond_competence(gap: &CompetenceGap, item: &CompetenceItem<'_>) -> Violation {
    let specialty = item.specialty.unwrap_or("(all specialties)");
    let what = format!("{} {} {specialty} {} on {}", item.series, item.level.code(), item.region, item.on);
    let why = match gap {
        CompetenceGap::UnknownAuthority(id) => format!("authority {id} is unknown"),
        CompetenceGap::OutsideJurisdiction { authority_id } => format!("{authority_id} has no jurisdiction there"),
        CompetenceGap::NotDelegated { authority_id } => format!("{authority_id} was not delegated this competence"),
    };
    Violation::forbidden(
        "beyond_competence",
        "levels",
        format!("超越评审权限：授权机关在该日期无权授予此项评审权限（{what}）"),
        format!("beyond competence: {why} ({what})"),
    )
}

fn scope_regions_valid(graph: &AuthorityGraph, actor: &Actor, scope: &Scope) -> Checked<()> {
    match scope {
        Scope::Regions { regions } => {
            if regions.is_empty() {
                return Err(Violation::invalid(
                    "required",
                    "scope.regions",
                    "至少需要一个地区",
                    "at least one region is required",
                ));
            }
            for (i, r) in regions.iter().enumerate() {
                let field = format!("scope.regions[{i}]");
                valid_region(&field, r)?;
                within_jurisdiction(graph, actor, &field, r)?;
            }
            Ok(())
        }
        Scope::OwnStaff { own_staff: true } => Ok(()),
        Scope::OwnStaff { own_staff: false } => Err(Violation::invalid(
            "invalid_scope",
            "scope",
            "scope 应为 {\"regions\": [...]} 或 {\"own_staff\": true}",
            "scope must be {\"regions\": [...]} or {\"own_staff\": true}",
        )),
    }
}

fn specialties_valid(specialties: &[String]) -> Checked<()> {
    for (i, s) in specialties.iter().enumerate() {
        non_empty(&format!("specialties[{i}]"), s)?;
    }
    Ok(())
}

pub fn check_new_authority(graph: &AuthorityGraph, actor: &Actor, new: &NewAuthority) -> Checked<()> {
    non_empty("name", &new.name)?;
    valid_region("region", &new.region)?;
    let parent = graph
        .get(&new.parent_id)
        .ok_or_else(|| Violation::unknown("parent_id", "上级部门", "authority", &new.parent_id))?;
    supervises(graph, actor, "parent_id", &parent.id)?;
    if new.level.depth() <= parent.level.depth() {
        return Err(Violation::invalid(
            "level_not_below_parent",
            "level",
            "下级部门的层级应低于上级部门",
            format!("a {} authority cannot sit below a {} one", new.level.code(), parent.level.code()),
        ));
    }
    if !region_contains(&parent.region, &new.region) {
        return Err(Violation::forbidden(
            "outside_jurisdiction",
            "region",
            format!("地区{}不在上级部门的管辖范围内", new.region),
            format!("region {} is outside the parent's jurisdiction {}", new.region, parent.region),
        ));
    }
    if let Some(id) = &new.id {
        non_empty("id", id)?;
        if graph.get(id).is_some() {
            return Err(Violation::conflict(
                "duplicate_id",
                "id",
                format!("部门“{id}”已存在"),
                format!("authority {id:?} already exists"),
            ));
        }
    }
    Ok(())
}

pub fn check_authority_amendment(graph: &AuthorityGraph, actor: &Actor, a: &AuthorityAmendment) -> Checked<()> {
    non_empty("name", &a.name)?;
    graph
        .get(&a.authority_id)
        .ok_or_else(|| Violation::unknown("authority_id", "部门", "authority", &a.authority_id))?;
    supervises(graph, actor, "authority_id", &a.authority_id)
}

pub fn check_delegation(graph: &AuthorityGraph, actor: &Actor, d: &NewDelegation) -> Checked<Delegation> {
    valid_series("series", &d.series)?;
    specialties_valid(&d.specialties)?;
    valid_levels("levels", &d.levels)?;
    non_empty("document_number", &d.document_number)?;
    if let Some(until) = d.valid_until
        && until < d.valid_from
    {
        return Err(Violation::invalid(
            "window_inverted",
            "valid_until",
            "结束日早于开始日",
            "valid_until is before valid_from",
        ));
    }
    let target = graph
        .get(&d.authority_id)
        .ok_or_else(|| Violation::unknown("authority_id", "部门", "authority", &d.authority_id))?;
    if target.id == actor.authority_id || !graph.is_self_or_ancestor(&actor.authority_id, &target.id) {
        return Err(Violation::forbidden(
            "not_supervisor",
            "authority_id",
            "只能向下级部门下放权限",
            "competence can only be delegated to an authority below the acting one",
        ));
    }
    let delegation = Delegation {
        id: String::new(),
        authority_id: target.id.clone(),
        delegated_by: actor.authority_id.clone(),
        series: d.series.clone(),
        specialties: d.specialties.clone(),
        levels: d.levels.clone(),
        valid_from: d.valid_from,
        valid_until: d.valid_until,
        document_number: d.document_number.clone(),
    };
    // The delegator can pass on only what it holds itself.
    let terms = Terms {
        series: d.series.clone(),
        specialties: d.specialties.clone(),
        levels: d.levels.clone(),
        scope: Scope::Regions { regions: vec![target.region.clone()] },
        valid_from: d.valid_from,
        valid_until: d.valid_until.unwrap_or(d.valid_from),
    };
    grant_within_competence(graph, &actor.authority_id, &terms, &target.region)?;
    Ok(delegation)
}

pub fn check_new_committee(graph: &AuthorityGraph, actor: &Actor, c: &NewCommittee) -> Checked<()> {
    non_empty("name", &c.name)?;
    non_empty("organizing_unit.name", &c.organizing_unit.name)?;
    valid_credit_code("organizing_unit.credit_code", &c.organizing_unit.credit_code)?;
    valid_region("region", &c.region)?;
    within_jurisdiction(graph, actor, "region", &c.region)
}

pub fn check_committee_amendment(
    graph: &AuthorityGraph,
    actor: &Actor,
    committee: &Committee,
    a: &CommitteeAmendment,
) -> Checked<()> {
    supervises(graph, actor, "committee_id", &committee.authority_id)?;
    if let Some(name) = &a.name {
        non_empty("name", name)?;
    }
    if let Some(unit) = &a.organizing_unit {
        non_empty("organizing_unit.name", &unit.name)?;
        valid_credit_code("organizing_unit.credit_code", &unit.credit_code)?;
    }
    if a.name.is_none() && a.organizing_unit.is_none() && a.domains.is_none() && a.contact.is_none() {
        return Err(Violation::invalid(
            "empty_amendment",
            "committee_id",
            "修改内容为空",
            "the amendment changes nothing",
        ));
    }
    Ok(())
}

fn check_terms(graph: &AuthorityGraph, actor: &Actor, committee: &Committee, terms: &Terms) -> Checked<()> {
    valid_series("series", &terms.series)?;
    specialties_valid(&terms.specialties)?;
    valid_levels("levels", &terms.levels)?;
    scope_regions_valid(graph, actor, &terms.scope)?;
    valid_window(terms.valid_from, terms.valid_until)?;
    grant_within_competence(graph, &actor.authority_id, terms, &committee.region)
}

pub fn check_grant(
    graph: &AuthorityGraph,
    actor: &Actor,
    committee: &Committee,
    g: &NewAuthorization,
) -> Checked<Terms> {
    non_empty("document_number", &g.document_number)?;
    supervises(graph, actor, "committee_id", &committee.authority_id)?;
    let terms = Terms {
        series: g.series.clone(),
        specialties: g.specialties.clone(),
        levels: g.levels.clone(),
        scope: g.scope.clone(),
        valid_from: g.valid_from,
        valid_until: g.valid_until,
    };
    check_terms(graph, actor, committee, &terms)?;
    Ok(terms)
}

/// Acts on an existing authorization must come from its grantor (or above), in date order,
/// and make sense in its state on the act's date.
pub fn check_act(
    graph: &AuthorityGraph,
    actor: &Actor,
    a: &Authorization,
    action: Action,
    effective_on: Date,
    document_number: &str,
) -> Checked<()> {
    non_empty("document_number", document_number)?;
    supervises(graph, actor, "authorization_id", &a.granted_by)?;
    if let Some(last) = a.history.iter().map(|r| r.effective_on).max()
        && effective_on < last
    {
        return Err(Violation::conflict(
            "out_of_order",
            "effective_on",
            format!("生效日期早于该授权最近一次记录的生效日期{last}"),
            format!(
                "effective_on is before the authorization's latest record ({last}); history is appended in date order"
            ),
        ));
    }
    if a.history.iter().any(|r| r.action == action && r.document_number == document_number) {
        return Err(Violation::duplicate_document("document_number", document_number));
    }
    let state = a.status_on(effective_on);
    let refused = match action {
        Action::Granted => Some(("already_granted", "授权已存在", "the authorization already exists")),
        _ if a.withdrawal_on(Date::MAX).is_some() => {
            Some(("already_withdrawn", "该授权已收回", "the authorization has been withdrawn"))
        }
        Action::Suspended if state == AuthorizationStatus::Suspended => {
            Some(("already_suspended", "该授权已暂停", "the authorization is already suspended"))
        }
        Action::Reinstated if a.suspension_on(effective_on).is_none() => {
            Some(("not_suspended", "该授权未被暂停", "the authorization is not suspended"))
        }
        _ => None,
    };
    match refused {
        Some((code, zh, en)) => Err(Violation::conflict(code, "authorization_id", zh, en)),
        None => Ok(()),
    }
}

pub fn check_amendment(
    graph: &AuthorityGraph,
    actor: &Actor,
    committee: &Committee,
    a: &Authorization,
    m: &AuthorizationAmendment,
) -> Checked<Terms> {
    check_act(graph, actor, a, Action::Amended, m.effective_on, &m.document_number)?;
    let series = a.terms_on(m.effective_on).series.clone();
    let terms = Terms {
        series,
        specialties: m.specialties.clone(),
        levels: m.levels.clone(),
        scope: m.scope.clone(),
        valid_from: m.valid_from,
        valid_until: m.valid_until,
    };
    check_terms(graph, actor, committee, &terms)?;
    Ok(terms)
}

/// Resolves the sanction's region and checks the publisher may decide it.
pub fn check_sanction(
    graph: &AuthorityGraph,
    actor: &Actor,
    committee: Option<&Committee>,
    s: &NewSanction,
) -> Checked<String> {
    non_empty("document_number", &s.document_number)?;
    non_empty("legal_basis", &s.legal_basis)?;
    non_empty("summary", &s.summary)?;
    if let Some(until) = s.effective_until
        && until < s.effective_from
    {
        return Err(Violation::invalid(
            "window_inverted",
            "effective_until",
            "结束日早于生效日",
            "effective_until is before effective_from",
        ));
    }
    if let Some(void_from) = s.void_from {
        if s.measure != Measure::WithdrawalOfAuthority {
            return Err(Violation::invalid(
                "void_from_not_allowed",
                "void_from",
                "仅收回评审权限可追溯宣布评审无效",
                "only a withdrawal of authority can void earlier evaluations",
            ));
        }
        if void_from > s.effective_from {
            return Err(Violation::invalid(
                "void_from_after_effective",
                "void_from",
                "追溯日期应早于生效日",
                "void_from must not be after effective_from",
            ));
        }
    }
    let region = match (s.subject.kind, committee) {
        (SubjectKind::Committee, Some(c)) => {
            supervises(graph, actor, "subject.id", &c.authority_id)?;
            c.region.clone()
        }
        (SubjectKind::Committee, None) => {
            let id = s.subject.id.clone().unwrap_or_default();
            return Err(Violation::unknown("subject.id", "评审委员会", "committee", &id));
        }
        _ => {
            non_empty("subject.name", s.subject.name.as_deref().unwrap_or(""))?;
            let region = s.region.clone().ok_or_else(|| {
                Violation::invalid("required", "region", "需要填写地区", "region is required for this subject")
            })?;
            valid_region("region", &region)?;
            region
        }
    };
    if matches!(s.measure, Measure::SuspensionOfAuthority | Measure::WithdrawalOfAuthority)
        && !matches!(s.subject.kind, SubjectKind::Committee | SubjectKind::OrganizingUnit)
    {
        return Err(Violation::invalid(
            "measure_not_applicable",
            "measure",
            "暂停或收回评审权限只适用于评委会或组建单位",
            "suspending or withdrawing evaluation authority applies to committees and organizing units only",
        ));
    }
    within_jurisdiction(graph, actor, "region", &region)?;
    Ok(region)
}

pub fn check_lift(graph: &AuthorityGraph, actor: &Actor, sanction: &Sanction, l: &SanctionLift) -> Checked<()> {
    non_empty("document_number", &l.document_number)?;
    supervises(graph, actor, "sanction_id", &sanction.decided_by)?;
    if sanction.lift.is_some() {
        return Err(Violation::conflict(
            "already_lifted",
            "sanction_id",
            "该惩戒已解除",
            "the sanction has already been lifted",
        ));
    }
    if l.effective_on < sanction.effective_from {
        return Err(Violation::invalid(
            "lift_before_effective",
            "effective_on",
            "解除日期早于惩戒生效日期",
            "effective_on is before the sanction took effect",
        ));
    }
    Ok(())
}

/// A sanction or withdrawal whose effect starts before the day it was published.
pub fn is_back_dated(effective_on: Date, today: Date) -> bool {
    effective_on < today
}

/// The 3-year default end of a dishonesty record.
pub fn default_until(measure: Measure, from: Date) -> Option<Date> {
    measure
        .default_duration_years()
        .and_then(|y| from.checked_add_months(Months::new(12 * y)))
        .and_then(|d| d.pred_opt())
}

/// Which date an operation takes effect on, for the event record.
pub fn effective_on(op: &Operation) -> Option<Date> {
    match op {
        Operation::Delegate(d) => Some(d.valid_from),
        Operation::GrantAuthorization(g) => Some(g.valid_from),
        Operation::AmendAuthorization(a) => Some(a.effective_on),
        Operation::SuspendAuthorization(a)
        | Operation::ReinstateAuthorization(a)
        | Operation::WithdrawAuthorization(a) => Some(a.effective_on),
        Operation::PublishSanction(s) => Some(s.effective_from),
        Operation::LiftSanction(l) => Some(l.effective_on),
        _ => None,
    }
}

/// Back-dating is flagged for the acts whose timing matters to people relying on the registry.
pub fn back_dating_matters(op: &Operation) -> bool {
    matches!(
        op,
        Operation::WithdrawAuthorization(_) | Operation::SuspendAuthorization(_) | Operation::PublishSanction(_)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::authorization::tests::d;

    fn graph() -> AuthorityGraph {
        let a = |id: &str, level, region: &str, parent: Option<&str>| Authority {
            id: id.into(),
            name: id.into(),
            level,
            region: region.into(),
            parent_id: parent.map(Into::into),
        };
        AuthorityGraph::new(
            vec![
                a("nat", AuthorityLevel::National, "000000", None),
                a("jilin", AuthorityLevel::Provincial, "220000", Some("nat")),
                a("changchun", AuthorityLevel::Municipal, "220100", Some("jilin")),
                a("yunnan", AuthorityLevel::Provincial, "530000", Some("nat")),
            ],
            vec![],
        )
    }

    fn actor(id: &str) -> Actor {
        Actor::new(id, "test", Role::Publisher)
    }

    #[test]
    fn windows_are_capped_at_three_years() {
        assert!(valid_window(d("2024-01-01"), d("2026-12-31")).is_ok());
        assert_eq!(valid_window(d("2024-01-01"), d("2027-01-01")).unwrap_err().code, "window_exceeds_cap");
        assert_eq!(valid_window(d("2024-01-02"), d("2024-01-01")).unwrap_err().code, "window_inverted");
    }

    #[test]
    fn supervision_runs_down_the_tree() {
        let g = graph();
        assert!(supervises(&g, &actor("jilin"), "x", "changchun").is_ok());
        assert!(supervises(&g, &actor("nat"), "x", "changchun").is_ok());
        assert_eq!(supervises(&g, &actor("changchun"), "x", "jilin").unwrap_err().code, "not_supervisor");
        assert_eq!(supervises(&g, &actor("yunnan"), "x", "changchun").unwrap_err().code, "not_supervisor");
    }

    #[test]
    fn a_city_without_delegation_cannot_grant() {
        let g = graph();
        let terms = Terms {
            series: "HEALTH".into(),
            specialties: vec![],
            levels: vec![Level::Senior],
            scope: Scope::Regions { regions: vec!["220100".into()] },
            valid_from: d("2024-01-01"),
            valid_until: d("2025-12-31"),
        };
        assert_eq!(grant_within_competence(&g, "changchun", &terms, "220100").unwrap_err().code, "beyond_competence");
        assert!(grant_within_competence(&g, "jilin", &terms, "220100").is_ok());
        assert_eq!(grant_within_competence(&g, "yunnan", &terms, "220100").unwrap_err().code, "beyond_competence");
    }

    #[test]
    fn roles_are_exact() {
        let op = Operation::AmendAuthority(AuthorityAmendment { authority_id: "x".into(), name: "y".into() });
        assert_eq!(check_role(&actor("jilin"), &op).unwrap_err().code, "wrong_role");
        let admin = Actor { role: Role::Admin, ..actor("jilin") };
        assert!(check_role(&admin, &op).is_ok());
    }

    #[test]
    fn an_organizing_unit_keeps_to_its_committee() {
        let unit = Actor { committee_id: Some("cmt_a".into()), ..actor("jilin") };
        let lift = Operation::LiftSanction(SanctionLift {
            sanction_id: "s".into(),
            effective_on: d("2026-01-01"),
            document_number: "吉人社监〔2026〕1号".into(),
            reason: None,
        });
        assert_eq!(check_role(&unit, &lift).unwrap_err().code, "outside_token_scope");
        assert!(check_role(&actor("jilin"), &lift).is_ok(), "the authority itself may");
        assert!(organizes(&unit, "committee_id", "cmt_a").is_ok());
        assert_eq!(organizes(&unit, "committee_id", "cmt_b").unwrap_err().code, "not_organizing_unit");
        assert!(organizes(&actor("jilin"), "committee_id", "cmt_b").is_ok());
    }

    #[test]
    fn a_dishonesty_record_lasts_three_years() {
        assert_eq!(default_until(Measure::DishonestyRecord, d("2024-03-01")), Some(d("2027-02-28")));
        assert_eq!(default_until(Measure::Warning, d("2024-03-01")), None);
    }
}
