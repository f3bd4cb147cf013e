-- CreateEnum
CREATE TYPE "price_move_status" AS ENUM ('collecting', 'running', 'finished', 'failed');

-- CreateEnum
CREATE TYPE "price_move_item_status" AS ENUM ('pending', 'moved', 'already', 'skipped', 'failed');

-- CreateTable
CREATE TABLE "price_moves" (
    "id" SERIAL NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "created_by_email" VARCHAR(254) NOT NULL,
    "tier_key" VARCHAR(64) NOT NULL,
    "lookup_key" VARCHAR(200) NOT NULL,
    "status" "price_move_status" NOT NULL DEFAULT 'collecting',
    "collect_index" INTEGER NOT NULL DEFAULT 0,
    "collect_after" VARCHAR(64),
    "total" INTEGER NOT NULL DEFAULT 0,
    "moved" INTEGER NOT NULL DEFAULT 0,
    "skipped" INTEGER NOT NULL DEFAULT 0,
    "failed" INTEGER NOT NULL DEFAULT 0,
    "rate_limited" INTEGER NOT NULL DEFAULT 0,
    "last_error" TEXT,
    "lease_token" VARCHAR(64),
    "lease_until" TIMESTAMPTZ(3),
    "heartbeat_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "finished_at" TIMESTAMPTZ(3),

    CONSTRAINT "price_moves_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "price_move_items" (
    "id" BIGSERIAL NOT NULL,
    "move_id" INTEGER NOT NULL,
    "subscription_id" VARCHAR(64) NOT NULL,
    "customer_id" VARCHAR(64),
    "status" "price_move_item_status" NOT NULL DEFAULT 'pending',
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "error" TEXT,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "price_move_items_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "price_moves_status_idx" ON "price_moves"("status");

-- CreateIndex
CREATE INDEX "price_moves_tier_key_created_at_idx" ON "price_moves"("tier_key", "created_at" DESC);

-- CreateIndex
CREATE INDEX "price_move_items_move_id_status_id_idx" ON "price_move_items"("move_id", "status", "id");

-- CreateIndex
CREATE UNIQUE INDEX "price_move_items_move_id_subscription_id_key" ON "price_move_items"("move_id", "subscription_id");

-- AddForeignKey
ALTER TABLE "price_move_items" ADD CONSTRAINT "price_move_items_move_id_fkey" FOREIGN KEY ("move_id") REFERENCES "price_moves"("id") ON DELETE CASCADE ON UPDATE CASCADE;

