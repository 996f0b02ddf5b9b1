-- The task lifecycle (API.md §5): what Check and Start decided, when each phase began, and when
-- the next automatic transition is due. Times are Unix seconds of the emulator's clock; 0 = unset.
ALTER TABLE tasks ADD COLUMN owner_uin TEXT NOT NULL DEFAULT '';        -- the account that created it
ALTER TABLE tasks ADD COLUMN run_step INTEGER NOT NULL DEFAULT 0;       -- 1..6 while syncing
ALTER TABLE tasks ADD COLUMN next_at INTEGER;                           -- next automatic transition; NULL: none
ALTER TABLE tasks ADD COLUMN polls INTEGER NOT NULL DEFAULT 0;          -- List reads since the last move (--progression polls:N)
ALTER TABLE tasks ADD COLUMN check_at INTEGER NOT NULL DEFAULT 0;       -- Check called
ALTER TABLE tasks ADD COLUMN check_done_at INTEGER NOT NULL DEFAULT 0;  -- verification finished
ALTER TABLE tasks ADD COLUMN check_fail_step INTEGER NOT NULL DEFAULT 0;-- 0: passes; 6 or 7: fails at that step
ALTER TABLE tasks ADD COLUMN start_at INTEGER NOT NULL DEFAULT 0;       -- Start called (jobOutput.createTime)
ALTER TABLE tasks ADD COLUMN sync_at INTEGER NOT NULL DEFAULT 0;        -- entered status 6 (startTime)
ALTER TABLE tasks ADD COLUMN step_at INTEGER NOT NULL DEFAULT 0;        -- current run step began
ALTER TABLE tasks ADD COLUMN end_at INTEGER NOT NULL DEFAULT 0;         -- reached 8 or 9 (endTime)
ALTER TABLE tasks ADD COLUMN run_fail_step INTEGER NOT NULL DEFAULT 0;  -- 0: succeeds; 1..6: fails at that step
ALTER TABLE tasks ADD COLUMN verify_seconds INTEGER NOT NULL DEFAULT 0; -- durations captured at Check/Start
ALTER TABLE tasks ADD COLUMN ready_seconds INTEGER NOT NULL DEFAULT 0;
ALTER TABLE tasks ADD COLUMN step_seconds INTEGER NOT NULL DEFAULT 0;

ALTER TABLE instances ADD COLUMN break_at_step INTEGER NOT NULL DEFAULT 0; -- 1..6: replication breaks at that run step

CREATE INDEX tasks_due ON tasks (next_at) WHERE next_at IS NOT NULL;
CREATE INDEX tasks_by_region_status ON tasks (region, status, job_id);
CREATE INDEX tasks_by_src ON tasks (src_instance_id, status);
CREATE INDEX tasks_by_dst ON tasks (dst_instance_id, status);
