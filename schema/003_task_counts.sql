-- Task counts by region, owner and status, kept by triggers, so List's totalCount needs no scan of
-- the tasks table when it filters by status only (the common poll).
CREATE TABLE task_counts (
  region    TEXT NOT NULL,
  owner_uin TEXT NOT NULL,
  status    INTEGER NOT NULL,
  n         INTEGER NOT NULL,
  PRIMARY KEY (region, owner_uin, status)
) WITHOUT ROWID;

INSERT INTO task_counts (region, owner_uin, status, n)
  SELECT region, owner_uin, status, count(*) FROM tasks GROUP BY region, owner_uin, status;

CREATE TRIGGER task_counts_insert AFTER INSERT ON tasks BEGIN
  INSERT INTO task_counts (region, owner_uin, status, n) VALUES (NEW.region, NEW.owner_uin, NEW.status, 1)
    ON CONFLICT (region, owner_uin, status) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER task_counts_delete AFTER DELETE ON tasks BEGIN
  UPDATE task_counts SET n = n - 1
    WHERE region = OLD.region AND owner_uin = OLD.owner_uin AND status = OLD.status;
END;

CREATE TRIGGER task_counts_update AFTER UPDATE OF region, owner_uin, status ON tasks
  WHEN OLD.region IS NOT NEW.region OR OLD.owner_uin IS NOT NEW.owner_uin OR OLD.status IS NOT NEW.status
BEGIN
  UPDATE task_counts SET n = n - 1
    WHERE region = OLD.region AND owner_uin = OLD.owner_uin AND status = OLD.status;
  INSERT INTO task_counts (region, owner_uin, status, n) VALUES (NEW.region, NEW.owner_uin, NEW.status, 1)
    ON CONFLICT (region, owner_uin, status) DO UPDATE SET n = n + 1;
END;
