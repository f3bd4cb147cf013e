/** A moment as "21 Nov 2026, 14:05", in UTC so server and browser render the same text. */
export const timeFormat = new Intl.DateTimeFormat("en-GB", {
  dateStyle: "medium",
  timeStyle: "short",
  timeZone: "UTC",
});
