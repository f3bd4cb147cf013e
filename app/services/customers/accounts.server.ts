// Accounts as customers see them: how many seats an account has and uses.
import { getSeats } from "~/models/seats.server.ts";

export type Seats = { limit: number | null; used: number; pending: number };

/**
 * An account's seats: its tier in force's user limit (null: no limit), its members, and its pending
 * invitations (each holds a seat).
 */
export async function accountSeats(accountId: number): Promise<Seats> {
  const seats = await getSeats(accountId);
  return { limit: seats?.limit ?? null, used: seats?.used ?? 0, pending: seats?.pending ?? 0 };
}
