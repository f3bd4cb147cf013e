-- AlterEnum
ALTER TYPE "stripe_event_status" ADD VALUE 'processing';

-- AlterTable
ALTER TABLE "stripe_events" ADD COLUMN     "claimed_at" TIMESTAMPTZ(3),
ADD COLUMN     "note" TEXT;
