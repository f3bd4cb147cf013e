import type { Role } from "~/models/user.server.ts";

/** The roles an admin can give, in the order the role picker lists them; the action accepts only these. */
export const ROLES = ["admin", "support", "customer"] as const satisfies readonly Role[];
