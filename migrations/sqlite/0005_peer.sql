-- Peer drills: a queue per channel, the pairing history, weekly schedules with their
-- opt-ins and rounds, the drills a round opened, and peer ratings.
-- migrations/postgres/0005_peer.sql is the same change; change both together.

-- 0001's queue was per workspace and never used; a queue belongs to a channel.
DROP TABLE queue_entries;
DROP TABLE rounds;

-- Who waits to be paired in a channel, with what they asked for, in the order they joined.
CREATE TABLE peer_queue (
    id           INTEGER PRIMARY KEY,
    workspace_id BIGINT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    channel_id   TEXT   NOT NULL,
    person_id    BIGINT NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    scenario_id  TEXT,
    difficulty   TEXT   CHECK (difficulty IN ('gentle', 'standard', 'hostile')),
    preference   TEXT   NOT NULL CHECK (preference IN ('peer_only', 'solo_if_no_partner')),
    joined_at    BIGINT NOT NULL,
    UNIQUE (workspace_id, channel_id, person_id)
);

-- Every pairing of a channel (its queue's and its rounds'), one row per group; replaying
-- them in order rebuilds the pairing history.
CREATE TABLE peer_pairings (
    id           INTEGER PRIMARY KEY,
    workspace_id BIGINT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    channel_id   TEXT   NOT NULL,
    recorded_at  BIGINT NOT NULL
);
CREATE INDEX peer_pairings_channel ON peer_pairings (workspace_id, channel_id);

CREATE TABLE peer_pairing_groups (
    pairing_id    BIGINT NOT NULL REFERENCES peer_pairings (id) ON DELETE CASCADE,
    ordinal       BIGINT NOT NULL,
    candidate_id  BIGINT NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    antagonist_id BIGINT REFERENCES people (id) ON DELETE CASCADE,
    observer_id   BIGINT REFERENCES people (id) ON DELETE CASCADE,
    PRIMARY KEY (pairing_id, ordinal)
);

-- A weekly round as an admin set it up: the core's Schedule as JSON.
CREATE TABLE peer_schedules (
    id           INTEGER PRIMARY KEY,
    workspace_id BIGINT  NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    channel_id   TEXT    NOT NULL,
    schedule     TEXT    NOT NULL,
    paused       BOOLEAN NOT NULL DEFAULT FALSE,
    created_at   BIGINT  NOT NULL
);

CREATE TABLE peer_opt_ins (
    schedule_id BIGINT NOT NULL REFERENCES peer_schedules (id) ON DELETE CASCADE,
    person_id   BIGINT NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    scenario_id TEXT,
    difficulty  TEXT   CHECK (difficulty IN ('gentle', 'standard', 'hostile')),
    preference  TEXT   NOT NULL CHECK (preference IN ('peer_only', 'solo_if_no_partner')),
    opted_at    BIGINT NOT NULL,
    PRIMARY KEY (schedule_id, person_id)
);

-- One occurrence of a schedule: the core's round state machine as JSON, its phase for
-- queries, and a timer claimed like a drill's, so one instance fires it.
CREATE TABLE peer_rounds (
    id          INTEGER PRIMARY KEY,
    schedule_id BIGINT NOT NULL REFERENCES peer_schedules (id) ON DELETE CASCADE,
    starts_at   BIGINT NOT NULL,
    phase       TEXT   NOT NULL CHECK (phase IN ('waiting', 'reminded', 'open', 'settled', 'skipped', 'cancelled')),
    state       TEXT   NOT NULL,
    next_due_at BIGINT,
    lease_owner TEXT,
    lease_until BIGINT,
    version     BIGINT NOT NULL DEFAULT 0,
    UNIQUE (schedule_id, starts_at)
);
CREATE INDEX peer_rounds_next_due ON peer_rounds (next_due_at) WHERE next_due_at IS NOT NULL;

-- The drills a round opened, so a member posting in one counts as present.
CREATE TABLE peer_round_drills (
    drill_id TEXT   PRIMARY KEY REFERENCES drills (id) ON DELETE CASCADE,
    round_id BIGINT NOT NULL REFERENCES peer_rounds (id) ON DELETE CASCADE
);
CREATE INDEX peer_round_drills_round ON peer_round_drills (round_id);

-- A participant's rating of a peer drill's candidate: scores 0-4 by dimension as JSON
-- ([["composure", 3], ...]) and an optional sentence. One per rater and drill.
CREATE TABLE peer_ratings (
    drill_id TEXT   NOT NULL REFERENCES drills (id) ON DELETE CASCADE,
    rater_id BIGINT NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    role     TEXT   NOT NULL CHECK (role IN ('candidate', 'antagonist', 'observer')),
    scores   TEXT   NOT NULL,
    sentence TEXT,
    rated_at BIGINT NOT NULL,
    PRIMARY KEY (drill_id, rater_id)
);
