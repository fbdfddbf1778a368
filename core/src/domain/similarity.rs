//! How alike two organization names are, for finding look-alikes of committees (名称仿冒):
//! names folded to simplified characters, stripped of the words every such name shares (省, 市,
//! 中心, 委员会, 有限公司 …) and of punctuation, then compared two ways, the better counting: by
//! their character bigrams (Dice), and by the letter trigrams of their pinyin (Dice), which
//! catches a name that sounds the same with other characters (工城 for 工程) or is written in
//! pinyin. Pure: the bulk matcher and the reconciliation service call it.

use std::collections::BTreeSet;

use super::search::{pinyin_spelling, simplified};

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

/// The noise words of more than one syllable as they are spelled, longest first: a name
/// written in pinyin has no syllable boundaries to strip single syllables (省 sheng) at.
const NOISE_SPELLED: [&str; 14] = [
    "youxianzerengongsi",
    "pingshenweiyuanhui",
    "youxiangongsi",
    "pingshenzhongxin",
    "fuwuzhongxin",
    "weiyuanhui",
    "zhongxin",
    "zhicheng",
    "pingshen",
    "zhuanye",
    "renyuan",
    "zhongji",
    "gaoji",
    "chuji",
];

/// A name folded for comparison: its character bigrams and its pinyin's letter trigrams.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Folded {
    pub grams: BTreeSet<(char, char)>,
    pub sounds: BTreeSet<[u8; 3]>,
}

impl Folded {
    pub fn new(name: &str) -> Folded {
        let folded = fold(name);
        Folded { grams: bigrams(&folded), sounds: trigrams(&sounds(name, &folded)) }
    }

    pub fn is_empty(&self) -> bool {
        self.grams.is_empty() && self.sounds.is_empty()
    }

    /// How alike two names are, 0 to 1: the better of the two comparisons.
    pub fn score(&self, other: &Folded) -> f64 {
        dice(&self.grams, &other.grams).max(dice(&self.sounds, &other.sounds))
    }
}

/// The folded name's pinyin, letters only; for a name written in Latin letters, without the
/// spelled noise words.
fn sounds(name: &str, folded: &str) -> String {
    let mut spelled: String = pinyin_spelling(folded).chars().filter(char::is_ascii_lowercase).collect();
    if !name.chars().any(|c| c as u32 >= 0x2E80) {
        for noise in NOISE_SPELLED {
            spelled = spelled.replace(noise, "");
        }
    }
    spelled
}

/// The letter trigrams of a pinyin spelling (a shorter one is its own, padded).
pub fn trigrams(spelled: &str) -> BTreeSet<[u8; 3]> {
    let bytes = spelled.as_bytes();
    match bytes.len() {
        0 => BTreeSet::new(),
        1 | 2 => BTreeSet::from([[bytes[0], *bytes.get(1).unwrap_or(&b' '), b' ']]),
        _ => bytes.windows(3).map(|w| [w[0], w[1], w[2]]).collect(),
    }
}

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

/// Dice's coefficient of two sets, 0 to 1.
pub fn dice<T: Ord>(a: &BTreeSet<T>, b: &BTreeSet<T>) -> f64 {
    if a.is_empty() || b.is_empty() {
        return 0.0;
    }
    2.0 * a.intersection(b).count() as f64 / (a.len() + b.len()) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn score(a: &str, b: &str) -> f64 {
        Folded::new(a).score(&Folded::new(b))
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

    #[test]
    fn names_that_sound_the_same_or_are_spelled_in_pinyin_are_look_alikes() {
        let real = "吉林省工程技术人员高级职称评审委员会";
        assert_eq!(score(real, "吉林省工城技朮人员高级职称评审中心"), 1.0, "homophones");
        assert!(score(real, "jilin gongcheng jishu zhicheng pingshen zhongxin") > 0.9, "pinyin");
        assert!(score(real, "Jilinsheng Gongcheng Jishu Pingshen Weiyuanhui") > 0.8, "pinyin with sheng");
        // Unrelated names share common syllables (技术 jishu, 工程 gongcheng) but stay apart.
        assert!(score(real, "云南省卫生技术人员高级职称评审委员会") < 0.5);
        assert!(score(real, "长春市建筑工程职称评审委员会") < 0.6);
        assert!(score(real, "shanghai jiaotong daxue") < 0.3);
    }
}
