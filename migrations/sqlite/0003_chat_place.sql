-- Where a chat drill lives, and what a workspace's admins chose for drills there.
-- migrations/postgres/0003_chat_place.sql is the same change; change both together.

-- The channel a drill's thread hangs from and the thread itself (a Discord thread's
-- channel id, a Slack message's thread_ts). Both are NULL for a terminal drill.
ALTER TABLE drills ADD COLUMN channel_id TEXT;
ALTER TABLE drills ADD COLUMN thread_id TEXT;
-- Every message in a chat thread looks up the drill running there.
CREATE INDEX drills_thread ON drills (thread_id) WHERE thread_id IS NOT NULL;

-- The only channel drills may start in (NULL: any), public threads even where private
-- ones are possible, the difficulty of a drill started without one, and how many drills
-- a member may start per day (NULL: no limit).
ALTER TABLE workspaces ADD COLUMN drill_channel TEXT;
ALTER TABLE workspaces ADD COLUMN public_threads BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE workspaces ADD COLUMN default_difficulty TEXT;
ALTER TABLE workspaces ADD COLUMN daily_limit BIGINT;
