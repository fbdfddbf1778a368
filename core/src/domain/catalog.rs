//! The fixed catalog: the 27 title series, the five levels, and GB/T 2260 regions.
//!
//! The data is embedded from `core/data/catalog/` at build time, so the catalog is available
//! without I/O and the domain stays pure.

use super::code::Code;
use std::collections::HashMap;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

/// A professional-title series (职称系列), e.g. `ENGINEERING` 工程技术人员.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Series {
    /// Stable code, e.g. `ENGINEERING`.
    pub code: String,
    pub name_zh: String,
    pub name_en: String,
}

/// A title level (级别). Ordered from lowest to highest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Level {
    /// 员级 (the lower of the two junior grades)
    JuniorAssistant,
    /// 助理级 (初级)
    Junior,
    /// 中级
    Intermediate,
    /// 副高级
    AssociateSenior,
    /// 正高级
    Senior,
}

impl Code for Level {}

impl Level {
    pub const ALL: [Level; 5] =
        [Level::JuniorAssistant, Level::Junior, Level::Intermediate, Level::AssociateSenior, Level::Senior];

    pub fn name_zh(self) -> &'static str {
        match self {
            Level::JuniorAssistant => "员级",
            Level::Junior => "助理级",
            Level::Intermediate => "中级",
            Level::AssociateSenior => "副高级",
            Level::Senior => "正高级",
        }
    }

    /// Every level up to and including `self` ("副高级及以下").
    pub fn and_below(self) -> Vec<Level> {
        Level::ALL.into_iter().filter(|l| *l <= self).collect()
    }
}

/// A GB/T 2260 region, with its 6-digit code.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Region {
    /// 6-digit GB/T 2260 code, e.g. `220100`.
    pub code: String,
    pub name: String,
    /// The enclosing region's code; `000000` (nationwide) for provinces, absent for the root.
    pub parent: Option<String>,
    /// The full name from the province down, e.g. `吉林省长春市`.
    pub full_name: String,
}

/// The code that stands for the whole country; it contains every region.
pub const NATIONWIDE: &str = "000000";

/// Whether `outer` contains `inner` (a region contains itself). Containment follows the
/// GB/T 2260 code structure: `XX0000` is a province, `XXXX00` a prefecture-level unit.
pub fn region_contains(outer: &str, inner: &str) -> bool {
    if outer == NATIONWIDE {
        return true;
    }
    match region_prefix(outer) {
        Some(prefix) => inner.starts_with(prefix) && inner != NATIONWIDE,
        None => false,
    }
}

/// The code prefix shared by every region inside `code` (`220000` → `22`, `220100` → `2201`).
/// `None` for the nationwide root and for malformed codes.
pub fn region_prefix(code: &str) -> Option<&str> {
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) || code == NATIONWIDE {
        return None;
    }
    Some(if let Some(p) = code.strip_suffix("0000") {
        p
    } else if let Some(p) = code.strip_suffix("00") {
        p
    } else {
        code
    })
}

pub struct Catalog {
    series: Vec<Series>,
    regions: Vec<Region>,
    region_index: HashMap<String, usize>,
}

impl Catalog {
    /// The catalog embedded in the binary.
    pub fn get() -> &'static Catalog {
        static CATALOG: OnceLock<Catalog> = OnceLock::new();
        CATALOG.get_or_init(Catalog::load_embedded)
    }

    fn load_embedded() -> Catalog {
        let series = read_csv(include_str!("../../data/catalog/series.csv"))
            .into_iter()
            .map(|r| Series { code: r[0].clone(), name_zh: r[1].clone(), name_en: r[2].clone() })
            .collect();
        let mut regions = vec![Region {
            code: NATIONWIDE.to_string(),
            name: "全国".to_string(),
            parent: None,
            full_name: "全国".to_string(),
        }];
        let mut names: HashMap<String, String> = HashMap::new();
        for r in read_csv(include_str!("../../data/catalog/provinces.csv")) {
            let code = format!("{}0000", r[0]);
            names.insert(code.clone(), r[1].clone());
            regions.push(region(code, &r[1], NATIONWIDE.into(), r[1].clone()));
        }
        for r in read_csv(include_str!("../../data/catalog/cities.csv")) {
            let code = format!("{}00", r[0]);
            let parent = format!("{}0000", r[2]);
            let full = format!("{}{}", names.get(&parent).map_or("", |s| s), display_part(&r[1]));
            names.insert(code.clone(), full.clone());
            regions.push(region(code, &r[1], parent, full));
        }
        for r in read_csv(include_str!("../../data/catalog/areas.csv")) {
            let parent = format!("{}00", r[2]);
            let full = format!("{}{}", names.get(&parent).map_or("", |s| s), r[1]);
            regions.push(region(r[0].clone(), &r[1], parent, full));
        }
        let region_index = regions.iter().enumerate().map(|(i, r)| (r.code.clone(), i)).collect();
        Catalog { series, regions, region_index }
    }

    pub fn series(&self) -> &[Series] {
        &self.series
    }

    pub fn series_by_code(&self, code: &str) -> Option<&Series> {
        self.series.iter().find(|s| s.code == code)
    }

    pub fn region(&self, code: &str) -> Option<&Region> {
        self.region_index.get(code).map(|&i| &self.regions[i])
    }

    /// Direct children of `parent` (`000000` for the provinces).
    pub fn region_children(&self, parent: &str) -> Vec<&Region> {
        self.regions.iter().filter(|r| r.parent.as_deref() == Some(parent)).collect()
    }

    pub fn region_name(&self, code: &str) -> String {
        self.region(code).map(|r| r.full_name.clone()).unwrap_or_default()
    }
}

fn region(code: String, name: &str, parent: String, full_name: String) -> Region {
    Region { code, name: name.to_string(), parent: Some(parent), full_name }
}

/// "市辖区" and "县" are placeholders in GB/T 2260, not part of a readable full name.
fn display_part(name: &str) -> &str {
    match name {
        "市辖区" | "县" | "省直辖县级行政区划" | "自治区直辖县级行政区划" => "",
        other => other,
    }
}

fn read_csv(text: &str) -> Vec<Vec<String>> {
    csv::Reader::from_reader(text.as_bytes())
        .records()
        .map(|r| r.expect("embedded catalog CSV is well-formed").iter().map(str::to_string).collect())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::code::Code;

    #[test]
    fn catalog_has_27_series_and_known_regions() {
        let c = Catalog::get();
        assert_eq!(c.series().len(), 27);
        assert_eq!(c.region("220000").unwrap().name, "吉林省");
        assert_eq!(c.region("220100").unwrap().full_name, "吉林省长春市");
        assert_eq!(c.region("421202").unwrap().parent.as_deref(), Some("421200"));
        assert!(c.region("999999").is_none());
        assert_eq!(c.region_children(NATIONWIDE).len(), 31);
    }

    #[test]
    fn containment_follows_the_code_tree() {
        assert!(region_contains("220000", "220102"));
        assert!(region_contains("220100", "220102"));
        assert!(region_contains("220102", "220102"));
        assert!(!region_contains("220100", "220200"));
        assert!(!region_contains("220102", "220100"));
        assert!(region_contains(NATIONWIDE, "530000"));
        assert!(!region_contains("530000", NATIONWIDE));
        assert!(!region_contains("12345", "123456"));
    }

    #[test]
    fn levels_are_ordered() {
        assert_eq!(Level::AssociateSenior.and_below().len(), 4);
        assert_eq!(Level::parse("senior"), Some(Level::Senior));
        assert_eq!(Level::parse("professor"), None);
    }
}
