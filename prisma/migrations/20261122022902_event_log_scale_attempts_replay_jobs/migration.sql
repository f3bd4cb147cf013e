-- CreateEnum
CREATE TYPE "event_attempt_source" AS ENUM ('webhook', 'replay', 'bulk_replay', 'resync');

-- CreateEnum
CREATE TYPE "replay_job_status" AS ENUM ('running', 'finished');

-- DropIndex
DROP INDEX "stripe_events_customer_id_received_at_idx";

-- DropIndex
DROP INDEX "stripe_events_event_type_received_at_idx";

-- DropIndex
DROP INDEX "stripe_events_status_received_at_idx";

-- DropIndex
DROP INDEX "users_tier_id_idx";

-- CreateTable
CREATE TABLE "stripe_event_attempts" (
    "id" BIGSERIAL NOT NULL,
    "event_id" BIGINT NOT NULL,
    "at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "source" "event_attempt_source" NOT NULL,
    "outcome" "stripe_event_status" NOT NULL,
    "error" TEXT,
    "duration_ms" INTEGER NOT NULL,

    CONSTRAINT "stripe_event_attempts_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "replay_jobs" (
    "id" SERIAL NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "created_by_email" VARCHAR(254) NOT NULL,
    "filter" JSONB NOT NULL,
    "up_to_id" BIGINT NOT NULL,
    "total" INTEGER NOT NULL,
    "processed" INTEGER NOT NULL DEFAULT 0,
    "failed" INTEGER NOT NULL DEFAULT 0,
    "status" "replay_job_status" NOT NULL DEFAULT 'running',
    "heartbeat_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "finished_at" TIMESTAMPTZ(3),

    CONSTRAINT "replay_jobs_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "stripe_event_attempts_event_id_at_idx" ON "stripe_event_attempts"("event_id", "at");

-- CreateIndex
CREATE INDEX "replay_jobs_status_idx" ON "replay_jobs"("status");

-- CreateIndex
CREATE INDEX "stripe_events_received_at_id_idx" ON "stripe_events"("received_at", "id");

-- CreateIndex
CREATE INDEX "stripe_events_status_received_at_id_idx" ON "stripe_events"("status", "received_at", "id");

-- CreateIndex
CREATE INDEX "stripe_events_event_type_received_at_id_idx" ON "stripe_events"("event_type", "received_at", "id");

-- CreateIndex
CREATE INDEX "stripe_events_event_type_prefix_idx" ON "stripe_events"("event_type" varchar_pattern_ops);

-- CreateIndex
CREATE INDEX "stripe_events_customer_id_received_at_id_idx" ON "stripe_events"("customer_id", "received_at", "id");

-- CreateIndex
CREATE INDEX "users_tier_id_id_idx" ON "users"("tier_id", "id");

-- CreateIndex
CREATE INDEX "users_role_id_idx" ON "users"("role", "id");

-- CreateIndex
CREATE INDEX "users_subscription_status_id_idx" ON "users"("subscription_status", "id");

-- CreateIndex
CREATE INDEX "users_stripe_subscription_id_idx" ON "users"("stripe_subscription_id");

-- CreateIndex
CREATE INDEX "users_email_prefix_idx" ON "users"("email" varchar_pattern_ops);

-- AddForeignKey
ALTER TABLE "stripe_event_attempts" ADD CONSTRAINT "stripe_event_attempts_event_id_fkey" FOREIGN KEY ("event_id") REFERENCES "stripe_events"("id") ON DELETE CASCADE ON UPDATE CASCADE;
