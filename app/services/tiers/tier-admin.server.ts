// Creating, editing and deleting tiers from the operator dashboard. Every save is one transaction:
// the tier, its lookup keys, its permissions and the audit entry commit together or not at all.
import { type AuditActor, recordAudit } from "~/models/audit.server.ts";
import { findPermissionsByName } from "~/models/permission.server.ts";
import {
  type AdminTier,
  countAccountsOnTier,
  deleteTier,
  findLookupKeyOwners,
  isTierKeyTaken,
  lockTierForAdmin,
  writeTier,
} from "~/models/tier.server.ts";
import { inTransaction } from "~/models/transaction.server.ts";
import { isUniqueViolation } from "~/models/user.server.ts";
import { refreshSeatLimitMarksOfTier } from "~/models/seats.server.ts";
import { FREE_TIER_KEY } from "~/rules/tiers.ts";
import { announceTierChange } from "~/services/webhooks/fanout.server.ts";
import type { TierFormValues } from "~/forms/tier-form.ts";

type FieldErrors = Record<string, string[]>;

export type TierSaveOutcome =
  | { ok: true; key: string; changed: boolean }
  | { ok: false; notFound?: true; fieldErrors: FieldErrors; formError?: string };

/** What the audit log keeps of a tier: every field an admin edits. */
function tierSnapshot(tier: AdminTier) {
  return {
    name: tier.name,
    key: tier.key,
    description: tier.description,
    userLimit: tier.userLimit,
    isCustomerFacing: tier.isCustomerFacing,
    billingProvider: tier.billingProvider,
    isBillingExempt: tier.isBillingExempt,
    whopProductKey: tier.whopProductKey,
    fallbackPrice: tier.fallbackPrice,
    lookupKeys: tier.prices.map((price) => price.lookupKey),
    permissions: tier.permissions.map(({ permission }) => permission.name).sort(),
  };
}

/** What an account on the tier is told it has: its key, permissions and seat limit, and whether it is in force. */
const grantsChanged = (before: AdminTier, after: AdminTier) =>
  before.key !== after.key ||
  before.userLimit !== after.userLimit ||
  inForceRuleChanged(before, after) ||
  JSON.stringify(tierSnapshot(before).permissions) !== JSON.stringify(tierSnapshot(after).permissions);

/** Whether the tier is in force for an account stored on it may differ (an exempt tier always is). */
const inForceRuleChanged = (before: AdminTier, after: AdminTier) =>
  before.isBillingExempt !== after.isBillingExempt || before.billingProvider !== after.billingProvider;

/** Thrown inside the transaction to roll it back with the admin's errors. */
class Refused extends Error {
  constructor(
    readonly fieldErrors: FieldErrors,
    readonly formError?: string,
  ) {
    super("refused");
  }
}

function addError(errors: FieldErrors, field: string, message: string) {
  (errors[field] ??= []).push(message);
}

export async function saveTier(
  actor: AuditActor,
  existingKey: string | null,
  values: TierFormValues,
): Promise<TierSaveOutcome> {
  try {
    return await inTransaction(async (tx) => {
      const existing = existingKey ? await lockTierForAdmin(tx, existingKey) : null;
      if (existingKey && !existing) {
        return {
          ok: false,
          notFound: true,
          fieldErrors: {},
          formError: `Tier "${existingKey}" no longer exists.`,
        } as const;
      }
      const errors: FieldErrors = {};
      if (existing?.key === FREE_TIER_KEY && values.key !== FREE_TIER_KEY) {
        addError(errors, "key", "The free tier's key cannot change: lapsed subscriptions fall back to it.");
      }
      if (await isTierKeyTaken(tx, values.key, existing?.id ?? null)) {
        addError(errors, "key", `A tier with key "${values.key}" already exists.`);
      }
      for (const owner of await findLookupKeyOwners(tx, values.lookupKeys)) {
        if (owner.tier.id !== existing?.id) {
          addError(
            errors,
            "lookupKeys",
            `"${owner.lookupKey}" belongs to tier ${owner.tier.name} (${owner.tier.key}).`,
          );
        }
      }
      const permissions = await findPermissionsByName(tx, values.permissions);
      const unknown = values.permissions.filter((name) => !permissions.some((permission) => permission.name === name));
      if (unknown.length)
        addError(errors, "permissions", `Unknown permission ${unknown.map((n) => `"${n}"`).join(", ")}.`);
      if (Object.keys(errors).length) throw new Refused(errors);

      const { lookupKeys, permissions: _names, ...fields } = values;
      const id = await writeTier(
        tx,
        existing?.id ?? null,
        { ...fields, fallbackPrice: fields.fallbackPrice },
        lookupKeys,
        permissions.map((permission) => permission.id),
      );
      const saved = await lockTierForAdmin(tx, values.key);
      if (!saved) throw new Error(`tier ${id} vanished while saving`);
      const before = existing ? tierSnapshot(existing) : null;
      const after = tierSnapshot(saved);
      const changed = JSON.stringify(before) !== JSON.stringify(after);
      // A new user limit (or exemption) moves the tier's accounts over or under their seat limit.
      if (existing && (existing.userLimit !== saved.userLimit || inForceRuleChanged(existing, saved))) {
        await refreshSeatLimitMarksOfTier(tx, saved);
      }
      // The accounts it moves hear of it through their webhooks: recorded here, sent by a job.
      if (existing && grantsChanged(existing, saved)) {
        await announceTierChange(tx, [saved], { includeLapsed: inForceRuleChanged(existing, saved) });
      }
      if (changed) {
        await recordAudit(tx, {
          actor,
          action: existing ? "updated" : "created",
          entity: "tier",
          entityId: id,
          entityLabel: saved.key,
          before,
          after,
        });
      }
      return { ok: true, key: saved.key, changed } as const;
    });
  } catch (error) {
    if (error instanceof Refused) return { ok: false, fieldErrors: error.fieldErrors };
    // Another admin saved the same key or lookup key a moment ago: the unique index decides.
    if (isUniqueViolation(error)) {
      return {
        ok: false,
        fieldErrors: {},
        formError:
          "Another change took this key or one of these lookup keys a moment ago. Check the form and save again.",
      };
    }
    throw error;
  }
}

export type TierDeleteOutcome =
  { ok: true } | { ok: false; reason: "not-found" | "free-tier" | "has-users"; message: string; users?: number };

export async function removeTier(actor: AuditActor, key: string): Promise<TierDeleteOutcome> {
  return inTransaction(async (tx) => {
    const tier = await lockTierForAdmin(tx, key);
    if (!tier) return { ok: false, reason: "not-found", message: `Tier "${key}" no longer exists.` };
    if (tier.key === FREE_TIER_KEY) {
      return {
        ok: false,
        reason: "free-tier",
        message: "The free tier cannot be deleted: lapsed subscriptions fall back to it.",
      };
    }
    const users = await countAccountsOnTier(tx, tier.id);
    if (users > 0) {
      return {
        ok: false,
        reason: "has-users",
        users,
        message: `${users} account${users === 1 ? " is" : "s are"} on this tier: move them to another tier first.`,
      };
    }
    await deleteTier(tx, tier.id);
    await recordAudit(tx, {
      actor,
      action: "deleted",
      entity: "tier",
      entityId: tier.id,
      entityLabel: tier.key,
      before: tierSnapshot(tier),
      after: null,
    });
    return { ok: true };
  });
}
