// Real mail and the password flows that need it (issue 19), on the real database with a real SMTP
// server (smtp-server on loopback): "forgot password" mails a single-use link valid for an hour, whose
// token is stored only as a hash; a reset ends every session; changing a password ends the others;
// the development outbox at /dev/mail, and production without SMTP.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import * as devMailRoute from "../../app/routes/dev.mail.tsx";
import * as forgotRoute from "../../app/routes/forgot-password.tsx";
import * as loginRoute from "../../app/routes/login.tsx";
import * as changeRoute from "../../app/routes/account_.password.tsx";
import * as resetRoute from "../../app/routes/reset-password.$token.tsx";
import { resetTokenHash } from "../../app/services/passwords/passwords.server.ts";
import { startJobWorker } from "../../app/services/jobs/worker.server.ts";
import { type Config, parseConfig, useConfig } from "../../app/utils/config.server.ts";
import { getOptionalUser } from "../../app/web/auth.server.ts";
import { testDb } from "../setup/database.ts";
import { startSmtpServer, unusedPort } from "../smtp-harness.ts";
import { formRequest, getRequest, routeArgs, seedDemoData, sessionCookieFor, settle } from "../utils.ts";

const prisma = () => testDb().prisma;
const APP_URL = "https://tierdesk.test";
const SENT = "If an account exists for that email, we sent a link; it is valid for one hour.";
const CUSTOMER = "customer@example.com";

let smtp: Awaited<ReturnType<typeof startSmtpServer>>;
let withSmtp: Config;
const environment = { SESSION_SECRET: "mail-test-secret-".repeat(3), LOG_LEVEL: "silent", APP_URL };

beforeAll(async () => {
  smtp = await startSmtpServer();
  withSmtp = parseConfig({ ...environment, SMTP_URL: smtp.url, MAIL_FROM: "Tierdesk <billing@tierdesk.test>" });
  useConfig(withSmtp);
  await seedDemoData();
  // Mail is sent by the queue's worker, as in every app instance.
  await startJobWorker();
});
afterAll(async () => smtp.close());
beforeEach(async () => {
  useConfig(withSmtp);
  await prisma().rateLimit.deleteMany();
});

const forgot = (email: string, ip = "198.51.100.4") =>
  settle(() => forgotRoute.action(routeArgs(formRequest("/forgot-password", { email }), {}, { clientIp: ip })));
const resetPage = (token: string) =>
  settle(() => resetRoute.loader(routeArgs(getRequest(`/reset-password/${token}`), { token })));
const reset = (token: string, password: string, confirmPassword = password) =>
  settle(() =>
    resetRoute.action(routeArgs(formRequest(`/reset-password/${token}`, { password, confirmPassword }), { token })),
  );
const login = (email: string, password: string) =>
  settle(() => loginRoute.action(routeArgs(formRequest("/login", { email, password }), {}, { clientIp: "192.0.2.9" })));
const signedIn = async (cookie: string) => (await getOptionalUser(getRequest("/account", cookie))) !== null;
const passwordHashOf = async (email: string) =>
  (await prisma().user.findUniqueOrThrow({ where: { email } })).passwordHash;

async function createUser(email: string) {
  const password = "original-password-1";
  // Signs up through the real route, so the password hash is the app's own.
  const { action } = await import("../../app/routes/signup.tsx");
  const response = await settle(() =>
    action(routeArgs(formRequest("/signup", { email, password, confirmPassword: password }), {}, { clientIp: email })),
  );
  expect(response.status).toBe(302);
  return password;
}

/** Asks for a link for `email` and returns the token from the mail that arrives. */
async function mailedToken(email: string) {
  const before = smtp.received.filter((mail) => mail.to.includes(email)).length;
  const answer = await forgot(email);
  expect(answer.status).toBe(200);
  expect((await answer.json()).sent).toBe(SENT);
  const mail = await smtp.nextMailTo(email, before);
  const link = new RegExp(`${APP_URL}/reset-password/([A-Za-z0-9_-]{43})`).exec(mail.text);
  expect(link, mail.text).not.toBeNull();
  return { token: link![1]!, mail };
}

