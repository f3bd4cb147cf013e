-- Whole-account reconciliation (issue 21): runs and the differences each found. New tables only: no data moves.
-- CreateTable
CREATE TABLE "reconciliation_runs" (
    "id" SERIAL NOT NULL,
    "trigger" VARCHAR(16) NOT NULL,
    "requested_by_email" VARCHAR(254),
    "status" VARCHAR(16) NOT NULL DEFAULT 'queued',
    "progress" VARCHAR(200),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "started_at" TIMESTAMPTZ(3),
    "finished_at" TIMESTAMPTZ(3),
    "subscriptions" INTEGER NOT NULL DEFAULT 0,
    "customers" INTEGER NOT NULL DEFAULT 0,
    "accounts_checked" INTEGER NOT NULL DEFAULT 0,
    "stripe_requests" INTEGER NOT NULL DEFAULT 0,
    "difference_count" INTEGER NOT NULL DEFAULT 0,
    "error" TEXT,

    CONSTRAINT "reconciliation_runs_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "reconciliation_differences" (
    "id" SERIAL NOT NULL,
    "run_id" INTEGER NOT NULL,
    "account_id" INTEGER,
    "account_name" VARCHAR(120) NOT NULL,
    "kind" VARCHAR(40) NOT NULL,
    "rule" TEXT NOT NULL,
    "tierdesk" JSONB NOT NULL,
    "stripe" JSONB NOT NULL,
    "stripe_customer_id" VARCHAR(64),
    "stripe_subscription_id" VARCHAR(64),
    "fix" VARCHAR(16) NOT NULL,
    "status" VARCHAR(16) NOT NULL DEFAULT 'open',
    "resolved_at" TIMESTAMPTZ(3),
    "resolved_by_email" VARCHAR(254),
    "outcome" TEXT,

    CONSTRAINT "reconciliation_differences_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "reconciliation_runs_status_idx" ON "reconciliation_runs"("status");

-- CreateIndex
CREATE INDEX "reconciliation_differences_run_id_id_idx" ON "reconciliation_differences"("run_id", "id");

-- AddForeignKey
ALTER TABLE "reconciliation_differences" ADD CONSTRAINT "reconciliation_differences_run_id_fkey" FOREIGN KEY ("run_id") REFERENCES "reconciliation_runs"("id") ON DELETE CASCADE ON UPDATE CASCADE;

