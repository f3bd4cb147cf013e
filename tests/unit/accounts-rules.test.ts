// Billing lives on accounts (issue 19): which account a Stripe object names, and the provider statuses
// the seat-limit SQL restates agreeing with the rules that grant a tier.
import { isOverSeatLimit } from "../../app/rules/seats.ts";
import { describe, expect, it } from "vitest";
import { ACCOUNT_ID_METADATA_KEY, namedAccount } from "../../app/rules/stripe-events.ts";
import { subscriptionStatusEffect } from "../../app/rules/stripe-subscriptions.ts";
import { WHOP_MEMBERSHIP_STATUSES, whopMembershipStatusEffect } from "../../app/rules/whop-status.ts";
import { LIVE_STRIPE_STATUSES, LIVE_WHOP_STATUSES } from "../../app/utils/granting-statuses.ts";

/** What checkouts started before accounts put in the metadata: the buyer's user id. */
const LEGACY_USER_ID_METADATA_KEY = "tierdesk_user_id";

describe("namedAccount", () => {
  it("reads the account id checkout puts in the metadata", () => {
    expect(ACCOUNT_ID_METADATA_KEY).toBe("tierdesk_account_id");
    expect(namedAccount({ tierdesk_account_id: "42" })).toEqual({ accountId: 42 });
    expect(namedAccount({ tierdesk_account_id: "42" }, null)).toEqual({ accountId: 42 });
  });

  it("prefers the metadata's account id to the client_reference_id and to a legacy user id", () => {
    expect(namedAccount({ tierdesk_account_id: "42" }, "7")).toEqual({ accountId: 42 });
    expect(namedAccount({ tierdesk_account_id: "42", tierdesk_user_id: "9" }, "7")).toEqual({ accountId: 42 });
  });

  it("reads a legacy checkout's user id (whose personal account pays) when no account id is there", () => {
    expect(namedAccount({ [LEGACY_USER_ID_METADATA_KEY]: "9" })).toEqual({ legacyUserId: 9 });
    // A legacy checkout's client_reference_id was the user id too: the metadata says it names a user.
    expect(namedAccount({ tierdesk_user_id: "9" }, "9")).toEqual({ legacyUserId: 9 });
    expect(namedAccount({ tierdesk_account_id: "junk", tierdesk_user_id: "9" }, "7")).toEqual({ legacyUserId: 9 });
  });

  it("falls back to the client_reference_id, which names the account", () => {
    expect(namedAccount(null, "7")).toEqual({ accountId: 7 });
    expect(namedAccount(undefined, "7")).toEqual({ accountId: 7 });
    expect(namedAccount({}, "7")).toEqual({ accountId: 7 });
    expect(namedAccount({ notes: "hello" }, "7")).toEqual({ accountId: 7 });
    expect(namedAccount({ tierdesk_account_id: "abc", tierdesk_user_id: "-3" }, "7")).toEqual({ accountId: 7 });
  });

  it("names nothing from junk: no metadata, empty, zero, negative, decimal, huge, or not a number", () => {
    expect(namedAccount(null)).toBeNull();
    expect(namedAccount(undefined, undefined)).toBeNull();
    expect(namedAccount({}, null)).toBeNull();
    expect(namedAccount({}, "")).toBeNull();
    for (const junk of ["", " ", "0", "-1", "4.2", "1e3", "abc", "12abc", " 5x", "99999999999999999999", "0x10"]) {
      expect(namedAccount({ tierdesk_account_id: junk }), `account id ${JSON.stringify(junk)}`).toBeNull();
      expect(namedAccount({ tierdesk_user_id: junk }), `user id ${JSON.stringify(junk)}`).toBeNull();
      expect(namedAccount({}, junk), `client_reference_id ${JSON.stringify(junk)}`).toBeNull();
      expect(
        namedAccount({ tierdesk_account_id: junk, tierdesk_user_id: junk }, junk),
        `everywhere ${JSON.stringify(junk)}`,
      ).toBeNull();
    }
    // Metadata values that are not strings at all (a hand-built or altered payload).
    for (const junk of [null, true, {}, [], { id: 5 }, ["5"], 0, -1, 1.5, Number.NaN]) {
      expect(namedAccount({ tierdesk_account_id: junk }), `account id ${JSON.stringify(junk)}`).toBeNull();
      expect(namedAccount({ tierdesk_user_id: junk }), `user id ${JSON.stringify(junk)}`).toBeNull();
    }
  });

  it("accepts an id with surrounding spaces, as a plain number, as Stripe's metadata may carry it", () => {
    expect(namedAccount({ tierdesk_account_id: " 12 " })).toEqual({ accountId: 12 });
    expect(namedAccount({ tierdesk_account_id: 12 })).toEqual({ accountId: 12 });
    expect(namedAccount({}, " 12 ")).toEqual({ accountId: 12 });
  });
});

describe("the statuses that grant a tier, as the seat-limit SQL reads them", () => {
  // Every status Stripe documents for a subscription, and a few it does not (yet).
  const STRIPE_STATUSES = [
    "active",
    "trialing",
    "past_due",
    "incomplete",
    "incomplete_expired",
    "canceled",
    "unpaid",
    "paused",
  ];
  const UNKNOWN = ["", "ACTIVE", "Active", " active", "active ", "live", "grace", "pending", "on_hold"];

  it("LIVE_STRIPE_STATUSES are exactly the Stripe statuses subscriptionStatusEffect grants on", () => {
    const granting = [...STRIPE_STATUSES, ...UNKNOWN].filter((status) => subscriptionStatusEffect(status) === "grant");
    expect([...LIVE_STRIPE_STATUSES].sort()).toEqual(granting.sort());
    for (const status of LIVE_STRIPE_STATUSES) expect(STRIPE_STATUSES).toContain(status);
  });

  it("LIVE_WHOP_STATUSES are exactly the Whop statuses whopMembershipStatusEffect grants on", () => {
    const known: string[] = [...WHOP_MEMBERSHIP_STATUSES];
    const granting = [...known, ...UNKNOWN, "trialing ", "Canceling"].filter(
      (status) => whopMembershipStatusEffect(status) === "grant",
    );
    expect([...LIVE_WHOP_STATUSES].sort()).toEqual(granting.sort());
    for (const status of LIVE_WHOP_STATUSES) expect(known).toContain(status);
  });

  it("a status of one provider means nothing to the other's list unless both grant on it", () => {
    // `canceling` is Whop's (paid until the period ends); to Stripe it is unknown, so lapsed.
    expect(LIVE_WHOP_STATUSES).toContain("canceling");
    expect(LIVE_STRIPE_STATUSES).not.toContain("canceling");
    expect(subscriptionStatusEffect("canceling")).toBe("revoke");
  });
});

describe("isOverSeatLimit", () => {
  it("is over when marked, or when more members than a limit, never without a limit", () => {
    expect(isOverSeatLimit({ overLimitSince: new Date(), limit: 5, used: 1 })).toBe(true);
    expect(isOverSeatLimit({ overLimitSince: null, limit: 1, used: 3 })).toBe(true);
    expect(isOverSeatLimit({ overLimitSince: null, limit: 3, used: 3 })).toBe(false);
    expect(isOverSeatLimit({ overLimitSince: null, limit: null, used: 99 })).toBe(false);
  });
});
