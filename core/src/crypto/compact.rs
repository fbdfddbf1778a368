//! The compact form of a certificate for QR codes, after the EU digital COVID certificate:
//! `ZC1:` + Base45(zlib(JCS(credential))). Base45 uses only QR-alphanumeric characters, so the
//! code stays small; the JCS bytes decompress to the same credential, whose signature verifies.

use std::io::{Read, Write};

use serde_json::Value;

pub const PREFIX: &str = "ZC1:";

pub fn encode(credential: &Value) -> String {
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    z.write_all(&super::jcs(credential)).expect("writing to memory");
    format!("{PREFIX}{}", base45::encode(z.finish().expect("writing to memory")))
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CompactError {
    #[error("not a zhicheng QR text (it must start with {PREFIX})")]
    Prefix,
    #[error("invalid Base45")]
    Base45,
    #[error("invalid compressed data")]
    Zlib,
    #[error("the content is not JSON")]
    Json,
}

/// A QR code's content as a URL on the registry that carries the compact form in its fragment
/// (`<registry>/v#ZC1:…`): any phone camera opens it, and a fragment is never sent to a server.
/// Base45's `%` and space are percent-encoded, so the URL is valid and `decodeURIComponent`
/// restores the text.
pub fn url(registry: &str, credential: &Value) -> String {
    let fragment = encode(credential).replace('%', "%25").replace(' ', "%20");
    format!("{}/v#{fragment}", registry.trim_end_matches('/'))
}

/// The compact form in a QR code's content: `ZC1:…` itself, or the fragment of a URL that
/// carries it.
pub fn compact_part(text: &str) -> std::borrow::Cow<'_, str> {
    let text = text.trim();
    match text.split_once('#') {
        Some((_, fragment)) if fragment.starts_with(PREFIX) => fragment.replace("%20", " ").replace("%25", "%").into(),
        _ => text.into(),
    }
}

/// The credential in a QR code's content (`ZC1:…`, or a URL carrying it).
pub fn decode(text: &str) -> Result<Value, CompactError> {
    let compact = compact_part(text);
    let body = compact.strip_prefix(PREFIX).ok_or(CompactError::Prefix)?;
    let compressed = base45::decode(body).map_err(|_| CompactError::Base45)?;
    let mut json = Vec::new();
    flate2::read::ZlibDecoder::new(&compressed[..])
        .take(1024 * 1024)
        .read_to_end(&mut json)
        .map_err(|_| CompactError::Zlib)?;
    serde_json::from_slice(&json).map_err(|_| CompactError::Json)
}

#[cfg(test)]
mod url_tests {
    use super::*;

    #[test]
    fn a_qr_url_carries_the_compact_form_in_its_fragment() {
        let credential = serde_json::json!({"a": 1});
        let url = url("https://registry.example/", &credential);
        assert!(url.starts_with("https://registry.example/v#ZC1:"));
        assert!(!url.contains(' '), "{url}");
        assert_eq!(decode(&url).unwrap(), credential);
        assert_eq!(decode(&encode(&credential)).unwrap(), credential);
        assert_eq!(decode("https://registry.example/v#other"), Err(CompactError::Prefix));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_to_the_same_credential_in_qr_alphanumerics() {
        let credential = serde_json::json!({"credentialSubject": {"holderName": "张小三", "level": "senior"}, "proof": {"proofValue": "z5abc"}});
        let text = encode(&credential);
        assert!(text.starts_with(PREFIX));
        assert!(text.chars().all(|c| "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:".contains(c)), "{text}");
        assert_eq!(decode(&text).unwrap(), credential);
        assert_eq!(decode("HC1:abc"), Err(CompactError::Prefix));
        assert_eq!(decode("ZC1:!!"), Err(CompactError::Base45));
    }
}
