-- Complaints (issue 17): personal data, never public and never in the transparency log (which
-- records only their receipt and status changes). A case file: its status and note change.
CREATE TABLE complaints (
    tracking_number TEXT PRIMARY KEY,
    access_sha256   TEXT NOT NULL,
    committee_id    TEXT NOT NULL REFERENCES committees (id),
    session_id      TEXT REFERENCES evaluation_sessions (id),
    status          TEXT NOT NULL,
    body            TEXT NOT NULL,
    received_at     TEXT NOT NULL,
    updated_at      TEXT NOT NULL
);
CREATE INDEX complaints_session ON complaints (session_id, status);
