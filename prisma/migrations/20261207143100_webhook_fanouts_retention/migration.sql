-- Outgoing webhooks (docs/decisions/018): a tier edit records the fan-out it owes to the tier's accounts
-- (expanded in batches by a job), and retention removes finished deliveries by the time they finished.
-- CreateTable
CREATE TABLE "webhook_fanouts" (
    "id" SERIAL NOT NULL,
    "tier_id" INTEGER NOT NULL,
    "all_accounts" BOOLEAN NOT NULL DEFAULT false,
    "include_lapsed" BOOLEAN NOT NULL DEFAULT false,
    "after_account_id" INTEGER NOT NULL DEFAULT 0,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "webhook_fanouts_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "webhook_deliveries_status_finished_at_id_idx" ON "webhook_deliveries"("status", "finished_at", "id");
