-- 029_partition_lock_timeout: making a partition waits at most 3 s for its lock
--
-- CREATE TABLE ... PARTITION OF takes an ACCESS EXCLUSIVE lock on the
-- partitioned table, which waits for every lock held on it: a backup's
-- pg_dump holds ACCESS SHARE on every table for the whole dump. While it
-- waits, every later statement on the table (the other shards' inserts,
-- the query API's reads) queues behind it: one new day met during a
-- backup stopped the whole pipeline. With lock_timeout the attempt gives
-- up after 3 s instead (SQLSTATE 55P03), its flush or batch rolls back and
-- is retried later (the aggregator counts it as
-- txw_partition_lock_timeouts_total), and everything else goes on. The
-- setting holds inside the function only, as SET LOCAL would for its
-- call: the statements around it wait as before. It covers the advisory
-- lock two writers making one partition take too.
ALTER FUNCTION txw_data.ensure_partition (date) SET lock_timeout = '3s';
ALTER FUNCTION txw_data.ensure_event_partition (text, timestamptz) SET lock_timeout = '3s';
ALTER FUNCTION txw_data.ensure_rescore_partition (timestamptz) SET lock_timeout = '3s';
