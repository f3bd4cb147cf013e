// Role changes: who may change whose staff role.
// Pure functions of plain values: no database, no Stripe, no clock (docs/decisions/004).

/**
 * Whether an admin may change this user's role: nobody removes their own admin role, and the last
 * admin stays an admin. Returns the reason when not.
 */
export function roleChangeProblem(input: {
  actorId: number;
  target: { id: number; role: "admin" | "support" | "customer" };
  newRole: "admin" | "support" | "customer";
  adminCount: number;
}): string | null {
  const { actorId, target, newRole, adminCount } = input;
  if (target.role !== "admin" || newRole === "admin") return null;
  if (target.id === actorId) return "You cannot remove your own admin role: ask another admin.";
  if (adminCount <= 1) return "This is the last admin: make someone else an admin first.";
  return null;
}

// ---------------------------------------------------------------------------------------------
// Whop: what a membership status means, which membership state is newer, and one paid tier at a
// time across Stripe and Whop (docs/decisions/006-whop-second-billing-provider.md).
