-- Event counts kept up to date as events arrive (issue 18): /admin's chart and failed count and
-- /admin/events' status totals read these small tables instead of counting stripe_events, whose cost
-- grew with the table. Triggers keep them right whichever code path inserts, changes or removes an
-- event (webhooks, replays, retention, support tools). Each writer adds to its own shard
-- (pg_backend_pid() % 64), so concurrent webhooks do not queue on one counter row.

-- Writers wait here until the counts below include everything stored, then see the triggers.
LOCK TABLE "stripe_events" IN SHARE ROW EXCLUSIVE MODE;

-- CreateTable
CREATE TABLE "event_daily_counts" (
    "day" DATE NOT NULL,
    "provider" "payment_provider" NOT NULL,
    "status" "stripe_event_status" NOT NULL,
    "shard" SMALLINT NOT NULL,
    "count" BIGINT NOT NULL,

    CONSTRAINT "event_daily_counts_pkey" PRIMARY KEY ("day","provider","status","shard")
);

-- CreateTable
CREATE TABLE "event_status_counts" (
    "provider" "payment_provider" NOT NULL,
    "status" "stripe_event_status" NOT NULL,
    "shard" SMALLINT NOT NULL,
    "count" BIGINT NOT NULL,

    CONSTRAINT "event_status_counts_pkey" PRIMARY KEY ("provider","status","shard")
);

-- Each statement's inserted or deleted events, counted once per (day, provider, status): a webhook
-- stores one event, a bulk load thousands, and each costs one upsert per counter it moves (a row
-- trigger would update the same counter row once per event, a chain of versions that grows with the
-- batch). Rows are taken in key order, daily counters before totals, so two transactions always lock
-- the counters they share in the same order (no deadlock).
CREATE FUNCTION "stripe_events_count_statement"() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  counter_shard smallint := pg_backend_pid() % 64;
  sign bigint := CASE WHEN TG_OP = 'DELETE' THEN -1 ELSE 1 END;
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO event_daily_counts (day, provider, status, shard, count)
    SELECT (received_at AT TIME ZONE 'UTC')::date, provider, status, counter_shard, count(*)
      FROM added GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
    ON CONFLICT (day, provider, status, shard) DO UPDATE SET count = event_daily_counts.count + EXCLUDED.count;
    INSERT INTO event_status_counts (provider, status, shard, count)
    SELECT provider, status, counter_shard, count(*) FROM added GROUP BY 1, 2 ORDER BY 1, 2
    ON CONFLICT (provider, status, shard) DO UPDATE SET count = event_status_counts.count + EXCLUDED.count;
  ELSE
    INSERT INTO event_daily_counts (day, provider, status, shard, count)
    SELECT (received_at AT TIME ZONE 'UTC')::date, provider, status, counter_shard, sign * count(*)
      FROM removed GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
    ON CONFLICT (day, provider, status, shard) DO UPDATE SET count = event_daily_counts.count + EXCLUDED.count;
    INSERT INTO event_status_counts (provider, status, shard, count)
    SELECT provider, status, counter_shard, sign * count(*) FROM removed GROUP BY 1, 2 ORDER BY 1, 2
    ON CONFLICT (provider, status, shard) DO UPDATE SET count = event_status_counts.count + EXCLUDED.count;
  END IF;
  RETURN NULL;
END $$;

-- One event moving from one status to another (a webhook or replay finishing it): out of the old
-- counters, into the new ones, in key order.
CREATE FUNCTION "stripe_events_count_status_change"() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  counter_shard smallint := pg_backend_pid() % 64;
BEGIN
  INSERT INTO event_daily_counts (day, provider, status, shard, count)
  SELECT day, provider, status, counter_shard, delta FROM (VALUES
    ((OLD.received_at AT TIME ZONE 'UTC')::date, OLD.provider, OLD.status, -1::bigint),
    ((NEW.received_at AT TIME ZONE 'UTC')::date, NEW.provider, NEW.status, 1::bigint)
  ) AS change (day, provider, status, delta)
  ORDER BY day, provider, status
  ON CONFLICT (day, provider, status, shard) DO UPDATE SET count = event_daily_counts.count + EXCLUDED.count;
  INSERT INTO event_status_counts (provider, status, shard, count)
  SELECT provider, status, counter_shard, delta FROM (VALUES
    (OLD.provider, OLD.status, -1::bigint),
    (NEW.provider, NEW.status, 1::bigint)
  ) AS change (provider, status, delta)
  ORDER BY provider, status
  ON CONFLICT (provider, status, shard) DO UPDATE SET count = event_status_counts.count + EXCLUDED.count;
  RETURN NULL;
END $$;

CREATE FUNCTION "stripe_events_count_truncated"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM event_daily_counts;
  DELETE FROM event_status_counts;
  RETURN NULL;
END $$;

CREATE TRIGGER "stripe_events_counted_insert" AFTER INSERT ON "stripe_events"
  REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION "stripe_events_count_statement"();
-- Only a change of status moves a count (received_at and provider never change); attempts++ costs nothing.
CREATE TRIGGER "stripe_events_counted_update" AFTER UPDATE ON "stripe_events"
  FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status OR OLD.received_at IS DISTINCT FROM NEW.received_at
                     OR OLD.provider IS DISTINCT FROM NEW.provider)
  EXECUTE FUNCTION "stripe_events_count_status_change"();
CREATE TRIGGER "stripe_events_counted_delete" AFTER DELETE ON "stripe_events"
  REFERENCING OLD TABLE AS removed FOR EACH STATEMENT EXECUTE FUNCTION "stripe_events_count_statement"();
CREATE TRIGGER "stripe_events_counted_truncate" AFTER TRUNCATE ON "stripe_events"
  FOR EACH STATEMENT EXECUTE FUNCTION "stripe_events_count_truncated"();

-- What is already stored, counted once (shard 0).
INSERT INTO event_daily_counts (day, provider, status, shard, count)
SELECT (received_at AT TIME ZONE 'UTC')::date, provider, status, 0, count(*) FROM stripe_events GROUP BY 1, 2, 3;
INSERT INTO event_status_counts (provider, status, shard, count)
SELECT provider, status, 0, count(*) FROM stripe_events GROUP BY 1, 2;
