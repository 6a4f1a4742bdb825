-- A candidate's line cut off by the end of input (Ctrl-D mid-line, or a pipe without a
-- last newline) is kept in the transcript but was never sent, so it earns no move.
-- migrations/sqlite/0004_cut_off_turn.sql is the same change; change both together.
ALTER TABLE turns ADD COLUMN cut_off BOOLEAN NOT NULL DEFAULT FALSE;
