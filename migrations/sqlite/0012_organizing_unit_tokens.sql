-- Tokens of a committee's organizing unit (issue 17): a publisher token scoped to one committee,
-- which may register its sessions, publish their outcomes and its notices, and nothing else.
-- Kept in step with the other database's 0012.
ALTER TABLE api_tokens ADD COLUMN committee_id TEXT REFERENCES committees (id);
