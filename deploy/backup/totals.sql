-- totals.sql - what a backup must give back: rows and a content sum per relation
--
-- For every table (a partitioned one as a whole) and view of the schemas
-- txw and txw_data: its row count and the sum of a hash of each row's text,
-- which changes when any value of any row does (and does not depend on the
-- order rows are read in). Run by backup.sh in the dump's own snapshot and
-- by restore.sh on the restored database; the two must be equal. Read as
-- the schema's owner (or a role with pg_read_all_data). psql only: \gexec.
SET TimeZone = 'UTC';
SET DateStyle = 'ISO, YMD';
SET IntervalStyle = 'postgres';
SET extra_float_digits = 3;
SELECT format ('SELECT %L, count (*), coalesce (sum (hashtext (r::text)::bigint), 0) FROM %s r',
               n.nspname || '.' || c.relname, c.oid::regclass)
  FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname IN ('txw', 'txw_data') AND c.relkind IN ('r', 'p', 'v', 'm')
   AND NOT c.relispartition
 ORDER BY n.nspname, c.relname
\gexec
