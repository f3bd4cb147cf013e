// The password forms' rules ("forgot password", a reset link's form, changing a password on /account),
// shared by the browser and the server. A new password follows sign-up's rules.
import { z } from "zod";
import { EmailSchema, NewPasswordSchema } from "~/utils/validation.ts";

/** Each field's longest value, which is also the most of it a refused form shows again. */
export const PASSWORD_FORM_MAX = { email: 254 } as const;

export const ForgotPasswordSchema = z.object({ email: EmailSchema });

const matching = <T extends { password: string; confirmPassword: string }>(data: T) =>
  data.password === data.confirmPassword;
const MISMATCH = { path: ["confirmPassword"], message: "Passwords do not match." };

export const ResetPasswordSchema = z
  .object({
    password: NewPasswordSchema,
    confirmPassword: z.string({ error: "Repeat the new password." }),
  })
  .refine(matching, MISMATCH);

export const ChangePasswordSchema = z
  .object({
    currentPassword: z.string({ error: "Enter your current password." }).max(200, "Use at most 200 characters."),
    password: NewPasswordSchema,
    confirmPassword: z.string({ error: "Repeat the new password." }),
  })
  .refine(matching, MISMATCH);
