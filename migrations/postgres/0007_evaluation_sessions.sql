-- Evaluation sessions (issue 17): registered before they meet, their outcome published once
-- afterwards. Both tables are append-only, like the rest of the registry's history. `body` is
-- the record's JSON (domain::session), read back whole.
CREATE TABLE evaluation_sessions (
    id           TEXT PRIMARY KEY,
    committee_id TEXT NOT NULL REFERENCES committees (id),
    meets_on     DATE NOT NULL,
    body         TEXT NOT NULL,
    logged_at    TIMESTAMPTZ NOT NULL
);
CREATE INDEX evaluation_sessions_committee ON evaluation_sessions (committee_id, meets_on);

CREATE TABLE session_outcomes (
    session_id TEXT PRIMARY KEY REFERENCES evaluation_sessions (id),
    body       TEXT NOT NULL,
    logged_at  TIMESTAMPTZ NOT NULL
);

CREATE TRIGGER evaluation_sessions_append_only BEFORE UPDATE OR DELETE ON evaluation_sessions
    FOR EACH ROW EXECUTE FUNCTION refuse_rewrite();
CREATE TRIGGER session_outcomes_append_only BEFORE UPDATE OR DELETE ON session_outcomes
    FOR EACH ROW EXECUTE FUNCTION refuse_rewrite();
