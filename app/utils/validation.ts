import { z } from "zod";

export const EmailSchema = z
  .string({ error: "Email is required." })
  .trim()
  .min(1, "Email is required.")
  .max(254, "Email is too long.")
  .email("Enter a valid email address.")
  .transform((email) => email.toLowerCase());

export const NewPasswordSchema = z
  .string({ error: "Password is required." })
  .min(10, "Use at least 10 characters.")
  .max(200, "Use at most 200 characters.");
