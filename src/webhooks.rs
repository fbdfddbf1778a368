//! Notifications of watched changes, per the Standard Webhooks specification
//! (standardwebhooks.com): each a JSON POST with `webhook-id`, `webhook-timestamp` and
//! `webhook-signature: v1a,<base64 Ed25519 signature of "id.timestamp.body">`, signed with the
//! registry's key (published at `GET /api/v1/webhooks/key` as `whpk_…`). A failed delivery is
//! retried on a backoff schedule, and every attempt is recorded (the delivery log); the change
//! feed stays the fallback that never misses anything.
//!
//! One loop a second: match the new log entries against the watch-lists (queuing notifications
//! in the same transaction that moves the cursor), then send what is due.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::Utc;
use ed25519_dalek::{Signer, SigningKey};
use futures_util::StreamExt;

use crate::store::{Attempt, DueDelivery, DynStore, Event, WatchItem};

/// Events matched per transaction.
const MATCH_BATCH: u32 = 500;
/// Notifications sent per round, and at once.
const SEND_BATCH: i64 = 200;
const SEND_CONCURRENCY: usize = 16;

#[derive(Debug, Clone)]
pub struct WebhookSettings {
    /// The wait before each retry; after the last, a notification is given up.
    pub backoff: Vec<Duration>,
    /// Whether URLs may point at loopback, private or link-local addresses (tests, a closed
    /// network). Off by default: the registry must not be made to call into its own network.
    pub allow_private: bool,
    pub timeout: Duration,
    /// How often the dispatcher looks for work.
    pub every: Duration,
}

impl Default for WebhookSettings {
    /// Standard Webhooks' suggested schedule: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h.
    fn default() -> WebhookSettings {
        let s = Duration::from_secs;
        WebhookSettings {
            backoff: vec![s(5), s(300), s(1800), s(7200), s(18000), s(36000), s(36000)],
            allow_private: false,
            timeout: s(10),
            every: s(1),
        }
    }
}

/// The public key receivers verify with, in Standard Webhooks' form.
pub fn public_key(key: &SigningKey) -> String {
    format!("whpk_{}", STANDARD.encode(key.verifying_key().to_bytes()))
}

/// `v1a,<signature>` over `id.timestamp.body`.
pub fn sign(key: &SigningKey, id: &str, timestamp: i64, body: &str) -> String {
    let signature = key.sign(format!("{id}.{timestamp}.{body}").as_bytes());
    format!("v1a,{}", STANDARD.encode(signature.to_bytes()))
}

/// A notification's body: the event as the log holds it, and what on the list it concerns.
pub fn body(event: &Event, items: &[WatchItem]) -> String {
    serde_json::json!({
        "type": event.kind,
        "timestamp": crate::domain::log::log_time(event.logged_at),
        "data": {
            "index": event.seq,
            "watched": items,
            "entity": {"type": event.entity_type, "id": event.entity_id},
            "authority": event.authority_id,
            "effective_on": event.effective_on,
            "payload": event.payload,
        }
    })
    .to_string()
}

/// Whether a URL is one the registry may call: http(s), with a host, and (unless allowed) not
/// a loopback, private, link-local or unspecified address.
pub fn acceptable_url(url: &str, allow_private: bool) -> Result<reqwest::Url, &'static str> {
    let parsed = reqwest::Url::parse(url).map_err(|_| "not a URL")?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err("not http or https");
    }
    let host = parsed.host_str().ok_or("no host")?;
    if !allow_private {
        if host.eq_ignore_ascii_case("localhost") {
            return Err("a private address");
        }
        if let Ok(ip) = host.trim_matches(['[', ']']).parse::<IpAddr>()
            && !is_public(ip)
        {
            return Err("a private address");
        }
    }
    Ok(parsed)
}

fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            !(v4.is_loopback() || v4.is_private() || v4.is_link_local() || v4.is_unspecified() || v4.is_broadcast())
        }
        IpAddr::V6(v6) => {
            let segment = v6.segments()[0];
            let unique_local = segment & 0xfe00 == 0xfc00;
            let link_local = segment & 0xffc0 == 0xfe80;
            !(v6.is_loopback() || v6.is_unspecified() || unique_local || link_local)
                && v6.to_ipv4_mapped().is_none_or(|v4| is_public(IpAddr::V4(v4)))
        }
    }
}

pub struct Dispatcher {
    store: DynStore,
    key: SigningKey,
    client: reqwest::Client,
    settings: WebhookSettings,
}

impl Dispatcher {
    pub fn new(store: DynStore, key: SigningKey, settings: WebhookSettings) -> Dispatcher {
        let client = reqwest::Client::builder()
            .timeout(settings.timeout)
            // A redirect could lead anywhere, past the address check.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("a plain HTTP client");
        Dispatcher { store, key, client, settings }
    }

