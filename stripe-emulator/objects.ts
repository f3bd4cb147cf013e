// Helpers for Stripe-shaped objects: ids, lists, deep copies and `previous_attributes`.
import { randomBytes } from "node:crypto";
import type { List, RequestInfo } from "./types.ts";

/** The request behind page and control actions: none, like a dashboard action. */
export const NO_REQUEST: RequestInfo = { id: null, idempotency_key: null };

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
export const token = (length: number) => Array.from(randomBytes(length), (b) => ALPHABET[b % ALPHABET.length]).join("");
export const newId = (prefix: string, length = 24) => `${prefix}_${token(length)}`;

export const list = <T>(data: T[], url: string, hasMore = false): List<T> => ({
  object: "list",
  data,
  has_more: hasMore,
  url,
});

/** Plain-JSON deep copy: events and snapshots must not alias live state. */
export const snapshot = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

/** Stripe's `previous_attributes`: the old values of the top-level fields that changed. */
export function previousAttributes(before: object, after: object): Record<string, unknown> {
  const b: Record<string, unknown> = { ...before };
  const a: Record<string, unknown> = { ...after };
  const previous: Record<string, unknown> = {};
  for (const key of Object.keys(a)) {
    if (JSON.stringify(b[key]) !== JSON.stringify(a[key])) previous[key] = b[key] ?? null;
  }
  return previous;
}
