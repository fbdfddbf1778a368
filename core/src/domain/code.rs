//! Enumerations are stored, sent and parsed by one name: the one serde gives each variant
//! (`rename_all = "snake_case"`). No enumeration spells its codes out by hand, so the database,
//! the JSON answers and the query parameters cannot disagree.

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde::de::value::{Error as ValueError, StrDeserializer};

/// An enumeration of unit variants with a stable code.
pub trait Code: Serialize + DeserializeOwned + Copy {
    /// The variant's code, e.g. `associate_senior`.
    fn code(self) -> &'static str {
        serde_variant::to_variant_name(&self).expect("a Code enumeration has only unit variants")
    }

    /// The variant with this code.
    fn parse(code: &str) -> Option<Self> {
        Self::deserialize(StrDeserializer::<ValueError>::new(code)).ok()
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::*;

    #[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
    #[serde(rename_all = "snake_case")]
    enum Grade {
        AssociateSenior,
        Senior,
    }

    impl Code for Grade {}

    #[test]
    fn codes_are_the_serde_names_and_parse_back() {
        for grade in [Grade::AssociateSenior, Grade::Senior] {
            assert_eq!(serde_json::to_value(grade).unwrap(), grade.code());
            assert_eq!(Grade::parse(grade.code()), Some(grade));
        }
        assert_eq!(Grade::AssociateSenior.code(), "associate_senior");
        assert_eq!(Grade::parse("AssociateSenior"), None);
        assert_eq!(Grade::parse(""), None);
    }
}
