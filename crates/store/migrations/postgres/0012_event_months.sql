-- An extension of probation states its length (6–12 months, once, 党章 第七条): the event keeps
-- it, so the end of probation is computed from the history (rules::member::events).
ALTER TABLE person_event ADD COLUMN months BIGINT;
