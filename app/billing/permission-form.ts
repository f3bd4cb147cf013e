// The permission form's rules, shared by the browser and the server.
import { z } from "zod";

export const PERMISSION_NAME_PATTERN = /^[a-z][a-z0-9_-]*(?:\.[a-z0-9_-]+)*$/;

export const PermissionFormSchema = z.object({
  name: z
    .string({ error: "Name is required." })
    .trim()
    .min(1, "Name is required.")
    .max(64, "Use at most 64 characters.")
    .regex(
      PERMISSION_NAME_PATTERN,
      "Use a dotted lowercase name like export.csv (letters, digits, _ and -, dots between).",
    ),
  description: z.string().trim().max(200, "Use at most 200 characters.").optional().default(""),
});

export type PermissionFormValues = z.output<typeof PermissionFormSchema>;
