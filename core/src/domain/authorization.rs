//! Authorizations (评审权限 / 核准备案): what a committee may evaluate, for whom, and when.
//!
//! An authorization is never edited in place. Its history is a list of records (granted,
//! amended, suspended, reinstated, withdrawn), each effective from a date; its terms and
//! status on any date are derived from the records in force on that date.

use super::code::Code;
use serde::{Deserialize, Serialize};

use super::Date;
use super::authority::{AuthorityGraph, CompetenceGap, CompetenceItem};
use super::catalog::{Level, region_contains};

/// Whose applicants an authorization covers: one shape or the other, never a mix (a grant sent
/// with both `regions` and `own_staff` is refused, not read as the broader of the two).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(untagged, deny_unknown_fields)]
pub enum Scope {
    /// Applicants from these GB/T 2260 region subtrees.
    Regions { regions: Vec<String> },
    /// Only the organizing unit's own staff (自主评审 / 评聘结合).
    OwnStaff { own_staff: bool },
}

/// The terms of an authorization as granted or amended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Terms {
    /// A series code from the catalog.
    pub series: String,
    /// Empty means every specialty of the series.
    pub specialties: Vec<String>,
    pub levels: Vec<Level>,
    pub scope: Scope,
    pub valid_from: Date,
    pub valid_until: Date,
}

impl Terms {
    /// The regions its scope reaches; an own-staff scope reaches the committee's own region.
    pub fn scope_regions<'a>(&'a self, committee_region: &'a str) -> Vec<&'a str> {
        match &self.scope {
            Scope::Regions { regions } => regions.iter().map(String::as_str).collect(),
            Scope::OwnStaff { .. } => vec![committee_region],
        }
    }

    /// Its specialties, or `None` alone for the whole series.
    pub fn specialty_choices(&self) -> Vec<Option<&str>> {
        if self.specialties.is_empty() {
            vec![None]
        } else {
            self.specialties.iter().map(|s| Some(s.as_str())).collect()
        }
    }

    pub fn covers_specialty(&self, specialty: &str) -> bool {
        self.specialties.is_empty() || self.specialties.iter().any(|s| s == specialty)
    }

    pub fn covers_region(&self, region: &str) -> bool {
        match &self.scope {
            Scope::Regions { regions } => regions.iter().any(|r| region_contains(r, region)),
            Scope::OwnStaff { .. } => false,
        }
    }

    pub fn own_staff_only(&self) -> bool {
        matches!(self.scope, Scope::OwnStaff { .. })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Granted,
    Amended,
    Suspended,
    Reinstated,
    Withdrawn,
}

impl Code for Action {}

/// One record in an authorization's history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HistoryRecord {
    pub action: Action,
    /// The date from which the record takes effect.
    pub effective_on: Date,
    pub document_number: String,
    pub note: Option<String>,
    /// When the registry recorded it (RFC 3339, UTC).
    pub logged_at: chrono::DateTime<chrono::Utc>,
    /// New terms, for `granted` and `amended`.
    pub terms: Option<Terms>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum AuthorizationStatus {
    Pending,
    Active,
    Expired,
    Suspended,
    Withdrawn,
}

/// An authorization with its full history, oldest record first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Authorization {
    pub id: String,
    pub committee_id: String,
    pub granted_by: String,
    pub document_number: String,
    pub history: Vec<HistoryRecord>,
}

impl Authorization {
    /// The levels of its terms on `on` that its grantor could not lawfully grant — for some
    /// region of its scope or some specialty of its terms — each with the first gap found
    /// (`committee_region` is the scope of an own-staff authorization). At those levels the
    /// authorization authorizes nothing, whatever its own status says.
    pub fn beyond_grantor_competence(
        &self,
        graph: &AuthorityGraph,
        committee_region: &str,
        on: Date,
    ) -> Vec<(Level, CompetenceGap)> {
        let terms = self.terms_on(on);
        let (regions, specialties) = (terms.scope_regions(committee_region), terms.specialty_choices());
        terms
            .levels
            .iter()
            .filter_map(|&level| {
                let gap = regions.iter().find_map(|region| {
                    specialties.iter().find_map(|specialty| {
                        let item = CompetenceItem { series: &terms.series, specialty: *specialty, level, region, on };
                        graph.competent(&self.granted_by, &item).err()
                    })
                });
                gap.map(|g| (level, g))
            })
            .collect()
    }

    /// Whether it lawfully authorized anything on `on`: active, with at least one level within
    /// what its grantor could grant.
    pub fn lawfully_active(&self, graph: &AuthorityGraph, committee_region: &str, on: Date) -> bool {
        self.status_on(on) == AuthorizationStatus::Active
            && self.beyond_grantor_competence(graph, committee_region, on).len() < self.terms_on(on).levels.len()
    }

    fn in_force_on(&self, on: Date) -> impl Iterator<Item = &HistoryRecord> {
        self.history.iter().filter(move |r| r.effective_on <= on)
    }

    /// The terms in force on `on`: the latest grant or amendment effective by then, or the
    /// original grant when asked about a date before it.
    pub fn terms_on(&self, on: Date) -> &Terms {
        self.in_force_on(on)
            .filter_map(|r| r.terms.as_ref())
            .last()
            .or_else(|| self.history.iter().find_map(|r| r.terms.as_ref()))
            .expect("an authorization has a granting record")
    }

