// Every Stripe webhook is stored before it is processed (dj-stripe style), with its outcome and
// error, so support can inspect failures and replay them. `event_id` is unique: duplicates share a row.
import type { StripeEvent, StripeEventStatus } from "~/generated/prisma/client.ts";
import { prisma } from "~/utils/db.server.ts";

export const MAX_STORED_PAYLOAD_BYTES = 16 * 1024;
/** A claim older than this is presumed dead (the instance crashed mid-processing) and can be retaken. */
const CLAIM_TIMEOUT_SECONDS = 120;

/** The payload cut to 16 KiB of UTF-8 without splitting a character. */
export function truncatePayload(payload: string): string {
  const bytes = Buffer.from(payload, "utf8");
  if (bytes.length <= MAX_STORED_PAYLOAD_BYTES) return payload;
  let end = MAX_STORED_PAYLOAD_BYTES;
  // Step back over UTF-8 continuation bytes (10xxxxxx) to a character boundary.
  while (end > 0 && (bytes[end]! & 0xc0) === 0x80) end--;
  return bytes.subarray(0, end).toString("utf8");
}

export async function recordEvent(event: { id: string; type: string; created: number }, rawPayload: string) {
  await prisma.stripeEvent.createMany({
    data: [
      {
        eventId: event.id,
        eventType: event.type,
        eventCreatedAt: new Date(event.created * 1000),
        payload: truncatePayload(rawPayload),
      },
    ],
    skipDuplicates: true,
  });
}

/**
 * Takes the event for processing if nobody has it and it is not finished. Atomic, so of many
 * concurrent deliveries of one event exactly one wins.
 */
export async function claimEvent(eventId: string): Promise<boolean> {
  const claimed = await prisma.$executeRaw`
    UPDATE stripe_events
       SET status = 'processing', attempts = attempts + 1, claimed_at = now()
     WHERE event_id = ${eventId}
       AND (status IN ('pending', 'failed')
            OR (status = 'processing' AND claimed_at < now() - make_interval(secs => ${CLAIM_TIMEOUT_SECONDS})))`;
  return claimed === 1;
}

export type FinishedStatus = Extract<StripeEventStatus, "processed" | "stale" | "ignored">;

export async function finishEvent(eventId: string, status: FinishedStatus, note: string | null = null) {
  // A success clears the error a failed earlier attempt left.
  await prisma.stripeEvent.update({
    where: { eventId },
    data: { status, processedAt: new Date(), error: null, note, claimedAt: null },
  });
}

export async function failEvent(eventId: string, error: string) {
  await prisma.stripeEvent.update({
    where: { eventId },
    data: { status: "failed", error: error.slice(0, 4000), claimedAt: null },
  });
}

export function getStoredEvent(eventId: string) {
  return prisma.stripeEvent.findUnique({ where: { eventId } });
}

/** Waits while another delivery processes the event; returns its row once it settles (or on timeout). */
export async function waitWhileProcessing(eventId: string, timeoutMs = 10_000): Promise<StripeEvent | null> {
  const deadline = Date.now() + timeoutMs;
  let delay = 20;
  for (;;) {
    const row = await getStoredEvent(eventId);
    if (!row || row.status !== "processing" || Date.now() >= deadline) return row;
    await new Promise((resolve) => setTimeout(resolve, delay));
    delay = Math.min(delay * 2, 250);
  }
}

export const EVENT_STATUSES = ["pending", "processing", "processed", "failed", "stale", "ignored"] as const satisfies readonly StripeEventStatus[];
export const EVENTS_PAGE_SIZE = 50;

/** Newest first, optionally by status and event-type prefix; `before` pages by row id. */
export function listStoredEvents({ status, type, before }: { status?: StripeEventStatus; type?: string; before?: bigint }) {
  return prisma.stripeEvent.findMany({
    where: {
      ...(status ? { status } : {}),
      ...(type ? { eventType: { startsWith: type } } : {}),
      ...(before ? { id: { lt: before } } : {}),
    },
    orderBy: { id: "desc" },
    take: EVENTS_PAGE_SIZE + 1,
    select: {
      id: true,
      eventId: true,
      eventType: true,
      status: true,
      attempts: true,
      error: true,
      note: true,
      eventCreatedAt: true,
      receivedAt: true,
      processedAt: true,
    },
  });
}

export async function countEventsByStatus() {
  const groups = await prisma.stripeEvent.groupBy({ by: ["status"], _count: { _all: true } });
  return Object.fromEntries(groups.map((group) => [group.status, group._count._all])) as Partial<Record<StripeEventStatus, number>>;
}
