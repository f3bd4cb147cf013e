// Outgoing webhooks' pure rules (docs/decisions/018): which addresses a webhook may not reach in
// production (server-side request forgery), and how long to wait before each retry.
import { BlockList, isIP } from "node:net";

const forbidden = new BlockList();
for (const [network, prefix] of [
  ["0.0.0.0", 8], // "this network", unspecified
  ["10.0.0.0", 8],
  ["100.64.0.0", 10], // CGNAT
  ["127.0.0.0", 8],
  ["169.254.0.0", 16], // link-local (cloud metadata)
  ["172.16.0.0", 12],
  ["192.168.0.0", 16],
] as const) {
  forbidden.addSubnet(network, prefix, "ipv4");
}
for (const [network, prefix] of [
  ["::", 128], // unspecified
  ["::1", 128],
  ["fc00::", 7], // unique local
  ["fe80::", 10], // link-local
] as const) {
  forbidden.addSubnet(network, prefix, "ipv6");
}

/**
 * Whether a webhook may not reach this address in production: loopback, private, link-local, CGNAT or
 * unspecified (IPv4-mapped IPv6 judged as the IPv4 it maps). Anything that is not an IP address is too.
 */
export function isForbiddenAddress(address: string): boolean {
  const mapped = address.toLowerCase().match(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/);
  if (mapped?.[1]) return forbidden.check(mapped[1], "ipv4");
  const family = isIP(address);
  if (family === 4) return forbidden.check(address, "ipv4");
  if (family === 6) return forbidden.check(address, "ipv6");
  return true;
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
