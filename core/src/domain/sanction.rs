//! Sanctions (监管处理 / 惩戒) against committees, organizing units, individuals,
//! intermediaries and websites.

use super::code::Code;
use serde::{Deserialize, Serialize};

use super::Date;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum SubjectKind {
    /// 评审委员会
    Committee,
    /// 组建单位
    OrganizingUnit,
    /// 申报人
    Applicant,
    /// 评审专家
    Expert,
    /// 工作人员
    Staff,
    /// 用人单位（推荐单位）: the employer that reviewed and recommended the applicant
    Employer,
    /// 非法中介
    Intermediary,
    /// 网站 / 域名
    Website,
}

impl Code for SubjectKind {}

impl SubjectKind {
    pub const ALL: [SubjectKind; 8] = [
        Self::Committee,
        Self::OrganizingUnit,
        Self::Applicant,
        Self::Expert,
        Self::Staff,
        Self::Employer,
        Self::Intermediary,
        Self::Website,
    ];

    /// The negative list (负面清单) a sanction against this subject belongs to; intermediaries and
    /// websites are fraud outside the evaluation system, on no list.
    pub fn negative_list(self) -> Option<NegativeList> {
        match self {
            Self::Applicant => Some(NegativeList::Applicants),
            Self::Employer => Some(NegativeList::Employers),
            Self::Committee | Self::OrganizingUnit => Some(NegativeList::EvaluationBodies),
            Self::Expert => Some(NegativeList::Experts),
            Self::Staff => Some(NegativeList::Staff),
            Self::Intermediary | Self::Website => None,
        }
    }
}

/// The five negative lists of the supervision rules (五类负面清单): the key subjects of an
/// evaluation, whose breaches are recorded against them (诚信档案) with their legal basis.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum NegativeList {
    /// 申报人
    Applicants,
    /// 用人单位（推荐单位）
    Employers,
    /// 评委会及其组建单位
    EvaluationBodies,
    /// 评审专家
    Experts,
    /// 评审工作人员
    Staff,
}

impl Code for NegativeList {}

impl NegativeList {
    pub const ALL: [NegativeList; 5] =
        [Self::Applicants, Self::Employers, Self::EvaluationBodies, Self::Experts, Self::Staff];

    /// The subject kinds on this list.
    pub fn subject_kinds(self) -> &'static [SubjectKind] {
        match self {
            Self::Applicants => &[SubjectKind::Applicant],
            Self::Employers => &[SubjectKind::Employer],
            Self::EvaluationBodies => &[SubjectKind::Committee, SubjectKind::OrganizingUnit],
            Self::Experts => &[SubjectKind::Expert],
            Self::Staff => &[SubjectKind::Staff],
        }
    }

    pub fn name_zh(self) -> &'static str {
        match self {
            Self::Applicants => "申报人",
            Self::Employers => "用人单位",
            Self::EvaluationBodies => "评委会及组建单位",
            Self::Experts => "评审专家",
            Self::Staff => "评审工作人员",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Measure {
    /// 约谈警示
    Warning,
    /// 限期整改
    Rectification,
    /// 通报批评
    PublicCriticism,
    /// 暂停评审权限
    SuspensionOfAuthority,
    /// 收回评审权限
    WithdrawalOfAuthority,
    /// 撤销职称
    TitleRevocation,
    /// 取消申报资格
    ApplicationBan,
    /// 记入失信黑名单 (3 years)
    DishonestyRecord,
    /// 取消专家资格
    ExpertDisqualification,
}

impl Code for Measure {}

impl Measure {
    pub const ALL: [Measure; 9] = [
        Self::Warning,
        Self::Rectification,
        Self::PublicCriticism,
        Self::SuspensionOfAuthority,
        Self::WithdrawalOfAuthority,
        Self::TitleRevocation,
        Self::ApplicationBan,
        Self::DishonestyRecord,
        Self::ExpertDisqualification,
    ];
    pub fn name_zh(self) -> &'static str {
        match self {
            Self::Warning => "约谈警示",
            Self::Rectification => "限期整改",
            Self::PublicCriticism => "通报批评",
            Self::SuspensionOfAuthority => "暂停评审权限",
            Self::WithdrawalOfAuthority => "收回评审权限",
            Self::TitleRevocation => "撤销职称",
            Self::ApplicationBan => "取消申报资格",
            Self::DishonestyRecord => "记入失信黑名单",
            Self::ExpertDisqualification => "取消专家资格",
        }
    }

    /// The dishonesty record lasts three years unless a decision says otherwise
    /// (人社部令第40号 and the provincial rules in the seeds).
    pub fn default_duration_years(self) -> Option<u32> {
        matches!(self, Self::DishonestyRecord).then_some(3)
    }
}

