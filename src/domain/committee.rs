//! Evaluation committees (评审委员会) and their organizing units (组建单位).

use super::code::Code;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::Date;
use super::authorization::{Authorization, AuthorizationStatus};
use super::sanction::{Measure, Sanction};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CommitteeKind {
    /// 高级评委会
    Senior,
    /// 中级评委会
    Intermediate,
    /// 初级评委会
    Junior,
    /// 自主评审单位: evaluates only its own staff
    SelfEvaluating,
    /// 评聘结合单位
    CombinedAppointment,
    /// 社会化评委会 / 行业协会
    SocialAssociation,
    /// 委托评审: evaluates on behalf of another unit
    Entrusted,
}

impl Code for CommitteeKind {}

impl CommitteeKind {
    pub const ALL: [CommitteeKind; 7] = [
        Self::Senior,
        Self::Intermediate,
        Self::Junior,
        Self::SelfEvaluating,
        Self::CombinedAppointment,
        Self::SocialAssociation,
        Self::Entrusted,
    ];
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct OrganizingUnit {
    pub name: String,
    /// Unified social credit code (统一社会信用代码), validated with its GB 32100 check character.
    pub credit_code: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Committee {
    pub id: String,
    pub name: String,
    pub kind: CommitteeKind,
    pub organizing_unit: OrganizingUnit,
    /// The authority that approved (核准备案) the committee and supervises it.
    pub authority_id: String,
    /// Where the committee sits: a 6-digit GB/T 2260 code.
    pub region: String,
    /// Official web domains: anything else claiming to be this committee is not.
    pub domains: Vec<String>,
    pub contact: Option<String>,
}

/// A committee's derived status on a date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CommitteeStatus {
    /// Holds at least one active authorization and no suspension or withdrawal is in force.
    Authorized,
    /// Its only authorizations start later.
    Pending,
    /// Its authorizations have all lapsed.
    Expired,
    Suspended,
    Withdrawn,
    /// Never held an authorization.
    Unauthorized,
}

impl Code for CommitteeStatus {}

/// A committee with everything needed to answer questions about it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CommitteeRecord {
    pub committee: Committee,
    pub authorizations: Vec<Authorization>,
    /// Sanctions whose subject is this committee.
    pub sanctions: Vec<Sanction>,
}

impl CommitteeRecord {
    /// A committee-level sanction of `measure` that is in force on `on`.
    pub fn sanction_in_force(&self, measure: Measure, on: Date) -> Option<&Sanction> {
        self.sanctions.iter().find(|s| s.measure == measure && s.in_force_on(on))
    }

    pub fn status_on(&self, on: Date) -> CommitteeStatus {
        if self.sanction_in_force(Measure::WithdrawalOfAuthority, on).is_some() {
            return CommitteeStatus::Withdrawn;
        }
        if self.sanction_in_force(Measure::SuspensionOfAuthority, on).is_some() {
            return CommitteeStatus::Suspended;
        }
        let statuses: Vec<AuthorizationStatus> = self.authorizations.iter().map(|a| a.status_on(on)).collect();
        let any = |s| statuses.contains(&s);
        if any(AuthorizationStatus::Active) {
            CommitteeStatus::Authorized
        } else if any(AuthorizationStatus::Suspended) {
            CommitteeStatus::Suspended
        } else if any(AuthorizationStatus::Pending) {
            CommitteeStatus::Pending
        } else if any(AuthorizationStatus::Expired) {
            CommitteeStatus::Expired
        } else if any(AuthorizationStatus::Withdrawn) {
            CommitteeStatus::Withdrawn
        } else {
            CommitteeStatus::Unauthorized
        }
    }

    /// Whether the committee held an active authorization for `series` / `level` on `on`
    /// (the list filters); `None` means "any".
    pub fn authorized_for(&self, series: Option<&str>, level: Option<super::catalog::Level>, on: Date) -> bool {
        self.authorizations.iter().any(|a| {
            let t = a.terms_on(on);
            series.is_none_or(|s| t.series == s) && level.is_none_or(|l| t.levels.contains(&l))
        })
    }
}
