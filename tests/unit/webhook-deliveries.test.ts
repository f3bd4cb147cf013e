// Outgoing webhooks' pure rules: the addresses production refuses (SSRF) and the retry schedule.
import { describe, expect, it } from "vitest";
import { givesUp, isForbiddenAddress, retryDelayMs } from "../../app/rules/webhook-deliveries.ts";

describe("isForbiddenAddress", () => {
  it.each([
    "127.0.0.1",
    "127.255.0.9",
    "10.0.0.1",
    "172.16.0.1",
    "172.31.255.255",
    "192.168.0.10",
    "169.254.169.254",
    "100.64.0.1",
    "100.127.255.254",
    "0.0.0.0",
    "::",
    "::1",
    "fc00::1",
    "fd12:3456::1",
    "fe80::1",
    "::ffff:127.0.0.1",
    "::FFFF:10.1.2.3",
    // The hostile review's gaps: IPv4-compatible, NAT64 to the metadata address, 6to4, Teredo,
    // broadcast, multicast, reserved, benchmarking, IETF protocol assignments, site-local, multicast v6.
    "::127.0.0.1",
    "64:ff9b::a9fe:a9fe",
    "2002:7f00:1::",
    "2001::1",
    "255.255.255.255",
    "224.0.0.1",
    "240.0.0.1",
    "198.18.0.1",
    "192.0.0.1",
    "fec0::1",
    "ff02::1",
    "2001:db8::1",
    "not-an-address",
  ])("refuses %s", (address) => expect(isForbiddenAddress(address)).toBe(true));

  it.each([
    "93.184.215.14",
    "8.8.8.8",
    "172.32.0.1",
    "100.128.0.1",
    "192.169.0.1",
    "2606:4700::1111",
    "::ffff:8.8.8.8",
  ])("allows %s", (address) => expect(isForbiddenAddress(address)).toBe(false));
});

describe("retryDelayMs", () => {
  it("starts at 5 s and doubles, within ±20%", () => {
    expect(retryDelayMs(1, () => 0.5)).toBe(5_000);
    expect(retryDelayMs(2, () => 0.5)).toBe(10_000);
    expect(retryDelayMs(5, () => 0.5)).toBe(80_000);
    expect(retryDelayMs(1, () => 0)).toBe(4_000);
    expect(retryDelayMs(1, () => 1)).toBe(6_000);
  });

  it("never waits more than 6 hours (and 20%)", () => {
    expect(retryDelayMs(40, () => 0.5)).toBe(6 * 3600_000);
    expect(retryDelayMs(40, () => 1)).toBe(7.2 * 3600_000);
  });
});

describe("givesUp", () => {
  const day = 86_400_000;
  const queued = new Date("2026-12-01T00:00:00Z");
  it("retries while the next attempt falls within the window, then gives up", () => {
    expect(givesUp(queued, new Date(queued.getTime() + 3 * day), 3 * day)).toBe(false);
    expect(givesUp(queued, new Date(queued.getTime() + 3 * day + 1), 3 * day)).toBe(true);
  });
});