describe("forgot password", () => {
  it("mails a working single-use link through SMTP, stores only its hash, and ends every session of the user", async () => {
    const email = "reset-once@example.com";
    await createUser(email);
    const [laptop, phone] = [await sessionCookieFor(email), await sessionCookieFor(email)];

    const { token, mail } = await mailedToken(email);
    expect(mail.from).toMatch(/^"?Tierdesk"? <billing@tierdesk\.test>$/);
    expect(mail.subject).toBe("Reset your Tierdesk password");
    expect(mail.html).toContain(`href="${APP_URL}/reset-password/${token}"`);
    // The queue held it sealed: the link is nowhere in the database, only its hash.
    const stored = await prisma().passwordReset.findFirstOrThrow({ where: { user: { email } } });
    expect(stored.tokenHash).toBe(resetTokenHash(token));
    expect(stored.tokenHash).not.toContain(token);
    const jobs = await prisma().$queryRawUnsafe<Array<{ data: string }>>(
      `SELECT data::text FROM pgboss.job WHERE name = 'send-mail'`,
    );
    expect(jobs.length).toBeGreaterThan(0);
    expect(jobs.some((job) => job.data.includes(token))).toBe(false);
    expect(stored.expiresAt.getTime() - stored.createdAt.getTime()).toBeGreaterThan(59 * 60_000);
    expect(stored.expiresAt.getTime() - stored.createdAt.getTime()).toBeLessThanOrEqual(60 * 60_000 + 1000);

    expect(await (await resetPage(token)).json()).toEqual({ usable: true });
    const mismatch = await reset(token, "brand-new-password", "something-else");
    expect(mismatch.status).toBe(400);
    expect(JSON.stringify(await mismatch.json())).toContain("Passwords do not match.");
    const tooShort = await reset(token, "short");
    expect(JSON.stringify(await tooShort.json())).toContain("Use at least 10 characters.");

    const done = await reset(token, "brand-new-password");
    expect(done.status).toBe(303);
    expect(done.headers.get("Location")).toBe("/login?password=reset");
    expect(await signedIn(laptop)).toBe(false);
    expect(await signedIn(phone)).toBe(false);
    expect((await login(email, "brand-new-password")).status).toBe(302);
    expect((await login(email, "original-password-1")).status).toBe(401);

    // Used once: the page says so, and a second use writes nothing.
    expect(await (await resetPage(token)).json()).toEqual({ usable: false });
    const hash = await passwordHashOf(email);
    const again = await reset(token, "attacker-password-1");
    expect(again.status).toBe(410);
    expect(await again.json()).toMatchObject({ expired: true });
    expect(await passwordHashOf(email)).toBe(hash);
  });

  it("refuses a link after an hour, and writes nothing", async () => {
    const email = "reset-late@example.com";
    const password = await createUser(email);
    const session = await sessionCookieFor(email);
    const { token } = await mailedToken(email);
    await prisma().passwordReset.updateMany({
      where: { tokenHash: resetTokenHash(token) },
      data: { expiresAt: new Date(Date.now() - 1000) },
    });
    const hash = await passwordHashOf(email);
    expect(await (await resetPage(token)).json()).toEqual({ usable: false });
    expect((await reset(token, "too-late-password")).status).toBe(410);
    expect(await passwordHashOf(email)).toBe(hash);
    expect(await signedIn(session)).toBe(true);
    expect((await login(email, password)).status).toBe(302);
    const stored = await prisma().passwordReset.findFirstOrThrow({ where: { tokenHash: resetTokenHash(token) } });
    expect(stored.usedAt).toBeNull();
  });

  it("ends every other link of the user when one is used", async () => {
    const email = "reset-two-links@example.com";
    await createUser(email);
    const first = await mailedToken(email);
    const second = await mailedToken(email);
    expect((await reset(second.token, "second-link-password")).status).toBe(303);
    expect(await (await resetPage(first.token)).json()).toEqual({ usable: false });
    expect((await reset(first.token, "first-link-password")).status).toBe(410);
  });

  it("answers an unknown email exactly as a known one, and mails nothing", async () => {
    const resetsBefore = await prisma().passwordReset.count();
    const mailsBefore = smtp.received.length;
    const unknown = await forgot("nobody-here@example.com");
    expect(unknown.status).toBe(200);
    expect(await unknown.json()).toEqual({ result: null, sent: SENT });
    expect(await prisma().passwordReset.count()).toBe(resetsBefore);
    // A known email's mail arrives after it; nothing went to the unknown one.
    await mailedToken(CUSTOMER);
    expect(smtp.received.slice(mailsBefore).map((mail) => mail.to)).toEqual([[CUSTOMER]]);
  });

  it("refuses an unknown or malformed token with the expired page", async () => {
    expect(await (await resetPage("x".repeat(43))).json()).toEqual({ usable: false });
    expect(await (await resetPage("not-a-token")).json()).toEqual({ usable: false });
    expect((await reset("not-a-token", "whatever-password")).status).toBe(410);
  });

  it("asks for a valid email, with a field error, and does not echo a huge one back", async () => {
    const response = await forgot("not an email");
    expect(response.status).toBe(400);
    expect(JSON.stringify(await response.json())).toContain("Enter a valid email address.");
    const huge = await forgot(`${"a".repeat(60_000)}@example.com`);
    expect(huge.status).toBe(400);
    const body = await huge.text();
    expect(body).toContain("Email is too long.");
    expect(body.length).toBeLessThan(2_000);
    const control = await forgot("customer\u0000@example.com");
    expect(control.status).toBe(400);
  });

  it("limits requests per email (3 an hour, known or not) and per address (10 in 15 minutes)", async () => {
    for (let i = 0; i < 3; i++) expect((await forgot("limited@example.com", `203.0.113.${i}`)).status).toBe(200);
    const perEmail = await forgot("limited@example.com", "203.0.113.50");
    expect(perEmail.status).toBe(429);
    expect(Number(perEmail.headers.get("Retry-After"))).toBeGreaterThan(0);
    expect(JSON.stringify(await perEmail.json())).toContain("Too many reset requests.");

    for (let i = 0; i < 10; i++) expect((await forgot(`someone-${i}@example.com`, "203.0.113.99")).status).toBe(200);
    expect((await forgot("someone-else@example.com", "203.0.113.99")).status).toBe(429);
  });
});

