-- Processed event ids are pruned by age (`Store::prune_events`, run by every serving
-- instance's clock); without this index each pass would read the whole table, which
-- grows by one row per chat message. migrations/postgres/0007_event_pruning.sql is the
-- same change; change both together.
CREATE INDEX processed_events_at ON processed_events (processed_at);
