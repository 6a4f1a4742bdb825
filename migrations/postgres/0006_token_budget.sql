-- What a workspace may spend on models per day, and what it spent.
-- migrations/sqlite/0006_token_budget.sql is the same change; change both together.

-- A workspace's own daily token budget (NULL: the instance's default).
ALTER TABLE workspaces ADD COLUMN daily_token_budget BIGINT;

-- Tokens spent per workspace and UTC day (days since 1970-01-01). The budget is checked
-- before every model call, so it reads this one row instead of summing the day's usage.
CREATE TABLE workspace_token_days (
    workspace_id BIGINT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    day          BIGINT NOT NULL,
    tokens       BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, day)
);

-- Kept by the database from every usage row, whoever writes it, in the same transaction;
-- a drill deleted later leaves its tokens counted, since they were spent.
CREATE FUNCTION llm_usage_counts_tokens() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO workspace_token_days (workspace_id, day, tokens)
    SELECT d.workspace_id, NEW.recorded_at / 86400000, NEW.prompt_tokens + NEW.completion_tokens
    FROM drills d WHERE d.id = NEW.drill_id
    ON CONFLICT (workspace_id, day)
    DO UPDATE SET tokens = workspace_token_days.tokens + EXCLUDED.tokens;
    RETURN NEW;
END
$$;

CREATE TRIGGER llm_usage_counts_tokens AFTER INSERT ON llm_usage
    FOR EACH ROW EXECUTE FUNCTION llm_usage_counts_tokens();

-- The usage recorded before this migration.
INSERT INTO workspace_token_days (workspace_id, day, tokens)
SELECT d.workspace_id, u.recorded_at / 86400000, SUM(u.prompt_tokens + u.completion_tokens)
FROM llm_usage u JOIN drills d ON d.id = u.drill_id
GROUP BY d.workspace_id, u.recorded_at / 86400000;

-- `/spar stats` counts a workspace's drills of the day, and the daily limit a member's.
CREATE INDEX drills_workspace_created ON drills (workspace_id, created_at);
