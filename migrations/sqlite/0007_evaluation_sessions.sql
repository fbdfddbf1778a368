-- Evaluation sessions (issue 17): registered before they meet, their outcome published once
-- afterwards. Both tables are append-only, like the rest of the registry's history. `body` is
-- the record's JSON (domain::session), read back whole.
CREATE TABLE evaluation_sessions (
    id           TEXT PRIMARY KEY,
    committee_id TEXT NOT NULL REFERENCES committees (id),
    meets_on     TEXT NOT NULL,
    body         TEXT NOT NULL,
    logged_at    TEXT NOT NULL
);
CREATE INDEX evaluation_sessions_committee ON evaluation_sessions (committee_id, meets_on);

CREATE TABLE session_outcomes (
    session_id TEXT PRIMARY KEY REFERENCES evaluation_sessions (id),
    body       TEXT NOT NULL,
    logged_at  TEXT NOT NULL
);

CREATE TRIGGER evaluation_sessions_no_update BEFORE UPDATE ON evaluation_sessions
BEGIN SELECT RAISE(ABORT, 'evaluation_sessions is append-only'); END;
CREATE TRIGGER evaluation_sessions_no_delete BEFORE DELETE ON evaluation_sessions
BEGIN SELECT RAISE(ABORT, 'evaluation_sessions is append-only'); END;
CREATE TRIGGER session_outcomes_no_update BEFORE UPDATE ON session_outcomes
BEGIN SELECT RAISE(ABORT, 'session_outcomes is append-only'); END;
CREATE TRIGGER session_outcomes_no_delete BEFORE DELETE ON session_outcomes
BEGIN SELECT RAISE(ABORT, 'session_outcomes is append-only'); END;
