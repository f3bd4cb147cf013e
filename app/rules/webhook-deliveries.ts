// Outgoing webhooks' pure rules (docs/decisions/018): which addresses a webhook may not reach in
// production (server-side request forgery), and how long to wait before each retry.
import ipaddr from "ipaddr.js";

/**
 * Whether a webhook may not reach this address in production: anything but a public unicast address
 * (ipaddr.js's IANA special-purpose ranges: loopback, private, link-local, CGNAT, multicast, broadcast,
 * reserved and benchmarking, 6to4, Teredo, NAT64, site-local…). An IPv4-mapped IPv6 address is judged
 * as the IPv4 it maps. Anything that is not an IP address is forbidden too.
 */
export function isForbiddenAddress(address: string): boolean {
  if (!ipaddr.isValid(address)) return true;
  const parsed = ipaddr.parse(address);
  if (parsed.kind() === "ipv6") {
    const v6 = parsed as ipaddr.IPv6;
    if (v6.isIPv4MappedAddress()) return v6.toIPv4Address().range() !== "unicast";
  }
  return parsed.range() !== "unicast";
}

const FIRST_RETRY_MS = 5_000;
const MAX_RETRY_MS = 6 * 60 * 60 * 1000;

/** The wait after attempt `attempt` (1 for the first) failed: 5 s doubling, at most 6 h, ±20% jitter. */
export function retryDelayMs(attempt: number, random: () => number = Math.random): number {
  const base = Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** Math.max(0, attempt - 1));
  return Math.round(base * (0.8 + 0.4 * random()));
}

/** Whether a delivery queued at `queuedAt` fails rather than being retried at `retryAt` (`windowMs`: 3 days). */
export function givesUp(queuedAt: Date, retryAt: Date, windowMs: number): boolean {
  return retryAt.getTime() - queuedAt.getTime() > windowMs;
}
