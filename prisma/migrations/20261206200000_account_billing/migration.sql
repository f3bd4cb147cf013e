-- Billing moves from users to accounts (issue 19, docs/decisions/015): the account subscribes, its
-- members use the plan. Every user's billing state moves, field for field, into the personal account
-- they own (the oldest account they own: the one 20261206191000 created for them), then the columns
-- leave `users`, which keeps identity (email, password, staff role). Invitations arrive with seats.

-- AlterTable: the billing columns, as they were on users.
ALTER TABLE "accounts"
    ADD COLUMN "tier_id" INTEGER,
    ADD COLUMN "stripe_customer_id" VARCHAR(64),
    ADD COLUMN "stripe_subscription_id" VARCHAR(64),
    ADD COLUMN "subscription_status" VARCHAR(32),
    ADD COLUMN "subscription_synced_at" TIMESTAMPTZ(3),
    ADD COLUMN "billing_version" INTEGER NOT NULL DEFAULT 0,
    ADD COLUMN "billing_source" "payment_provider",
    ADD COLUMN "billing_since" TIMESTAMPTZ(3),
    ADD COLUMN "whop_user_id" VARCHAR(64),
    ADD COLUMN "whop_membership_id" VARCHAR(64),
    ADD COLUMN "whop_membership_status" VARCHAR(32),
    ADD COLUMN "whop_product_id" VARCHAR(64),
    ADD COLUMN "whop_manage_url" VARCHAR(512),
    ADD COLUMN "whop_linked_by" VARCHAR(16),
    ADD COLUMN "whop_synced_at" TIMESTAMPTZ(3),
    ADD COLUMN "over_seat_limit_since" TIMESTAMPTZ(3);

-- Data: each user's billing state into their personal account.
UPDATE "accounts" a
   SET "tier_id" = u."tier_id",
       "stripe_customer_id" = u."stripe_customer_id",
       "stripe_subscription_id" = u."stripe_subscription_id",
       "subscription_status" = u."subscription_status",
       "subscription_synced_at" = u."subscription_synced_at",
       "billing_version" = u."billing_version",
       "billing_source" = u."billing_source",
       "billing_since" = u."billing_since",
       "whop_user_id" = u."whop_user_id",
       "whop_membership_id" = u."whop_membership_id",
       "whop_membership_status" = u."whop_membership_status",
       "whop_product_id" = u."whop_product_id",
       "whop_manage_url" = u."whop_manage_url",
       "whop_linked_by" = u."whop_linked_by",
       "whop_synced_at" = u."whop_synced_at"
  FROM "users" u
 WHERE a."id" = (SELECT min(m."account_id") FROM "memberships" m WHERE m."user_id" = u."id" AND m."role" = 'owner');

-- A user without an owned account (none exist after 20261206191000, but nothing is lost if one does):
-- a personal account is made for them here, carrying their billing state.
INSERT INTO "accounts" ("name", "slug", "created_at", "tier_id", "stripe_customer_id", "stripe_subscription_id",
    "subscription_status", "subscription_synced_at", "billing_version", "billing_source", "billing_since",
    "whop_user_id", "whop_membership_id", "whop_membership_status", "whop_product_id", "whop_manage_url",
    "whop_linked_by", "whop_synced_at")
SELECT left(split_part(u."email", '@', 1), 120),
       COALESCE(NULLIF(left(trim(BOTH '-' FROM regexp_replace(lower(split_part(u."email", '@', 1)), '[^a-z0-9]+', '-', 'g')), 60), ''), 'account')
         || '-' || u."id",
       u."created_at", u."tier_id", u."stripe_customer_id", u."stripe_subscription_id", u."subscription_status",
       u."subscription_synced_at", u."billing_version", u."billing_source", u."billing_since", u."whop_user_id",
       u."whop_membership_id", u."whop_membership_status", u."whop_product_id", u."whop_manage_url",
       u."whop_linked_by", u."whop_synced_at"
  FROM "users" u
 WHERE NOT EXISTS (SELECT 1 FROM "memberships" m WHERE m."user_id" = u."id" AND m."role" = 'owner');

