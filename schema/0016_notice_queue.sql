-- The notification worker's queue in the order notices fall due (issue 8, docs/performance.md).
--
-- A notice that is not urgent waits out the quiet hours with notify_after set. The worker took
-- the next notice in id order through outbox_unnotified and skipped every deferred one on the
-- way, so each claim walked all the notices held back overnight: 1.1 ms per claim after a few
-- thousand signatures, and growing with every one. Ordered by the moment a notice may go out
-- (notify_after, else created_at), the held-back notices sit after every due one, and a claim
-- reads one index entry.
CREATE INDEX outbox_notice_queue ON outbox ((coalesce(notify_after, created_at)), id)
    WHERE notified_at IS NULL;
