import type { z } from "zod";
import { echoValue } from "./validation.ts";

export type FieldErrors = Record<string, string[]>;

/** Validates a form with a zod schema; failures come back as messages per field, with the values to show again. */
export function parseForm<S extends z.ZodType>(
  schema: S,
  formData: FormData,
  echoMax = 256,
): { success: true; data: z.infer<S> } | { success: false; fieldErrors: FieldErrors; values: Record<string, string> } {
  const values: Record<string, string> = {};
  for (const [key, value] of formData) if (typeof value === "string") values[key] = value;
  const result = schema.safeParse(values);
  if (result.success) return { success: true, data: result.data };
  // What goes back to the page is cut (a 10 MB field is not echoed) and its control characters marked.
  for (const key of Object.keys(values)) values[key] = echoValue(values[key]!, echoMax);
  const fieldErrors: FieldErrors = {};
  for (const issue of result.error.issues) {
    const field = String(issue.path[0] ?? "form");
    (fieldErrors[field] ??= []).push(issue.message);
  }
  return { success: false, fieldErrors, values };
}

/**
 * A conform reply whose echoed values (`initialValue`, shown again in the form) are cut to their
 * fields' maxima, with control characters marked: a 10 MB field is answered with a field error, not
 * echoed back twice (the page and its hydration data).
 */
export function boundedReply<Reply extends { initialValue?: Record<string, unknown> | null }>(
  reply: Reply,
  maxLengths: Readonly<Record<string, number>>,
  otherMax = 256,
): Reply {
  if (!reply.initialValue) return reply;
  const cut = (name: string, value: unknown): unknown => {
    if (typeof value === "string") return echoValue(value, maxLengths[name] ?? otherMax);
    if (Array.isArray(value)) return value.slice(0, 100).map((item) => cut(name, item));
    return value;
  };
  const initialValue = Object.fromEntries(
    Object.entries(reply.initialValue).map(([name, value]) => [name, cut(name, value)]),
  );
  return { ...reply, initialValue };
}
