-- Supervisor credentials (issue 17): registered like certificates (the JCS text and its digest),
-- revoked by an appended row. Append-only.
CREATE TABLE supervisor_credentials (
    number            TEXT PRIMARY KEY,
    credential        TEXT NOT NULL,
    credential_sha256 TEXT NOT NULL,
    holder_name       TEXT NOT NULL,
    issuer            TEXT NOT NULL REFERENCES authorities (id),
    jurisdiction      TEXT NOT NULL,
    valid_from        TEXT NOT NULL,
    valid_until       TEXT NOT NULL,
    key_id            TEXT NOT NULL REFERENCES issuer_keys (id),
    logged_at         TEXT NOT NULL
);

CREATE TABLE supervisor_revocations (
    number       TEXT PRIMARY KEY REFERENCES supervisor_credentials (number),
    reason       TEXT NOT NULL,
    effective_at TEXT NOT NULL
);

CREATE TRIGGER supervisor_credentials_no_update BEFORE UPDATE ON supervisor_credentials
BEGIN SELECT RAISE(ABORT, 'supervisor_credentials is append-only'); END;
CREATE TRIGGER supervisor_credentials_no_delete BEFORE DELETE ON supervisor_credentials
BEGIN SELECT RAISE(ABORT, 'supervisor_credentials is append-only'); END;
CREATE TRIGGER supervisor_revocations_no_update BEFORE UPDATE ON supervisor_revocations
BEGIN SELECT RAISE(ABORT, 'supervisor_revocations is append-only'); END;
CREATE TRIGGER supervisor_revocations_no_delete BEFORE DELETE ON supervisor_revocations
BEGIN SELECT RAISE(ABORT, 'supervisor_revocations is append-only'); END;

-- On-site supervision of a session: the supervisors present (credential numbers) and findings.
CREATE TABLE supervision_visits (
    id         TEXT PRIMARY KEY,
    session_id TEXT NOT NULL REFERENCES evaluation_sessions (id),
    body       TEXT NOT NULL,
    logged_at  TEXT NOT NULL
);
CREATE INDEX supervision_visits_session ON supervision_visits (session_id);
CREATE TRIGGER supervision_visits_no_update BEFORE UPDATE ON supervision_visits
BEGIN SELECT RAISE(ABORT, 'supervision_visits is append-only'); END;
CREATE TRIGGER supervision_visits_no_delete BEFORE DELETE ON supervision_visits
BEGIN SELECT RAISE(ABORT, 'supervision_visits is append-only'); END;