/// Who a sanction is against. A committee or organizing unit is named by id when it is in
/// the registry; individuals, intermediaries and websites by name (or domain).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Subject {
    pub kind: SubjectKind,
    /// The registry id, for committees.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The public name (or web domain).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Lift {
    pub effective_on: Date,
    pub document_number: String,
    pub reason: Option<String>,
    pub logged_at: chrono::DateTime<chrono::Utc>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum SanctionStatus {
    Pending,
    InForce,
    Expired,
    Lifted,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sanction {
    pub id: String,
    pub subject: Subject,
    pub measure: Measure,
    /// The region the sanction concerns (the subject's), for regional filtering.
    pub region: String,
    pub effective_from: Date,
    pub effective_until: Option<Date>,
    /// For withdrawals: evaluations from this date on are void, even before `effective_from`.
    pub void_from: Option<Date>,
    pub decided_by: String,
    pub document_number: String,
    pub legal_basis: String,
    pub summary: String,
    pub logged_at: chrono::DateTime<chrono::Utc>,
    pub lift: Option<Lift>,
}

impl Sanction {
    pub fn retroactive(&self) -> bool {
        self.void_from.is_some_and(|v| v < self.effective_from)
    }

    pub fn status_on(&self, on: Date) -> SanctionStatus {
        if self.lift.as_ref().is_some_and(|l| l.effective_on <= on) {
            SanctionStatus::Lifted
        } else if on < self.effective_from {
            SanctionStatus::Pending
        } else if self.effective_until.is_some_and(|u| on > u) {
            SanctionStatus::Expired
        } else {
            SanctionStatus::InForce
        }
    }

    pub fn in_force_on(&self, on: Date) -> bool {
        self.status_on(on) == SanctionStatus::InForce
    }

    /// Whether an evaluation held on `evaluated_on` is void because of this sanction:
    /// a withdrawal or suspension in force that day, or a retroactive withdrawal whose
    /// voiding date precedes it. Evaluations before a non-retroactive withdrawal stand.
    pub fn voids_evaluation_on(&self, evaluated_on: Date) -> bool {
        match self.measure {
            Measure::SuspensionOfAuthority => self.in_force_on(evaluated_on),
            Measure::WithdrawalOfAuthority => {
                let lifted_by = self.lift.as_ref().map(|l| l.effective_on);
                let start = self.void_from.map_or(self.effective_from, |v| v.min(self.effective_from));
                evaluated_on >= start && lifted_by.is_none_or(|l| evaluated_on < l)
            }
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::authorization::tests::d;

    fn sanction(measure: Measure, from: &str, until: Option<&str>, void_from: Option<&str>) -> Sanction {
        Sanction {
            id: "s".into(),
            subject: Subject { kind: SubjectKind::Committee, id: Some("c".into()), name: None },
            measure,
            region: "220000".into(),
            effective_from: d(from),
            effective_until: until.map(d),
            void_from: void_from.map(d),
            decided_by: "jilin".into(),
            document_number: "x".into(),
            legal_basis: "人社部令第40号".into(),
            summary: "".into(),
            logged_at: chrono::Utc::now(),
            lift: None,
        }
    }

    #[test]
    fn in_force_between_its_dates_until_lifted() {
        let mut s = sanction(Measure::SuspensionOfAuthority, "2023-01-01", Some("2023-06-30"), None);
        assert_eq!(s.status_on(d("2022-12-31")), SanctionStatus::Pending);
        assert_eq!(s.status_on(d("2023-01-01")), SanctionStatus::InForce);
        assert_eq!(s.status_on(d("2023-07-01")), SanctionStatus::Expired);
        s.lift = Some(Lift {
            effective_on: d("2023-03-01"),
            document_number: "y".into(),
            reason: None,
            logged_at: chrono::Utc::now(),
        });
        assert_eq!(s.status_on(d("2023-02-28")), SanctionStatus::InForce);
        assert_eq!(s.status_on(d("2023-03-01")), SanctionStatus::Lifted);
    }

    #[test]
    fn a_withdrawal_voids_later_evaluations_and_a_retroactive_one_earlier_ones_too() {
        let normal = sanction(Measure::WithdrawalOfAuthority, "2023-06-01", None, None);
        assert!(!normal.voids_evaluation_on(d("2023-05-31")));
        assert!(normal.voids_evaluation_on(d("2023-06-01")));
        let retro = sanction(Measure::WithdrawalOfAuthority, "2023-06-01", None, Some("2022-01-01"));
        assert!(retro.retroactive());
        assert!(retro.voids_evaluation_on(d("2022-03-01")));
        assert!(!retro.voids_evaluation_on(d("2021-12-31")));
        assert!(!sanction(Measure::Warning, "2023-01-01", None, None).voids_evaluation_on(d("2023-02-01")));
    }
}