INSERT INTO "memberships" ("account_id", "user_id", "role", "created_at")
SELECT a."id", u."id", 'owner', a."created_at"
  FROM "users" u JOIN "accounts" a ON a."slug" = COALESCE(NULLIF(left(trim(BOTH '-' FROM regexp_replace(lower(split_part(u."email", '@', 1)), '[^a-z0-9]+', '-', 'g')), 60), ''), 'account') || '-' || u."id"
 WHERE NOT EXISTS (SELECT 1 FROM "memberships" m WHERE m."user_id" = u."id" AND m."role" = 'owner');

-- The user's billing columns and their indexes go.
DROP INDEX IF EXISTS "users_stripe_customer_id_key";
DROP INDEX IF EXISTS "users_tier_id_id_idx";
DROP INDEX IF EXISTS "users_subscription_status_id_idx";
DROP INDEX IF EXISTS "users_stripe_subscription_id_idx";
DROP INDEX IF EXISTS "users_whop_membership_id_idx";
DROP INDEX IF EXISTS "users_whop_user_id_idx";
ALTER TABLE "users" DROP CONSTRAINT IF EXISTS "users_tier_id_fkey";
ALTER TABLE "users"
    DROP COLUMN "tier_id",
    DROP COLUMN "stripe_customer_id",
    DROP COLUMN "stripe_subscription_id",
    DROP COLUMN "subscription_status",
    DROP COLUMN "subscription_synced_at",
    DROP COLUMN "billing_version",
    DROP COLUMN "billing_source",
    DROP COLUMN "billing_since",
    DROP COLUMN "whop_user_id",
    DROP COLUMN "whop_membership_id",
    DROP COLUMN "whop_membership_status",
    DROP COLUMN "whop_product_id",
    DROP COLUMN "whop_manage_url",
    DROP COLUMN "whop_linked_by",
    DROP COLUMN "whop_synced_at";

-- CreateTable: an invitation to join an account. Only the SHA-256 of its random token is stored.
CREATE TABLE "invitations" (
    "id" SERIAL NOT NULL,
    "account_id" INTEGER NOT NULL,
    "email" VARCHAR(254) NOT NULL,
    "token_hash" CHAR(64) NOT NULL,
    "invited_by_id" INTEGER,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "expires_at" TIMESTAMPTZ(3) NOT NULL,
    "accepted_at" TIMESTAMPTZ(3),
    "revoked_at" TIMESTAMPTZ(3),

    CONSTRAINT "invitations_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "accounts_stripe_customer_id_key" ON "accounts"("stripe_customer_id");
CREATE INDEX "accounts_tier_id_id_idx" ON "accounts"("tier_id", "id");
CREATE INDEX "accounts_subscription_status_id_idx" ON "accounts"("subscription_status", "id");
CREATE INDEX "accounts_stripe_subscription_id_idx" ON "accounts"("stripe_subscription_id");
CREATE INDEX "accounts_whop_membership_id_idx" ON "accounts"("whop_membership_id");
CREATE INDEX "accounts_whop_user_id_idx" ON "accounts"("whop_user_id");
CREATE INDEX "accounts_over_seat_limit_since_id_idx" ON "accounts"("over_seat_limit_since", "id");
CREATE UNIQUE INDEX "invitations_token_hash_key" ON "invitations"("token_hash");
CREATE INDEX "invitations_account_id_accepted_at_revoked_at_idx" ON "invitations"("account_id", "accepted_at", "revoked_at");
CREATE INDEX "invitations_email_idx" ON "invitations"("email");

-- AddForeignKey
ALTER TABLE "accounts" ADD CONSTRAINT "accounts_tier_id_fkey" FOREIGN KEY ("tier_id") REFERENCES "subscription_tier"("id") ON DELETE SET NULL ON UPDATE CASCADE;
ALTER TABLE "invitations" ADD CONSTRAINT "invitations_account_id_fkey" FOREIGN KEY ("account_id") REFERENCES "accounts"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "invitations" ADD CONSTRAINT "invitations_invited_by_id_fkey" FOREIGN KEY ("invited_by_id") REFERENCES "users"("id") ON DELETE SET NULL ON UPDATE CASCADE;