    /// The withdrawal in force on `on`, if any.
    pub fn withdrawal_on(&self, on: Date) -> Option<&HistoryRecord> {
        self.in_force_on(on).find(|r| r.action == Action::Withdrawn)
    }

    /// The suspension in force on `on`: the latest suspend/reinstate record by then is a suspension.
    pub fn suspension_on(&self, on: Date) -> Option<&HistoryRecord> {
        self.in_force_on(on)
            .filter(|r| matches!(r.action, Action::Suspended | Action::Reinstated))
            .last()
            .filter(|r| r.action == Action::Suspended)
    }

    pub fn status_on(&self, on: Date) -> AuthorizationStatus {
        let terms = self.terms_on(on);
        if self.withdrawal_on(on).is_some() {
            AuthorizationStatus::Withdrawn
        } else if on < terms.valid_from {
            AuthorizationStatus::Pending
        } else if on > terms.valid_until {
            AuthorizationStatus::Expired
        } else if self.suspension_on(on).is_some() {
            AuthorizationStatus::Suspended
        } else {
            AuthorizationStatus::Active
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub fn d(s: &str) -> Date {
        Date::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    pub fn record(action: Action, on: &str, terms: Option<Terms>) -> HistoryRecord {
        HistoryRecord {
            action,
            effective_on: d(on),
            document_number: format!("测试〔{on}〕号"),
            note: None,
            logged_at: chrono::Utc::now(),
            terms,
        }
    }

    pub fn terms(levels: &[Level], from: &str, until: &str) -> Terms {
        Terms {
            series: "ENGINEERING".into(),
            specialties: vec![],
            levels: levels.to_vec(),
            scope: Scope::Regions { regions: vec!["220000".into()] },
            valid_from: d(from),
            valid_until: d(until),
        }
    }

    /// Jilin (provincial) may grant anything in 220000; Changchun (municipal) only what Jilin
    /// delegated to it: engineering up to associate senior.
    pub fn jilin_graph() -> AuthorityGraph {
        let a = |id: &str, level, region: &str| crate::domain::authority::Authority {
            id: id.into(),
            name: id.into(),
            level,
            region: region.into(),
            parent_id: None,
        };
        AuthorityGraph::new(
            vec![
                a("jilin", crate::domain::authority::AuthorityLevel::Provincial, "220000"),
                a("changchun", crate::domain::authority::AuthorityLevel::Municipal, "220100"),
            ],
            vec![crate::domain::authority::Delegation {
                id: "del".into(),
                authority_id: "changchun".into(),
                delegated_by: "jilin".into(),
                series: "ENGINEERING".into(),
                specialties: vec![],
                levels: Level::AssociateSenior.and_below(),
                valid_from: d("2020-01-01"),
                valid_until: None,
                document_number: "吉人社函〔2022〕38号".into(),
            }],
        )
    }

    fn authorization(history: Vec<HistoryRecord>) -> Authorization {
        Authorization {
            id: "a".into(),
            committee_id: "c".into(),
            granted_by: "g".into(),
            document_number: "x".into(),
            history,
        }
    }

    #[test]
    fn status_follows_the_validity_window() {
        let a = authorization(vec![record(
            Action::Granted,
            "2022-01-01",
            Some(terms(&[Level::Senior], "2022-01-01", "2024-12-31")),
        )]);
        assert_eq!(a.status_on(d("2021-12-31")), AuthorizationStatus::Pending);
        assert_eq!(a.status_on(d("2022-01-01")), AuthorizationStatus::Active);
        assert_eq!(a.status_on(d("2024-12-31")), AuthorizationStatus::Active);
        assert_eq!(a.status_on(d("2025-01-01")), AuthorizationStatus::Expired);
    }

    #[test]
    fn suspension_reinstatement_and_withdrawal_take_effect_on_their_dates() {
        let a = authorization(vec![
            record(Action::Granted, "2022-01-01", Some(terms(&[Level::Senior], "2022-01-01", "2024-12-31"))),
            record(Action::Suspended, "2022-06-01", None),
            record(Action::Reinstated, "2022-09-01", None),
            record(Action::Withdrawn, "2023-03-01", None),
        ]);
        assert_eq!(a.status_on(d("2022-05-31")), AuthorizationStatus::Active);
        assert_eq!(a.status_on(d("2022-06-01")), AuthorizationStatus::Suspended);
        assert_eq!(a.status_on(d("2022-09-01")), AuthorizationStatus::Active);
        assert_eq!(a.status_on(d("2023-02-28")), AuthorizationStatus::Active);
        assert_eq!(a.status_on(d("2023-03-01")), AuthorizationStatus::Withdrawn);
    }

    #[test]
    fn amendments_change_terms_from_their_effective_date_only() {
        let a = authorization(vec![
            record(Action::Granted, "2022-01-01", Some(terms(&[Level::Intermediate], "2022-01-01", "2024-12-31"))),
            record(
                Action::Amended,
                "2023-01-01",
                Some(terms(&[Level::Intermediate, Level::AssociateSenior], "2022-01-01", "2024-12-31")),
            ),
        ]);
        assert_eq!(a.terms_on(d("2022-12-31")).levels, vec![Level::Intermediate]);
        assert_eq!(a.terms_on(d("2023-01-01")).levels.len(), 2);
        assert_eq!(a.terms_on(d("2021-01-01")).levels, vec![Level::Intermediate]);
    }
}
