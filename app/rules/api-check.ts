// POST /api/v1/check's answer: may the account use a permission, and if not, why (decision 017).
// A pure function of plain values: no database, no clock (docs/decisions/004).

/** Why not, as stable codes (the API's schemas list them). */
export const CHECK_DENIALS = ["no_such_permission", "past_due_beyond_grace", "unknown_account"] as const;
export const CHECK_WARNINGS = ["over_seat_limit"] as const;

type CheckDenial = (typeof CHECK_DENIALS)[number];
type CheckWarning = (typeof CHECK_WARNINGS)[number];

export type CheckFacts = {
  /** The permissions of the tier in force (the free tier's when the stored one is not in force). */
  permissions: readonly string[];
  tierName: string | null;
  /**
   * The stored paid tier when it is NOT in force because Stripe gave up collecting (`unpaid`: its
   * retries of a past-due renewal ran out), with its permissions; null otherwise.
   */
  lapsedForNonPayment: { name: string; permissions: readonly string[] } | null;
  /** More members than the tier in force allows (a downgrade; decision 016). */
  overSeatLimit: boolean;
};

export type CheckDecision = {
  allowed: boolean;
  reason: { code: CheckDenial; message: string } | null;
  warnings: CheckWarning[];
};

export function decideCheck(facts: CheckFacts, permission: string): CheckDecision {
  // Over the seat limit, nobody loses access (decision 016): the product is told, not refused.
  const warnings: CheckWarning[] = facts.overSeatLimit ? ["over_seat_limit"] : [];
  if (facts.permissions.includes(permission)) return { allowed: true, reason: null, warnings };
  const lapsed = facts.lapsedForNonPayment;
  if (lapsed?.permissions.includes(permission)) {
    return {
      allowed: false,
      reason: {
        code: "past_due_beyond_grace",
        message: `${lapsed.name} grants "${permission}", but its renewal was not paid after Stripe's retries; the account is on ${facts.tierName ?? "no tier"} until it pays.`,
      },
      warnings,
    };
  }
  return {
    allowed: false,
    reason: {
      code: "no_such_permission",
      message: facts.tierName
        ? `The account's tier ${facts.tierName} does not include "${permission}".`
        : `The account has no tier, so no permission "${permission}".`,
    },
    warnings,
  };
}
