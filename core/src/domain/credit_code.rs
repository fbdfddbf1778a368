//! Unified social credit codes (统一社会信用代码), GB 32100-2015.
//!
//! 18 characters from the 31-symbol alphabet `0-9A-Z` without I, O, S, V, Z; the last one is a
//! check character computed from the first 17 with weights 3^i mod 31.

const ALPHABET: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
const WEIGHTS: [u32; 17] = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CreditCodeError {
    Length,
    Character,
    CheckCharacter,
}

impl CreditCodeError {
    pub fn message_zh(self) -> &'static str {
        match self {
            CreditCodeError::Length => "统一社会信用代码应为18位",
            CreditCodeError::Character => "统一社会信用代码含有无效字符",
            CreditCodeError::CheckCharacter => "统一社会信用代码校验位错误",
        }
    }
    pub fn message_en(self) -> &'static str {
        match self {
            CreditCodeError::Length => "a unified social credit code has 18 characters",
            CreditCodeError::Character => "the unified social credit code has an invalid character",
            CreditCodeError::CheckCharacter => "the unified social credit code's check character is wrong",
        }
    }
}

fn value(c: u8) -> Option<u32> {
    ALPHABET.iter().position(|&a| a == c).map(|p| p as u32)
}

/// The check character for the first 17 characters of a code.
pub fn check_character(first17: &str) -> Result<char, CreditCodeError> {
    if first17.len() != 17 {
        return Err(CreditCodeError::Length);
    }
    let mut sum = 0;
    for (c, w) in first17.bytes().zip(WEIGHTS) {
        sum += value(c).ok_or(CreditCodeError::Character)? * w;
    }
    let check = (31 - sum % 31) % 31;
    Ok(ALPHABET[check as usize] as char)
}

/// Validates a complete 18-character code.
pub fn validate(code: &str) -> Result<(), CreditCodeError> {
    if !code.is_ascii() || code.len() != 18 {
        return Err(CreditCodeError::Length);
    }
    let expected = check_character(&code[..17])?;
    let last = code.as_bytes()[17];
    value(last).ok_or(CreditCodeError::Character)?;
    if last as char == expected { Ok(()) } else { Err(CreditCodeError::CheckCharacter) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_published_codes() {
        // Published codes of real organizations (from their public registrations).
        for code in ["91350100M000100Y43", "91110000600037341L", "12100000400000624D"] {
            assert_eq!(validate(code), Ok(()), "{code}");
        }
    }

    #[test]
    fn rejects_wrong_check_character_length_and_alphabet() {
        assert_eq!(validate("91350100M000100Y44"), Err(CreditCodeError::CheckCharacter));
        assert_eq!(validate("91350100M000100Y4"), Err(CreditCodeError::Length));
        assert_eq!(validate("91350100I000100Y43"), Err(CreditCodeError::Character));
        assert_eq!(validate("９１350100M000100Y4"), Err(CreditCodeError::Length));
    }
}
