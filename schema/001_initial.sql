-- Instances come from the fixtures at start; tasks are the emulator's state.
CREATE TABLE instances (
  instance_id    TEXT PRIMARY KEY NOT NULL,
  region         TEXT NOT NULL,     -- long region name, e.g. ap-shanghai
  zone_id        INTEGER NOT NULL,  -- the region's zone prefix + zone number, e.g. 200001
  role           TEXT NOT NULL CHECK (role IN ('master', 'dr')),
  engine_version TEXT NOT NULL,     -- MySQL version, e.g. 5.7
  is_empty       INTEGER NOT NULL,  -- 1 when the instance holds no user data
  app_id         INTEGER NOT NULL,  -- the owning account's AppId
  uin            TEXT NOT NULL      -- the owning account's uin
) WITHOUT ROWID;

-- Zones listed in the fixtures; a zone not listed supports disaster recovery.
CREATE TABLE zones (
  zone_id           INTEGER PRIMARY KEY NOT NULL,
  disaster_recovery INTEGER NOT NULL
);

-- AUTOINCREMENT: job ids only grow and are never reused, even after deletes and restarts.
CREATE TABLE tasks (
  job_id           INTEGER PRIMARY KEY AUTOINCREMENT,
  region           TEXT NOT NULL,     -- the task belongs to its source's region (long name)
  job_name         TEXT NOT NULL,
  status           INTEGER NOT NULL,
  src_instance_id  TEXT NOT NULL,
  src_region_id    INTEGER NOT NULL,
  src_db_info      TEXT NOT NULL,     -- JSON: [{"database": "...", "table": ["..."]}]
  is_override_root INTEGER NOT NULL,
  dst_instance_id  TEXT NOT NULL,
  dst_region_id    INTEGER NOT NULL,
  dst_zone_id      INTEGER NOT NULL,  -- the destination instance's zone
  submit_time      INTEGER NOT NULL,  -- Unix seconds
  update_time      INTEGER NOT NULL   -- Unix seconds
);

CREATE INDEX tasks_by_region ON tasks (region, job_id);
