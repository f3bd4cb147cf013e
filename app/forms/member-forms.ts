// The /account/members forms, shared by the browser and the server: inviting by email, and the
// one-button actions on a member or a pending invitation.
import { z } from "zod";
import { EMAIL_MAX_LENGTH, EmailSchema } from "~/utils/validation.ts";

/** Each field's longest value, which is also the most of it a refused form shows again. */
export const INVITE_FORM_MAX = { email: EMAIL_MAX_LENGTH } as const;

export const InviteSchema = z.object({ intent: z.literal("invite"), email: EmailSchema });

const id = z.coerce.number().int().positive();

/** The buttons' forms: which action, on which invitation or member. */
export const MemberActionSchema = z.discriminatedUnion("intent", [
  z.object({ intent: z.literal("resend"), invitationId: id }),
  z.object({ intent: z.literal("revoke"), invitationId: id }),
  z.object({ intent: z.literal("remove"), userId: id }),
  z.object({ intent: z.literal("make-owner"), userId: id }),
  z.object({ intent: z.literal("make-member"), userId: id }),
  z.object({ intent: z.literal("leave") }),
]);
