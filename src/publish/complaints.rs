//! A complaint's receipt and its decisions as the write side makes them: the case file, the
//! complainant's code (only its digest is kept), and the log event that records the step
//! without personal data.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use rand::Rng;

use crate::domain::complaint::{self, Complaint, ComplaintStatus, NewComplaint};
use crate::domain::publish::Violation;
use crate::publish::batch::PendingEvent;
use crate::publish::event::{ComplaintUpdate, Logged, ReceivedComplaint};

/// A new complaint: the case file, the code shown once, its digest, and the receipt's event.
pub struct Received {
    pub complaint: Complaint,
    pub access_code: String,
    pub access_sha256: String,
    pub event: PendingEvent,
}

/// Every access code starts with this, so people and secret scanners can recognise one.
const CODE_PREFIX: &str = "zcc_";

fn tracking_number(today: crate::domain::Date) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut rng = rand::rng();
    let tail: String = (0..8).map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char).collect();
    format!("TS{}{tail}", today.format("%Y%m%d"))
}

/// The digest kept for an access code.
pub fn code_digest(code: &str) -> String {
    hex::encode(crate::crypto::sha256(code.as_bytes()))
}

/// Receives a checked complaint for the authority that supervises its committee.
pub fn receive(new: NewComplaint, handled_by: &str, now: DateTime<Utc>) -> Result<Received, Violation> {
    complaint::check_complaint(&new)?;
    let complaint = Complaint {
        tracking_number: tracking_number(crate::domain::china_date(now)),
        committee_id: new.committee_id,
        session_id: new.session_id,
        complainant_name: new.complainant_name,
        contact: new.contact,
        summary: new.summary,
        status: ComplaintStatus::Received,
        note: None,
        handled_by: handled_by.to_string(),
        received_at: now,
        updated_at: now,
    };
    let bytes: [u8; 24] = rand::rng().random();
    let access_code = format!("{CODE_PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes));
    let received = ReceivedComplaint {
        tracking_number: complaint.tracking_number.clone(),
        committee_id: complaint.committee_id.clone(),
        session_id: complaint.session_id.clone(),
    };
    let event = PendingEvent::standalone(
        &complaint.tracking_number,
        Logged::ReceiveComplaint(received),
        handled_by,
        "public",
        now,
    );
    Ok(Received { access_sha256: code_digest(&access_code), complaint, access_code, event })
}

/// Moves a complaint on; returns the event recording the new status (the note stays private).
pub fn decide(
    complaint: &mut Complaint,
    status: ComplaintStatus,
    note: Option<String>,
    actor: &crate::domain::publish::Actor,
    now: DateTime<Utc>,
) -> Result<PendingEvent, Violation> {
    complaint::check_update(complaint.status, status, note.as_deref())?;
    complaint.status = status;
    complaint.note = note.or(complaint.note.take());
    complaint.updated_at = now;
    let update = ComplaintUpdate { tracking_number: complaint.tracking_number.clone(), status };
    Ok(PendingEvent::standalone(
        &complaint.tracking_number,
        Logged::UpdateComplaint(update),
        &actor.authority_id,
        &actor.credential,
        now,
    ))
}
