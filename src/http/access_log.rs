//! The access log: one line per request (time, method, matched route, status, latency), in the
//! look of the other log lines (text or JSON), gathered in memory and written to stderr in
//! batches every 200 ms.
//!
//! Written here rather than as a `tracing` event: through the general formatter and its writer
//! thread a line cost ≈ 7 µs of CPU (formatting, a channel send, a wake-up, a write), which is a
//! fifth of a cached read (docs/PERFORMANCE.md); this costs well under a microsecond. Honours
//! `RUST_LOG` for the target `zhicheng::access` as it stood at start.

use std::io::Write;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

/// Lines kept before a request writes them out itself, rather than waiting for the timer.
const FLUSH_BYTES: usize = 64 * 1024;
const FLUSH_EVERY: Duration = Duration::from_millis(200);

#[derive(Clone, Debug)]
pub struct AccessLog {
    buffer: Arc<Mutex<Vec<u8>>>,
    json: bool,
}

impl AccessLog {
    /// The log, when `zhicheng::access` is enabled at INFO; its lines are flushed by a task on
    /// the current runtime.
    pub fn start(json: bool) -> Option<AccessLog> {
        if !tracing::enabled!(target: "zhicheng::access", tracing::Level::INFO) {
            return None;
        }
        let log = AccessLog { buffer: Arc::new(Mutex::new(Vec::with_capacity(FLUSH_BYTES))), json };
        let flusher = log.clone();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(FLUSH_EVERY).await;
                flusher.flush();
            }
        });
        Some(log)
    }

    pub fn line(&self, method: &str, route: &str, status: u16, latency_us: u64) {
        let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
        let mut status_text = itoa::Buffer::new();
        let mut latency_text = itoa::Buffer::new();
        let (status_text, latency_text) = (status_text.format(status), latency_text.format(latency_us));
        let full = {
            let mut buffer = self.buffer.lock().unwrap_or_else(PoisonError::into_inner);
            let parts: [&str; 11] = match self.json {
                false => [
                    &now,
                    "  INFO zhicheng::access: request method=",
                    method,
                    " route=",
                    route,
                    " status=",
                    status_text,
                    " latency_us=",
                    latency_text,
                    "",
                    "\n",
                ],
                true => [
                    r#"{"timestamp":""#,
                    &now,
                    r#"","level":"INFO","target":"zhicheng::access","message":"request","method":""#,
                    method,
                    r#"","route":""#,
                    route,
                    r#"","status":"#,
                    status_text,
                    r#","latency_us":"#,
                    latency_text,
                    "}\n",
                ],
            };
            for part in parts {
                // Routes are the router's own templates: no character needs escaping.
                buffer.extend_from_slice(part.as_bytes());
            }
            (buffer.len() >= FLUSH_BYTES).then(|| std::mem::take(&mut *buffer))
        };
        if let Some(lines) = full {
            write(&lines);
        }
    }

    /// Writes out the lines gathered so far (the timer does this; shutdown does it last).
    pub fn flush(&self) {
        let lines = std::mem::take(&mut *self.buffer.lock().unwrap_or_else(PoisonError::into_inner));
        if !lines.is_empty() {
            write(&lines);
        }
    }
}

/// Whole lines at once: `Stderr` holds its lock for the write, so other log lines never
/// interleave inside one.
fn write(lines: &[u8]) {
    let _ = std::io::stderr().write_all(lines);
}
