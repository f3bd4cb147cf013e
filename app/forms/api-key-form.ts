// The "new API key" form's rules, shared by the browser and the server.
import { z } from "zod";
import { plainText } from "~/utils/validation.ts";

export const API_KEY_SCOPES = ["read", "write"] as const;

/** Each field's longest value, which is also the most of it a refused form shows again. */
export const API_KEY_FIELD_MAX = { name: 100 } as const;

export const ApiKeyFormSchema = z.object({
  name: plainText(
    z
      .string({ error: "Name is required." })
      .trim()
      .min(1, "Name is required.")
      .max(API_KEY_FIELD_MAX.name, `Use at most ${API_KEY_FIELD_MAX.name} characters.`),
  ),
  scope: z.enum(API_KEY_SCOPES, { error: "Choose read or write." }),
});

export type ApiKeyFormValues = z.output<typeof ApiKeyFormSchema>;
