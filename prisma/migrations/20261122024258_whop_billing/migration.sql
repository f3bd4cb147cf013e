-- CreateEnum
CREATE TYPE "payment_provider" AS ENUM ('stripe', 'whop');

-- DropIndex
DROP INDEX "stripe_events_event_type_prefix_idx";

-- DropIndex
DROP INDEX "users_email_prefix_idx";

-- AlterTable
ALTER TABLE "stripe_events" ADD COLUMN     "provider" "payment_provider" NOT NULL DEFAULT 'stripe';

-- AlterTable
ALTER TABLE "users" ADD COLUMN     "billing_since" TIMESTAMPTZ(3),
ADD COLUMN     "billing_source" "payment_provider",
ADD COLUMN     "whop_linked_by" VARCHAR(16),
ADD COLUMN     "whop_manage_url" VARCHAR(512),
ADD COLUMN     "whop_membership_id" VARCHAR(64),
ADD COLUMN     "whop_membership_status" VARCHAR(32),
ADD COLUMN     "whop_product_id" VARCHAR(64),
ADD COLUMN     "whop_synced_at" TIMESTAMPTZ(3),
ADD COLUMN     "whop_user_id" VARCHAR(64);

-- CreateIndex
CREATE INDEX "stripe_events_event_type_prefix_idx" ON "stripe_events"("event_type" varchar_pattern_ops);

-- CreateIndex
CREATE INDEX "stripe_events_provider_received_at_id_idx" ON "stripe_events"("provider", "received_at", "id");

-- CreateIndex
CREATE INDEX "users_whop_membership_id_idx" ON "users"("whop_membership_id");

-- CreateIndex
CREATE INDEX "users_whop_user_id_idx" ON "users"("whop_user_id");

-- CreateIndex
CREATE INDEX "users_email_prefix_idx" ON "users"("email" varchar_pattern_ops);
