// Mail (docs/decisions/014-mail-on-the-job-queue.md). With SMTP_URL, a message is sealed and put on the
// job queue; a worker sends it through nodemailer, retried with backoff while the server refuses, so
// no visitor waits on SMTP. Without SMTP_URL outside production it is kept in the development outbox
// (/dev/mail); in production without SMTP_URL nothing is sent and the caller is told so.
import { createCipheriv, createDecipheriv, createHash, randomBytes } from "node:crypto";
import nodemailer, { type Transporter } from "nodemailer";
import { storeDevMail } from "~/models/dev-mail.server.ts";
import type { MailMessage } from "./message.ts";
import { enqueue } from "~/services/jobs/queue.server.ts";
import { config } from "~/utils/config.server.ts";
import { localSecret } from "~/utils/local-secret.server.ts";
import { logger } from "~/utils/logger.server.ts";
import { singleton } from "~/utils/singleton.server.ts";

/** `queued`: on its way to the SMTP server; `outbox`: kept at /dev/mail; `unavailable`: this server sends no mail. */
export type MailOutcome = "queued" | "outbox" | "unavailable";

/** How this server delivers mail, by configuration. */
export function mailDelivery(): MailOutcome {
  const { mail, production } = config();
  if (mail.smtpUrl) return "queued";
  return production ? "unavailable" : "outbox";
}

/** Whether the development outbox is in use (and /dev/mail shown). */
export function devOutboxEnabled() {
  return mailDelivery() === "outbox";
}

/**
 * The origin links in mail point to: APP_URL, or outside production the request's own. Null in
 * production without APP_URL: a link built from a request's Host header could point anywhere (a
 * forged Host would mail someone a reset link to another site).
 */
export function mailLinkOrigin(request: Request): string | null {
  const { appUrl, production } = config();
  if (appUrl) return appUrl;
  if (production) {
    logger.warn("mail with links needs APP_URL in production: set it to the app's public URL");
    return null;
  }
  return new URL(request.url).origin;
}

/** Sends a message (on the queue), keeps it in the outbox, or answers that no mail can be sent. */
export async function sendMail(message: MailMessage): Promise<MailOutcome> {
  const delivery = mailDelivery();
  if (delivery === "outbox") await storeDevMail(message);
  if (delivery === "queued") await enqueue("send-mail", { sealed: seal(message) });
  return delivery;
}

/** The queue's "send-mail" task: sends one message; a refusal throws, and the queue retries it. */
export async function deliverQueuedMail({ sealed }: { sealed: string }): Promise<void> {
  const message = unseal(sealed);
  if (!message) {
    // Retrying cannot help: every secret it could have been sealed with is gone.
    logger.error("mail: a queued message cannot be opened with any SESSION_SECRET; it is dropped");
    return;
  }
  const { smtpUrl, from } = config().mail;
  if (!smtpUrl || !from) {
    logger.error({ subject: message.subject }, "mail: SMTP_URL is no longer set; a queued message is dropped");
    return;
  }
  const info = (await transport(smtpUrl).sendMail({ from, ...message })) as { messageId?: string };
  logger.info({ messageId: info.messageId, subject: message.subject }, "mail sent");
}

// One pooled transport per SMTP server, with timeouts: a stalled server fails the step, which is retried.
const transports = singleton("mail-transports", () => new Map<string, Transporter>());
function transport(smtpUrl: string): Transporter {
  let existing = transports.get(smtpUrl);
  if (!existing) {
    existing = nodemailer.createTransport(smtpUrl, {
      connectionTimeout: 10_000,
      greetingTimeout: 10_000,
      socketTimeout: 20_000,
    } as never);
    transports.set(smtpUrl, existing);
  }
  return existing;
}

// A queued message is sealed (AES-256-GCM, keyed by the session secrets): its reset link must not sit
// readable in the queue's tables, since the database keeps only hashes of those links.
function mailKeys(): Buffer[] {
  const { sessionSecrets, dataDir } = config();
  const secrets = sessionSecrets ?? [localSecret(dataDir, "dev-session-secret")];
  return secrets.map((secret) => createHash("sha256").update(`tierdesk mail\n${secret}`).digest());
}

function seal(message: MailMessage): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", mailKeys()[0]!, iv);
  const body = Buffer.concat([cipher.update(JSON.stringify(message), "utf8"), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), body]).toString("base64url");
}

function unseal(sealed: string): MailMessage | null {
  const bytes = Buffer.from(sealed, "base64url");
  const [iv, tag, body] = [bytes.subarray(0, 12), bytes.subarray(12, 28), bytes.subarray(28)];
  // Any configured secret opens it: SESSION_SECRET may have been rotated since it was queued.
  for (const key of mailKeys()) {
    try {
      const decipher = createDecipheriv("aes-256-gcm", key, iv);
      decipher.setAuthTag(tag);
      return JSON.parse(Buffer.concat([decipher.update(body), decipher.final()]).toString("utf8")) as MailMessage;
    } catch {
      // another key
    }
  }
  return null;
}
