// The permission form's rules, shared by the browser and the server.
import { z } from "zod";
import { plainText } from "~/utils/validation.ts";

const PERMISSION_NAME_PATTERN = /^[a-z][a-z0-9_-]*(?:\.[a-z0-9_-]+)*$/;

/** Each field's longest value, which is also the most of it a refused form shows again. */
export const PERMISSION_FIELD_MAX = { name: 64, description: 200 } as const;

export const PermissionFormSchema = z.object({
  name: z
    .string({ error: "Name is required." })
    .trim()
    .min(1, "Name is required.")
    .max(PERMISSION_FIELD_MAX.name, `Use at most ${PERMISSION_FIELD_MAX.name} characters.`)
    .regex(
      PERMISSION_NAME_PATTERN,
      "Use a dotted lowercase name like export.csv (letters, digits, _ and -, dots between).",
    ),
  description: plainText(
    z
      .string()
      .trim()
      .max(PERMISSION_FIELD_MAX.description, `Use at most ${PERMISSION_FIELD_MAX.description} characters.`),
  )
    .optional()
    .default(""),
});

export type PermissionFormValues = z.output<typeof PermissionFormSchema>;