    /// Runs the loop for as long as the process lives.
    pub fn spawn(self) {
        let dispatcher = Arc::new(self);
        tokio::spawn(async move {
            loop {
                if let Err(e) = dispatcher.round().await {
                    tracing::warn!(error = %e, "webhooks: the store did not answer; retrying");
                }
                tokio::time::sleep(dispatcher.settings.every).await;
            }
        });
    }

    /// Matches every new event, then sends what is due.
    pub async fn round(&self) -> crate::store::StoreResult<()> {
        while self.store.match_watches(MATCH_BATCH, &body).await? > 0 {}
        let due = self.store.due_deliveries(Utc::now(), SEND_BATCH).await?;
        let attempts: Vec<(String, Attempt)> = futures_util::stream::iter(due)
            .map(|d| async move { (d.id.clone(), self.send(&d).await) })
            .buffer_unordered(SEND_CONCURRENCY)
            .collect()
            .await;
        for (id, attempt) in attempts {
            if let Attempt::Failed { error, .. } = &attempt {
                tracing::info!(delivery.id = %id, error = %error, "webhook not delivered");
            }
            self.store.record_attempt(&id, &attempt).await?;
        }
        Ok(())
    }

    async fn send(&self, d: &DueDelivery) -> Attempt {
        let retry_at = || {
            let wait = self.settings.backoff.get(d.attempts as usize)?;
            Some(Utc::now() + chrono::Duration::from_std(*wait).ok()?)
        };
        let failed = |status: Option<u16>, error: String| Attempt::Failed { status, error, retry_at: retry_at() };
        let url = match acceptable_url(&d.url, self.settings.allow_private) {
            Ok(url) => url,
            Err(why) => return Attempt::Failed { status: None, error: format!("URL refused: {why}"), retry_at: None },
        };
        if !self.settings.allow_private
            && let Err(why) = resolves_publicly(&url).await
        {
            return Attempt::Failed { status: None, error: format!("URL refused: {why}"), retry_at: None };
        }
        let timestamp = Utc::now().timestamp();
        let response = self
            .client
            .post(url)
            .header("content-type", "application/json")
            .header("webhook-id", &d.id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", sign(&self.key, &d.id, timestamp, &d.body))
            .body(d.body.clone())
            .send()
            .await;
        match response {
            Ok(r) if r.status().is_success() => Attempt::Delivered { status: r.status().as_u16() },
            Ok(r) => failed(Some(r.status().as_u16()), format!("the receiver answered {}", r.status())),
            Err(e) if e.is_timeout() => failed(None, "the receiver did not answer in time".into()),
            Err(e) if e.is_connect() => failed(None, "the receiver could not be reached".into()),
            Err(_) => failed(None, "the request failed".into()),
        }
    }
}

/// Every address the host resolves to is public.
async fn resolves_publicly(url: &reqwest::Url) -> Result<(), &'static str> {
    let host = url.host_str().ok_or("no host")?;
    let port = url.port_or_known_default().ok_or("no port")?;
    let addresses = tokio::net::lookup_host((host.trim_matches(['[', ']']), port)).await.map_err(|_| "unknown host")?;
    let mut any = false;
    for address in addresses {
        any = true;
        if !is_public(address.ip()) {
            return Err("a private address");
        }
    }
    if any { Ok(()) } else { Err("unknown host") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_addresses_are_refused_unless_allowed() {
        for url in [
            "http://127.0.0.1:8080/h",
            "http://10.1.2.3/",
            "http://[::1]/",
            "http://localhost/",
            "http://169.254.169.254/",
        ] {
            assert_eq!(acceptable_url(url, false).err(), Some("a private address"), "{url}");
            assert!(acceptable_url(url, true).is_ok());
        }
        assert!(acceptable_url("https://hr.example.cn/hooks", false).is_ok());
        assert_eq!(acceptable_url("ftp://hr.example.cn/", false).err(), Some("not http or https"));
        assert_eq!(acceptable_url("hooks", false).err(), Some("not a URL"));
    }

    #[test]
    fn the_signature_covers_id_timestamp_and_body() {
        use ed25519_dalek::Verifier;
        let key = SigningKey::from_bytes(&[5; 32]);
        let header = sign(&key, "msg_1", 1_700_000_000, "{}");
        let bytes = STANDARD.decode(header.strip_prefix("v1a,").unwrap()).unwrap();
        let signature = ed25519_dalek::Signature::from_slice(&bytes).unwrap();
        assert!(key.verifying_key().verify(b"msg_1.1700000000.{}", &signature).is_ok());
        assert!(key.verifying_key().verify(b"msg_1.1700000001.{}", &signature).is_err());
        assert!(public_key(&key).starts_with("whpk_"));
    }
}
