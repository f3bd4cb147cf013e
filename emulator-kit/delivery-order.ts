// The order an operation's events are delivered in. Neither Stripe nor Whop promises one, so the
// emulators can send each operation's events as created, reversed, or shuffled by a seeded generator
// (the same seed, the same order, so a failing order can be run again).

export type DeliveryOrder = "created" | "reverse" | `shuffle:${number}`;

/** A delivery order from JSON or an option, or null when it is not one. */
export function parseDeliveryOrder(value: unknown): DeliveryOrder | null {
  if (value === "created" || value === "reverse") return value;
  if (typeof value === "string" && /^shuffle:\d{1,9}$/.test(value)) return value as DeliveryOrder;
  return null;
}

/** mulberry32: a tiny seeded generator; the same seed gives the same permutation on every run. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** The records in `order` (a new array; each batch of a seeded shuffle starts from its seed). */
export function inDeliveryOrder<T>(records: readonly T[], order: DeliveryOrder): T[] {
  const ordered = [...records];
  if (order === "reverse") return ordered.reverse();
  if (order === "created") return ordered;
  const random = seededRandom(Number(order.slice("shuffle:".length)));
  for (let i = ordered.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [ordered[i], ordered[j]] = [ordered[j]!, ordered[i]!];
  }
  return ordered;
}
