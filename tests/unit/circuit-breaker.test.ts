// The Stripe circuit breaker's rules (app/rules/circuit-breaker.ts): which failures open it, that an
// open breaker fails callers fast and lets one probe through per interval, and that an answer closes it.
import { describe, expect, it } from "vitest";
import {
  admit,
  afterCall,
  type BreakerState,
  CLOSED,
  isAvailabilityFailure,
  PROBE_INTERVAL_MS,
} from "../../app/rules/circuit-breaker.ts";
import { describeAge, describeAsOf } from "../../app/utils/age.ts";

const T0 = Date.UTC(2026, 11, 6, 17, 0, 0);
const down = (reason = "connect ECONNREFUSED") => ({ kind: "unavailable", reason }) as const;

describe("isAvailabilityFailure", () => {
  it("counts no answer, a refused or reset connection, a timeout, 5xx and 429 as Stripe being unavailable", () => {
    expect(isAvailabilityFailure({ status: null, network: true })).toBe(true);
    expect(isAvailabilityFailure({ status: null, network: false })).toBe(true);
    for (const status of [500, 502, 503, 504, 429])
      expect(isAvailabilityFailure({ status, network: false })).toBe(true);
  });

  it("does not count Stripe refusing one request (400, 401, 402, 404) as an outage", () => {
    for (const status of [400, 401, 402, 403, 404, 409])
      expect(isAvailabilityFailure({ status, network: false })).toBe(false);
  });
});

describe("the breaker", () => {
  it("lets every call through while closed", () => {
    expect(admit(CLOSED, T0)).toEqual({ call: true, state: CLOSED });
  });

  it("opens on an availability failure, remembering since when and why", () => {
    const open = afterCall(CLOSED, down(), T0);
    expect(open).toEqual({
      kind: "open",
      since: T0,
      reason: "connect ECONNREFUSED",
      nextProbeAt: T0 + PROBE_INTERVAL_MS,
      probing: false,
    });
  });

  it("fails callers fast while open, with no probe before the interval has passed", () => {
    const open = afterCall(CLOSED, down(), T0);
    for (const at of [T0, T0 + 1, T0 + PROBE_INTERVAL_MS - 1])
      expect(admit(open, at)).toEqual({ call: false, probe: false, state: open });
  });

  it("lets exactly one probe through per interval, not the caller", () => {
    const open = afterCall(CLOSED, down(), T0);
    const first = admit(open, T0 + PROBE_INTERVAL_MS);
    expect(first).toMatchObject({ call: false, probe: true, state: { kind: "open", probing: true } });
    // Others meanwhile: no second probe while the first is in flight, however late.
    expect(admit(first.state, T0 + PROBE_INTERVAL_MS + 1)).toMatchObject({ call: false, probe: false });
    expect(admit(first.state, T0 + 10 * PROBE_INTERVAL_MS)).toMatchObject({ call: false, probe: false });
  });

  it("stays open after a failed probe, keeping when the outage began, and probes again an interval later", () => {
    const open = afterCall(CLOSED, down(), T0);
    const probing = admit(open, T0 + PROBE_INTERVAL_MS).state;
    const failedAt = T0 + PROBE_INTERVAL_MS + 750;
    const still = afterCall(probing, down("Stripe did not answer within 750 ms"), failedAt);
    expect(still).toEqual({
      kind: "open",
      since: T0,
      reason: "Stripe did not answer within 750 ms",
      nextProbeAt: failedAt + PROBE_INTERVAL_MS,
      probing: false,
    });
    expect(admit(still, failedAt + PROBE_INTERVAL_MS - 1)).toMatchObject({ probe: false });
    expect(admit(still, failedAt + PROBE_INTERVAL_MS)).toMatchObject({ probe: true });
  });

  it("closes on any answer: a successful probe, or Stripe refusing a request (it is up)", () => {
    const open: BreakerState = afterCall(CLOSED, down(), T0);
    expect(afterCall(open, { kind: "answered" }, T0 + 1)).toEqual(CLOSED);
    expect(admit(afterCall(open, { kind: "answered" }, T0 + 1), T0 + 2)).toEqual({ call: true, state: CLOSED });
  });
});

describe("ages of Stripe's last answer", () => {
  it("reads as people say it, with the time in UTC", () => {
    const iso = new Date(T0).toISOString();
    expect(describeAge(iso, T0 + 30_000)).toBe("just now");
    expect(describeAge(iso, T0 + 60_000)).toBe("1 minute ago");
    expect(describeAge(iso, T0 + 12 * 60_000)).toBe("12 minutes ago");
    expect(describeAge(iso, T0 + 3 * 3_600_000)).toBe("3 hours ago");
    expect(describeAge(iso, T0 + 3 * 86_400_000)).toBe("3 days ago");
    expect(describeAsOf(iso, T0 + 12 * 60_000)).toBe("as of 12 minutes ago (17:00 UTC)");
    expect(describeAsOf(iso, T0 + 3 * 86_400_000)).toBe("as of 3 days ago (6 December 2026, 17:00 UTC)");
  });
});
