-- A drill that went over its workspace's daily token budget, and when its thread was told.
-- Kept with the drill rather than in an instance's memory, so a restart or another
-- instance taking the drill over neither tells the members again nor goes back to the
-- model (past midnight, say). migrations/postgres/0008_budget_notice.sql is the same
-- change; change both together.
ALTER TABLE drills ADD COLUMN over_budget_at BIGINT;
