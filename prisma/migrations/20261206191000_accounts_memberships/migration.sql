-- Accounts and memberships (issue 19, first step): the account becomes what a person acts for. Every
-- existing user gets a personal account they own, as sign-up now creates one. Billing stays on
-- `users` in this step (docs/decisions/015); it moves to `accounts` in the next migration.

-- CreateEnum
CREATE TYPE "membership_role" AS ENUM ('owner', 'member');

-- AlterTable
ALTER TABLE "sessions" ADD COLUMN     "current_account_id" INTEGER;

-- CreateTable
CREATE TABLE "accounts" (
    "id" SERIAL NOT NULL,
    "name" VARCHAR(120) NOT NULL,
    "slug" VARCHAR(80) NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "accounts_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "memberships" (
    "account_id" INTEGER NOT NULL,
    "user_id" INTEGER NOT NULL,
    "role" "membership_role" NOT NULL DEFAULT 'member',
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "memberships_pkey" PRIMARY KEY ("account_id","user_id")
);

-- CreateIndex
CREATE UNIQUE INDEX "accounts_slug_key" ON "accounts"("slug");

-- CreateIndex
CREATE INDEX "memberships_user_id_idx" ON "memberships"("user_id");

-- AddForeignKey
ALTER TABLE "memberships" ADD CONSTRAINT "memberships_account_id_fkey" FOREIGN KEY ("account_id") REFERENCES "accounts"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "memberships" ADD CONSTRAINT "memberships_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "sessions" ADD CONSTRAINT "sessions_current_account_id_fkey" FOREIGN KEY ("current_account_id") REFERENCES "accounts"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- Data: a personal account for every user, named after their email's local part, owned by them. The
-- slug ends in the user's id (app/models/account.server.ts personalSlug), so it is unique. A scratch
-- column pairs each new account with its user, and goes once the memberships exist.
ALTER TABLE "accounts" ADD COLUMN "personal_of_user_id" INTEGER;

INSERT INTO "accounts" ("name", "slug", "created_at", "personal_of_user_id")
SELECT left(split_part(u."email", '@', 1), 120),
       COALESCE(NULLIF(left(trim(BOTH '-' FROM regexp_replace(lower(split_part(u."email", '@', 1)), '[^a-z0-9]+', '-', 'g')), 60), ''), 'account')
         || '-' || u."id",
       u."created_at", u."id"
  FROM "users" u
 ORDER BY u."id";

INSERT INTO "memberships" ("account_id", "user_id", "role", "created_at")
SELECT a."id", a."personal_of_user_id", 'owner', a."created_at" FROM "accounts" a;

ALTER TABLE "accounts" DROP COLUMN "personal_of_user_id";
