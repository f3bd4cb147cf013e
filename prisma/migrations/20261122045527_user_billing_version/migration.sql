-- AlterTable
ALTER TABLE "users" ADD COLUMN     "billing_version" INTEGER NOT NULL DEFAULT 0;
