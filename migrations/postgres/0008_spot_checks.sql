-- Spot-check draws and inspections (issue 17). A plan's draw is not stored: it follows from
-- the plan and the first checkpoint past `log_index` (domain::draw). Append-only.
CREATE TABLE draw_plans (
    id           TEXT PRIMARY KEY,
    authority_id TEXT NOT NULL REFERENCES authorities (id),
    log_index    BIGINT NOT NULL,
    body         TEXT NOT NULL,
    logged_at    TIMESTAMPTZ NOT NULL
);
CREATE INDEX draw_plans_authority ON draw_plans (authority_id);

CREATE TABLE inspections (
    id           TEXT PRIMARY KEY,
    plan_id      TEXT NOT NULL REFERENCES draw_plans (id),
    committee_id TEXT NOT NULL REFERENCES committees (id),
    inspected_on DATE NOT NULL,
    body         TEXT NOT NULL,
    logged_at    TIMESTAMPTZ NOT NULL
);
CREATE INDEX inspections_committee ON inspections (committee_id, inspected_on);
CREATE INDEX inspections_plan ON inspections (plan_id);

CREATE TRIGGER draw_plans_append_only BEFORE UPDATE OR DELETE ON draw_plans
    FOR EACH ROW EXECUTE FUNCTION refuse_rewrite();
CREATE TRIGGER inspections_append_only BEFORE UPDATE OR DELETE ON inspections
    FOR EACH ROW EXECUTE FUNCTION refuse_rewrite();
