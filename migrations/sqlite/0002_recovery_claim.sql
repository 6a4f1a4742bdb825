-- Which instance is recovering a drill after a restart, until when. Instances starting
-- together each recover every unfinished drill; the one holding this claim is the only
-- one to ask for the reply or debrief the drill is owed. An expired claim may be taken
-- over, so a crashed instance strands no drill. migrations/postgres/0002_recovery_claim.sql
-- is the same change; change both together.
ALTER TABLE drills ADD COLUMN recovery_owner TEXT;
ALTER TABLE drills ADD COLUMN recovery_until BIGINT;
