//! Authorities (人社部门 / 职改办 / 行业主管部门), their tree, and their competence:
//! what each may authorize, on which date.
//!
//! The national level may authorize anything; a province anything inside the province; a
//! municipal or county authority only what a competent authority above it delegated to it
//! ("谁授权、谁负责"). This is the name-constraint rule of an X.509 chain, applied to titles.

use super::code::Code;
use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::Date;
use super::catalog::{Level, region_contains};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum AuthorityLevel {
    National,
    Provincial,
    Municipal,
    County,
}

impl Code for AuthorityLevel {}

impl AuthorityLevel {
    /// 0 for the national level; each level below adds one.
    pub fn depth(self) -> u8 {
        match self {
            AuthorityLevel::National => 0,
            AuthorityLevel::Provincial => 1,
            AuthorityLevel::Municipal => 2,
            AuthorityLevel::County => 3,
        }
    }
}

/// An HR authority with a jurisdiction.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Authority {
    pub id: String,
    pub name: String,
    pub level: AuthorityLevel,
    /// The jurisdiction: a 6-digit GB/T 2260 code (`000000` for the national level).
    pub region: String,
    /// The authority above this one in the tree.
    pub parent_id: Option<String>,
}

/// A delegation of evaluation-approval competence to an authority (e.g. 吉人社函〔2022〕38号
/// delegating 档案系列副高级及以下 to the cities).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Delegation {
    pub id: String,
    /// The authority that receives the competence.
    pub authority_id: String,
    /// The authority that delegates it; it must itself be competent.
    pub delegated_by: String,
    pub series: String,
    /// Empty means every specialty of the series.
    pub specialties: Vec<String>,
    pub levels: Vec<Level>,
    pub valid_from: Date,
    /// Open-ended when absent.
    pub valid_until: Option<Date>,
    pub document_number: String,
}

impl Delegation {
    fn covers(&self, item: &CompetenceItem<'_>) -> bool {
        self.series == item.series
            && self.levels.contains(&item.level)
            && (self.specialties.is_empty() || item.specialty.is_some_and(|s| self.specialties.iter().any(|d| d == s)))
            && self.valid_from <= item.on
            && self.valid_until.is_none_or(|u| item.on <= u)
    }
}

/// One thing an authority might authorize: a series (and specialty) at a level, for
/// applicants from a region, on a date.
#[derive(Debug, Clone, Copy)]
pub struct CompetenceItem<'a> {
    pub series: &'a str,
    /// `None` asks for the whole series.
    pub specialty: Option<&'a str>,
    pub level: Level,
    pub region: &'a str,
    pub on: Date,
}

/// Why an authority was not competent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CompetenceGap {
    UnknownAuthority(String),
    OutsideJurisdiction { authority_id: String },
    NotDelegated { authority_id: String },
}

/// All authorities and delegations: small (thousands), read often, so loaded whole.
#[derive(Debug, Default, Clone)]
pub struct AuthorityGraph {
    authorities: HashMap<String, Authority>,
    delegations: HashMap<String, Vec<Delegation>>,
}

impl AuthorityGraph {
    pub fn new(authorities: Vec<Authority>, delegations: Vec<Delegation>) -> Self {
        let mut by_authority: HashMap<String, Vec<Delegation>> = HashMap::new();
        for d in delegations {
            by_authority.entry(d.authority_id.clone()).or_default().push(d);
        }
        AuthorityGraph {
            authorities: authorities.into_iter().map(|a| (a.id.clone(), a)).collect(),
            delegations: by_authority,
        }
    }

    pub fn get(&self, id: &str) -> Option<&Authority> {
        self.authorities.get(id)
    }

    /// Whether `ancestor` is `id` or one of its parents: an authority supervises what the
    /// authorities below it approved ("谁授权、谁负责监管").
    pub fn is_self_or_ancestor(&self, ancestor: &str, id: &str) -> bool {
        let mut current = Some(id);
        for _ in 0..16 {
            match current {
                Some(c) if c == ancestor => return true,
                Some(c) => current = self.get(c).and_then(|a| a.parent_id.as_deref()),
                None => return false,
            }
        }
        false
    }

    /// Adds an authority published inside a running write, so later operations see it.
    pub fn add_authority(&mut self, authority: Authority) {
        self.authorities.insert(authority.id.clone(), authority);
    }

    pub fn add_delegation(&mut self, delegation: Delegation) {
        self.delegations.entry(delegation.authority_id.clone()).or_default().push(delegation);
    }

    pub fn rename(&mut self, id: &str, name: &str) {
        if let Some(a) = self.authorities.get_mut(id) {
            a.name = name.to_string();
        }
    }

    pub fn authorities(&self) -> impl Iterator<Item = &Authority> {
        self.authorities.values()
    }

