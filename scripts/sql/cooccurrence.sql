-- The community model's heavy aggregation, as plain SQL (DuckDB here; Spark SQL, Trino or BigQuery with the same
-- text, or with their own names for read_csv / QUALIFY). Contract: docs/snapshot.md, "Building at scale".
--
-- Input relations:
--   interactions(user VARCHAR, item VARCHAR, rating DOUBLE, timestamp DOUBLE)  -- the reading events
--   titles(item VARCHAR, "row" INTEGER)                                       -- the catalog's ids, in its order
-- Output: cooccurrence(item VARCHAR, other VARCHAR, readers BIGINT)
--   - for each title, the {{keep}} titles its readers also read most, with how many readers read both (ties go to
--     the title earlier in the catalog, as the builder's own count breaks them);
--   - and one row with other = item: the title's own number of readers.
-- A reader counts once per title however often they read it. Rows with a missing user, item, rating or timestamp
-- and titles the catalog does not list are left out, as the builder's own parser leaves them out.
WITH readings AS (
  SELECT DISTINCT i."user" AS reader, i.item
  FROM interactions i
  WHERE i."user" IS NOT NULL AND i."user" <> '' AND i.item IS NOT NULL AND i.rating IS NOT NULL AND i."timestamp" IS NOT NULL
    AND i.item IN (SELECT item FROM titles)
),
pairs AS (
  SELECT a.item, b.item AS other, count(*) AS readers
  FROM readings a JOIN readings b ON a.reader = b.reader AND a.item <> b.item
  GROUP BY a.item, b.item
),
ranked AS (
  SELECT p.item, p.other, p.readers FROM pairs p JOIN titles t ON t.item = p.other
  QUALIFY row_number() OVER (PARTITION BY p.item ORDER BY p.readers DESC, t."row") <= {{keep}}
)
SELECT item, other, readers FROM ranked
UNION ALL
SELECT item, item AS other, count(*) AS readers FROM readings GROUP BY item
