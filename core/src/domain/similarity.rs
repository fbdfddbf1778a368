//! How alike two organization names are, for finding look-alikes of committees (名称仿冒):
//! names folded to simplified characters, stripped of the words every such name shares (省, 市,
//! 中心, 委员会, 有限公司 …) and of punctuation, then compared by their character bigrams (Dice).
//! Pure: the bulk matcher and the reconciliation service call it.

use std::collections::BTreeSet;

use super::search::simplified;

/// Words that say what kind of body a name is, not which one: a look-alike keeps them.
const NOISE: [&str; 16] = [
    "有限责任公司",
    "有限公司",
    "评审委员会",
    "委员会",
    "评审中心",
    "服务中心",
    "中心",
    "职称",
    "评审",
    "高级",
    "中级",
    "初级",
    "专业",
    "人员",
    "省",
    "市",
];

/// The name as compared: simplified, without noise words, punctuation or spaces.
pub fn fold(name: &str) -> String {
    let mut text = simplified(name);
    for noise in NOISE {
        text = text.replace(noise, "");
    }
    text.chars().filter(|c| c.is_alphanumeric()).flat_map(char::to_lowercase).collect()
}

/// The character bigrams of a folded name (a one-character name is its own bigram).
pub fn bigrams(folded: &str) -> BTreeSet<(char, char)> {
    let chars: Vec<char> = folded.chars().collect();
    match chars.len() {
        0 => BTreeSet::new(),
        1 => BTreeSet::from([(chars[0], chars[0])]),
        _ => chars.windows(2).map(|w| (w[0], w[1])).collect(),
    }
}

/// Dice's coefficient of two bigram sets, 0 to 1.
pub fn dice(a: &BTreeSet<(char, char)>, b: &BTreeSet<(char, char)>) -> f64 {
    if a.is_empty() || b.is_empty() {
        return 0.0;
    }
    2.0 * a.intersection(b).count() as f64 / (a.len() + b.len()) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn score(a: &str, b: &str) -> f64 {
        dice(&bigrams(&fold(a)), &bigrams(&fold(b)))
    }

    #[test]
    fn look_alikes_score_high_and_strangers_low() {
        let real = "吉林省工程技术人员高级职称评审委员会";
        assert_eq!(fold(real), "吉林工程技术");
        assert!(score(real, "吉林省工程技术职称评审中心") > 0.9);
        assert!(score(real, "吉林工程技術人員職稱評審服務中心") > 0.9, "traditional characters fold");
        assert!(score(real, "吉林省工程技术评审有限公司") > 0.9);
        assert!(score(real, "云南省卫生技术人员高级职称评审委员会") < 0.5);
        assert_eq!(score(real, "%%%"), 0.0);
    }
}
