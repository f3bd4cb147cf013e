-- CreateEnum
CREATE TYPE "billing_provider" AS ENUM ('stripe', 'whop', 'exempt');

-- CreateEnum
CREATE TYPE "user_role" AS ENUM ('admin', 'support', 'customer');

-- CreateEnum
CREATE TYPE "stripe_event_status" AS ENUM ('pending', 'processed', 'failed', 'stale', 'ignored');

-- CreateTable
CREATE TABLE "subscription_tier" (
    "id" SERIAL NOT NULL,
    "name" VARCHAR(64) NOT NULL,
    "key" VARCHAR(32) NOT NULL,
    "description" TEXT,
    "user_limit" INTEGER NOT NULL DEFAULT 1,
    "is_customer_facing" BOOLEAN NOT NULL DEFAULT true,
    "billing_provider" "billing_provider" NOT NULL DEFAULT 'exempt',
    "is_billing_exempt" BOOLEAN NOT NULL DEFAULT false,
    "whop_product_key" VARCHAR(128),
    "fallback_price" VARCHAR(32) NOT NULL DEFAULT '$0',
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "subscription_tier_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "subscription_tier_price" (
    "id" SERIAL NOT NULL,
    "tier_id" INTEGER NOT NULL,
    "lookup_key" VARCHAR(200) NOT NULL,
    "position" INTEGER NOT NULL DEFAULT 0,

    CONSTRAINT "subscription_tier_price_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "permission" (
    "id" SERIAL NOT NULL,
    "name" VARCHAR(64) NOT NULL,
    "description" TEXT NOT NULL DEFAULT '',

    CONSTRAINT "permission_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "subscription_tier_permission" (
    "tier_id" INTEGER NOT NULL,
    "permission_id" INTEGER NOT NULL,

    CONSTRAINT "subscription_tier_permission_pkey" PRIMARY KEY ("tier_id","permission_id")
);

-- CreateTable
CREATE TABLE "users" (
    "id" SERIAL NOT NULL,
    "email" VARCHAR(254) NOT NULL,
    "password_hash" TEXT NOT NULL,
    "role" "user_role" NOT NULL DEFAULT 'customer',
    "tier_id" INTEGER,
    "stripe_customer_id" VARCHAR(64),
    "stripe_subscription_id" VARCHAR(64),
    "subscription_status" VARCHAR(32),
    "subscription_synced_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "users_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "stripe_events" (
    "id" BIGSERIAL NOT NULL,
    "event_id" VARCHAR(255) NOT NULL,
    "event_type" VARCHAR(255) NOT NULL,
    "event_created_at" TIMESTAMPTZ(3),
    "received_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "processed_at" TIMESTAMPTZ(3),
    "status" "stripe_event_status" NOT NULL DEFAULT 'pending',
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "error" TEXT,
    "payload" TEXT NOT NULL,

    CONSTRAINT "stripe_events_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "subscription_tier_key_key" ON "subscription_tier"("key");

-- CreateIndex
CREATE UNIQUE INDEX "subscription_tier_whop_product_key_key" ON "subscription_tier"("whop_product_key");

-- CreateIndex
CREATE INDEX "subscription_tier_is_billing_exempt_idx" ON "subscription_tier"("is_billing_exempt");

-- CreateIndex
CREATE UNIQUE INDEX "subscription_tier_price_lookup_key_key" ON "subscription_tier_price"("lookup_key");

-- CreateIndex
CREATE INDEX "subscription_tier_price_tier_id_position_idx" ON "subscription_tier_price"("tier_id", "position");

-- CreateIndex
CREATE UNIQUE INDEX "permission_name_key" ON "permission"("name");

-- CreateIndex
CREATE INDEX "subscription_tier_permission_permission_id_idx" ON "subscription_tier_permission"("permission_id");

-- CreateIndex
CREATE UNIQUE INDEX "users_email_key" ON "users"("email");

-- CreateIndex
CREATE UNIQUE INDEX "users_stripe_customer_id_key" ON "users"("stripe_customer_id");

-- CreateIndex
CREATE INDEX "users_tier_id_idx" ON "users"("tier_id");

-- CreateIndex
CREATE UNIQUE INDEX "stripe_events_event_id_key" ON "stripe_events"("event_id");

-- CreateIndex
CREATE INDEX "stripe_events_event_type_received_at_idx" ON "stripe_events"("event_type", "received_at");

-- CreateIndex
CREATE INDEX "stripe_events_status_received_at_idx" ON "stripe_events"("status", "received_at");

-- AddForeignKey
ALTER TABLE "subscription_tier_price" ADD CONSTRAINT "subscription_tier_price_tier_id_fkey" FOREIGN KEY ("tier_id") REFERENCES "subscription_tier"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "subscription_tier_permission" ADD CONSTRAINT "subscription_tier_permission_tier_id_fkey" FOREIGN KEY ("tier_id") REFERENCES "subscription_tier"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "subscription_tier_permission" ADD CONSTRAINT "subscription_tier_permission_permission_id_fkey" FOREIGN KEY ("permission_id") REFERENCES "permission"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "users" ADD CONSTRAINT "users_tier_id_fkey" FOREIGN KEY ("tier_id") REFERENCES "subscription_tier"("id") ON DELETE SET NULL ON UPDATE CASCADE;