    pub fn delegations(&self) -> impl Iterator<Item = &Delegation> {
        self.delegations.values().flatten()
    }

    pub fn delegations_to(&self, id: &str) -> &[Delegation] {
        self.delegations.get(id).map_or(&[], Vec::as_slice)
    }

    /// Whether `authority_id` could authorize `item`. Follows delegations upward; the depth
    /// bound makes a (malformed) delegation cycle fail instead of looping.
    pub fn competent(&self, authority_id: &str, item: &CompetenceItem<'_>) -> Result<(), CompetenceGap> {
        self.competent_at_depth(authority_id, item, 0)
    }

    fn competent_at_depth(&self, id: &str, item: &CompetenceItem<'_>, depth: usize) -> Result<(), CompetenceGap> {
        let authority = self.get(id).ok_or_else(|| CompetenceGap::UnknownAuthority(id.to_string()))?;
        if !region_contains(&authority.region, item.region) {
            return Err(CompetenceGap::OutsideJurisdiction { authority_id: id.to_string() });
        }
        match authority.level {
            AuthorityLevel::National | AuthorityLevel::Provincial => Ok(()),
            AuthorityLevel::Municipal | AuthorityLevel::County => {
                let delegated = depth < 8
                    && self
                        .delegations_to(id)
                        .iter()
                        .any(|d| d.covers(item) && self.competent_at_depth(&d.delegated_by, item, depth + 1).is_ok());
                if delegated { Ok(()) } else { Err(CompetenceGap::NotDelegated { authority_id: id.to_string() }) }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Date {
        Date::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn authority(id: &str, level: AuthorityLevel, region: &str, parent: Option<&str>) -> Authority {
        Authority { id: id.into(), name: id.into(), level, region: region.into(), parent_id: parent.map(Into::into) }
    }

    fn graph() -> AuthorityGraph {
        AuthorityGraph::new(
            vec![
                authority("mohrss", AuthorityLevel::National, "000000", None),
                authority("jilin", AuthorityLevel::Provincial, "220000", Some("mohrss")),
                authority("changchun", AuthorityLevel::Municipal, "220100", Some("jilin")),
                authority("jilin-city", AuthorityLevel::Municipal, "220200", Some("jilin")),
            ],
            vec![Delegation {
                id: "del-1".into(),
                authority_id: "changchun".into(),
                delegated_by: "jilin".into(),
                series: "ENGINEERING".into(),
                specialties: vec!["建筑工程".into(), "交通工程".into()],
                levels: vec![Level::Senior],
                valid_from: d("2022-01-01"),
                valid_until: Some(d("2024-12-31")),
                document_number: "吉人社函〔2022〕38号".into(),
            }],
        )
    }

    fn item<'a>(
        series: &'a str,
        specialty: Option<&'a str>,
        level: Level,
        region: &'a str,
        on: &str,
    ) -> CompetenceItem<'a> {
        CompetenceItem { series, specialty, level, region, on: d(on) }
    }

    #[test]
    fn national_and_provincial_levels_are_competent_inside_their_jurisdiction() {
        let g = graph();
        assert!(g.competent("mohrss", &item("HEALTH", None, Level::Senior, "530100", "2023-01-01")).is_ok());
        assert!(g.competent("jilin", &item("HEALTH", None, Level::Senior, "220102", "2023-01-01")).is_ok());
        assert_eq!(
            g.competent("jilin", &item("HEALTH", None, Level::Senior, "530100", "2023-01-01")),
            Err(CompetenceGap::OutsideJurisdiction { authority_id: "jilin".into() })
        );
    }

    #[test]
    fn a_city_is_competent_only_for_what_was_delegated_while_it_was_delegated() {
        let g = graph();
        let ok = item("ENGINEERING", Some("建筑工程"), Level::Senior, "220102", "2023-06-01");
        assert!(g.competent("changchun", &ok).is_ok());
        for bad in [
            item("ENGINEERING", Some("电子工程"), Level::Senior, "220102", "2023-06-01"),
            item("ENGINEERING", None, Level::Senior, "220102", "2023-06-01"),
            item("ENGINEERING", Some("建筑工程"), Level::AssociateSenior, "220102", "2023-06-01"),
            item("HEALTH", None, Level::Senior, "220102", "2023-06-01"),
            item("ENGINEERING", Some("建筑工程"), Level::Senior, "220102", "2025-01-01"),
        ] {
            assert_eq!(
                g.competent("changchun", &bad),
                Err(CompetenceGap::NotDelegated { authority_id: "changchun".into() })
            );
        }
        assert!(g.competent("jilin-city", &ok).is_err());
        assert!(matches!(g.competent("nobody", &ok), Err(CompetenceGap::UnknownAuthority(_))));
    }
}
