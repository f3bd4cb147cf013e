// Passwords now that mail is real: "forgot password" links (single use, an hour, only their hash
// stored; a reset ends every session of the user) and changing a password while signed in (the
// current one required; every other session ended).
import { createHash, randomBytes } from "node:crypto";
import {
  claimPasswordReset,
  createPasswordReset,
  endPasswordResets,
  findUsablePasswordReset,
} from "~/models/password-reset.server.ts";
import { deleteUserSessions } from "~/models/session.server.ts";
import { inTransaction } from "~/models/transaction.server.ts";
import { getUserByEmail, hashPassword, setPasswordHash, verifyUserPassword } from "~/models/user.server.ts";
import { mailDelivery, sendMail } from "~/services/mail/mail.server.ts";
import { composeMail } from "~/services/mail/message.ts";

const RESET_LINK_LIFETIME_MS = 60 * 60 * 1000;

/** The stored form of a link's token: its SHA-256, hex. */
export function resetTokenHash(token: string) {
  return createHash("sha256").update(token).digest("hex");
}

// 32 random bytes in base64url: 43 characters. Anything else is not a token we made (and is not looked up).
const TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;

/**
 * Mails a reset link when the email has an account. The answer is the same either way ("sent"):
 * only "unavailable" differs, and it depends on the server (no mail, or no APP_URL in production),
 * never on the email.
 */
export async function requestPasswordReset(
  email: string,
  origin: string | null,
  now = new Date(),
): Promise<"sent" | "unavailable"> {
  if (!origin || mailDelivery() === "unavailable") return "unavailable";
  const user = await getUserByEmail(email);
  if (!user) return "sent";
  const token = randomBytes(32).toString("base64url");
  await createPasswordReset(user.id, resetTokenHash(token), new Date(now.getTime() + RESET_LINK_LIFETIME_MS));
  await sendMail(
    composeMail({
      to: user.email,
      subject: "Reset your Tierdesk password",
      paragraphs: [
        "Someone (we hope you) asked to reset the password of your Tierdesk account.",
        "Follow the link to choose a new password. It works once, within one hour; signing in with the new password signs you out everywhere else.",
      ],
      link: { label: "Choose a new password", url: `${origin}/reset-password/${token}` },
      footer: "If you did not ask for this, ignore this message: your password stays as it is.",
    }),
  );
  return "sent";
}

/** Whether a link can still be used (not used, not expired, one we made). Writes nothing. */
export async function resetLinkUsable(token: string, now = new Date()) {
  if (!TOKEN_PATTERN.test(token)) return false;
  return (await findUsablePasswordReset(resetTokenHash(token), now)) !== null;
}

/**
 * Sets a new password through a link: the link is used up, every other link of the user ended, and
 * every session of the user ended, in one transaction. False (and nothing written) when the link is
 * unknown, expired or already used.
 */
export async function resetPassword(token: string, password: string, now = new Date()): Promise<boolean> {
  if (!TOKEN_PATTERN.test(token)) return false;
  const passwordHash = await hashPassword(password);
  return inTransaction(async (tx) => {
    const userId = await claimPasswordReset(tx, resetTokenHash(token), now);
    if (userId === null) return false;
    await setPasswordHash(tx, userId, passwordHash);
    await endPasswordResets(tx, userId, now);
    await deleteUserSessions(userId, tx);
    return true;
  });
}

/**
 * Changes a signed-in user's password when `currentPassword` is right: every other session of the
 * user ends (the one `keepSessionId` names stays), and so does every unused reset link.
 */
export async function changePassword(
  userId: number,
  { currentPassword, password }: { currentPassword: string; password: string },
  keepSessionId: string,
  now = new Date(),
): Promise<{ ok: true } | { ok: false; fieldErrors: Record<string, string[]> }> {
  if (!(await verifyUserPassword(userId, currentPassword))) {
    return { ok: false, fieldErrors: { currentPassword: ["That is not your current password."] } };
  }
  const passwordHash = await hashPassword(password);
  await inTransaction(async (tx) => {
    await setPasswordHash(tx, userId, passwordHash);
    await endPasswordResets(tx, userId, now);
    await deleteUserSessions(userId, tx, keepSessionId);
  });
  return { ok: true };
}
