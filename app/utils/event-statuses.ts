// The states of a stored Stripe webhook event, in the order the admin filter lists them. A plain
// module (not .server) so the browser bundle has it too: the admin events page renders its status
// filter from this list on the client as well as on the server.
import type { StripeEventStatus } from "~/generated/prisma/enums.ts";

export const EVENT_STATUSES = [
  "pending",
  "processed",
  "failed",
  "stale",
  "ignored",
] as const satisfies readonly StripeEventStatus[];