describe("an SMTP server that is down", () => {
  it("does not make the visitor wait, and the queue sends the mail once the server is back", async () => {
    const port = await unusedPort();
    const user = "late-smtp";
    const pass = "late-smtp-password";
    useConfig(parseConfig({ ...environment, SMTP_URL: `smtp://${user}:${pass}@127.0.0.1:${port}` }));
    const started = Date.now();
    const answer = await forgot(CUSTOMER);
    expect(await answer.json()).toMatchObject({ sent: SENT });
    expect(Date.now() - started).toBeLessThan(2_000);
    // The first attempt is refused (nothing listens); the retry, 5 s later, finds the server.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const late = await startSmtpServer({ user, pass, port });
    try {
      const mail = await late.nextMailTo(CUSTOMER, 0, 30_000);
      expect(mail.subject).toBe("Reset your Tierdesk password");
      expect(mail.text).toMatch(new RegExp(`${APP_URL}/reset-password/[A-Za-z0-9_-]{43}`));
    } finally {
      await late.close();
    }
  }, 45_000);
});

describe("changing a password on /account", () => {
  const change = (cookie: string, fields: Record<string, string>) =>
    settle(() => changeRoute.action(routeArgs(formRequest("/account/password", fields, { cookie }))));

  it("requires the current password, then ends every other session and keeps this one", async () => {
    const email = "changer@example.com";
    const password = await createUser(email);
    const [here, elsewhere] = [await sessionCookieFor(email), await sessionCookieFor(email)];
    const hash = await passwordHashOf(email);

    const wrong = await change(here, {
      currentPassword: "not-my-password",
      password: "changed-password-1",
      confirmPassword: "changed-password-1",
    });
    expect(wrong.status).toBe(400);
    const wrongBody = JSON.stringify(await wrong.json());
    expect(wrongBody).toContain("That is not your current password.");
    // Passwords are never sent back into the form.
    expect(wrongBody).not.toContain("changed-password-1");
    expect(await passwordHashOf(email)).toBe(hash);
    expect(await signedIn(elsewhere)).toBe(true);

    const short = await change(here, { currentPassword: password, password: "short", confirmPassword: "short" });
    expect(JSON.stringify(await short.json())).toContain("Use at least 10 characters.");

    const done = await change(here, {
      currentPassword: password,
      password: "changed-password-1",
      confirmPassword: "changed-password-1",
    });
    expect(done.status).toBe(303);
    expect(done.headers.get("Location")).toBe("/account?password=changed");
    expect(await signedIn(here)).toBe(true);
    expect(await signedIn(elsewhere)).toBe(false);
    expect((await login(email, "changed-password-1")).status).toBe(302);
    expect((await login(email, password)).status).toBe(401);
  });

  it("sends a visitor who is not signed in to /login", async () => {
    const response = await settle(() => changeRoute.loader(routeArgs(getRequest("/account/password"))));
    expect(response.status).toBe(302);
    expect(response.headers.get("Location")).toMatch(/^\/login\?next=/);
  });
});

