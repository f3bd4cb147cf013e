// Accounts as customers see them: how many seats an account has and uses.
import { countMembers } from "~/models/account.server.ts";

export type Seats = { limit: number | null; used: number; pending: number };

/** An account's seats: the tier's user limit, its members, and pending invitations (none until they exist). */
export async function accountSeats(accountId: number, userLimit: number | null): Promise<Seats> {
  return { limit: userLimit, used: await countMembers(accountId), pending: 0 };
}
