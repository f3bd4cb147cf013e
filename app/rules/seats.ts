// Whether an account is over its seat limit. Pure: no database, no clock (docs/decisions/004).

/**
 * Marked over its limit (`over_seat_limit_since`), or over it now though not (yet) marked: data from
 * before the mark was kept, or members added outside the app. A null limit is no limit.
 */
export function isOverSeatLimit(seats: { overLimitSince: unknown; limit: number | null; used: number }): boolean {
  return Boolean(seats.overLimitSince) || (seats.limit !== null && seats.used > seats.limit);
}