describe("without SMTP_URL", () => {
  const outbox = () => settle(() => devMailRoute.loader(routeArgs(getRequest("/dev/mail"))));

  it("keeps mail in the development outbox, listed newest first at /dev/mail", async () => {
    useConfig(parseConfig({ ...environment, APP_URL: "" }));
    const mailsBefore = smtp.received.length;
    await forgot(CUSTOMER);
    await forgot("admin@example.com");
    const page = await outbox();
    expect(page.status).toBe(200);
    const { messages } = (await page.json()) as { messages: Array<{ to: string; subject: string; text: string }> };
    expect(messages.slice(0, 2).map((message) => message.to)).toEqual(["admin@example.com", CUSTOMER]);
    // Outside production without APP_URL, links point at the request's own origin.
    expect(messages[0]!.text).toMatch(/http:\/\/localhost:3000\/reset-password\/[A-Za-z0-9_-]{43}/);
    expect(smtp.received.length).toBe(mailsBefore);
  });

  it("in production: /dev/mail is a 404, nothing is kept, and forgot password says mail is not available", async () => {
    useConfig(parseConfig({ ...environment, NODE_ENV: "production" }));
    const outboxBefore = await prisma().devMail.count();
    const resetsBefore = await prisma().passwordReset.count();
    expect((await outbox()).status).toBe(404);
    const known = await (await forgot(CUSTOMER)).json();
    const unknown = await (await forgot("nobody-here@example.com")).json();
    expect(known).toEqual(unknown);
    expect(known.sent).toBe(
      "Password reset by email is not available on this server; ask an administrator to reset your password.",
    );
    expect(await prisma().devMail.count()).toBe(outboxBefore);
    expect(await prisma().passwordReset.count()).toBe(resetsBefore);
  });

  it("in production with SMTP_URL but no APP_URL, sends no link (a forged Host must not choose where it points)", async () => {
    useConfig(
      parseConfig({
        ...environment,
        NODE_ENV: "production",
        APP_URL: "",
        SMTP_URL: smtp.url,
        MAIL_FROM: "a@tierdesk.test",
      }),
    );
    const mailsBefore = smtp.received.length;
    const answer = await (await forgot(CUSTOMER)).json();
    expect(answer.sent).toMatch(/not available on this server/);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(smtp.received.length).toBe(mailsBefore);
  });
});
