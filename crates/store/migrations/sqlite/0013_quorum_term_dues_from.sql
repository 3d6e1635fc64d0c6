-- Whether a closed meeting that decides by vote had its quorum, kept once judged so the 三会一课
-- cadence of a large subtree does not rebuild every 支部党员大会's sheet: cleared by an attendance
-- amendment, filled again on the next judgement (store::meeting::cadence).
ALTER TABLE meeting ADD COLUMN quorum_met INTEGER;
-- A 换届 postponed with the higher organization's approval (at most a year, E1 第三条): the date
-- it is postponed to and the approval it rests on; cleared when a new term starts.
ALTER TABLE org ADD COLUMN term_extended_to TEXT;
ALTER TABLE org ADD COLUMN term_extension_approval TEXT;
-- The first month a member is billed dues in this deployment's branches: set on a transfer in to
-- the month after the letter's 党费交至 month (the months before belong to the sending org).
ALTER TABLE person ADD COLUMN dues_from TEXT;
