-- DropIndex
DROP INDEX "stripe_events_event_type_prefix_idx";

-- DropIndex
DROP INDEX "users_email_prefix_idx";
