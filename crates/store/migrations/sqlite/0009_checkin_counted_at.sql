-- The time a check-in is judged by (issue 11, item 4): a member's phone and a device whose clock
-- strays are judged by the server's receipt time; `device_at` keeps the clock they sent.
ALTER TABLE checkin_event ADD COLUMN counted_at TEXT;
UPDATE checkin_event SET counted_at = device_at;
