import { z } from "zod";

// C0 controls and DEL, except tab, line feed and carriage return (a textarea sends those). PostgreSQL
// cannot store NUL at all; the others are never typed by a person and break what shows them.
const CONTROL_CHARACTER = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;
const SHOWN_AS = "\uFFFD";

/** Whether a value holds a control character no person types (NUL and the like). */
export function hasControlCharacter(value: string): boolean {
  return CONTROL_CHARACTER.test(value);
}

const CONTROL_CHARACTER_MESSAGE = `Remove the invisible control character (shown as ${SHOWN_AS}).`;

/**
 * Free text typed by a person: no control characters, and no U+FFFD (which is how a control character
 * is shown back, and otherwise only a sign of text broken in transit).
 */
export function plainText(schema: z.ZodString = z.string()) {
  return schema.refine((value) => !hasControlCharacter(value) && !value.includes(SHOWN_AS), CONTROL_CHARACTER_MESSAGE);
}

/**
 * A submitted value as it may be shown again in the form: cut to its field's maximum (a 10 MB field is
 * not echoed back), control characters shown as U+FFFD so the person sees where they were.
 */
export function echoValue(value: string, max: number): string {
  const cut = value.length > max ? value.slice(0, max) : value;
  return cut.replace(new RegExp(CONTROL_CHARACTER.source, "g"), SHOWN_AS);
}

export const EMAIL_MAX_LENGTH = 254;

export const EmailSchema = z
  .string({ error: "Email is required." })
  .trim()
  .min(1, "Email is required.")
  .max(EMAIL_MAX_LENGTH, "Email is too long.")
  .email("Enter a valid email address.")
  .transform((email) => email.toLowerCase());

export const NewPasswordSchema = z
  .string({ error: "Password is required." })
  .min(10, "Use at least 10 characters.")
  .max(200, "Use at most 200 characters.");
