// Invitations and members (issue 19, seats), through the real routes on the real database, with mail
// caught by a real SMTP server: an owner invites by email from /account/members, the invited person
// accepts from the mailed link and joins. Seats are decided under the account's lock: two invitations
// racing for the last seat send one, 50 people accepting at once into 4 free seats make 4 members.
// Every refusal (expired, used, revoked, another email, a full team) writes nothing.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import * as membersRoute from "../../app/routes/account_.members.tsx";
import * as invitationRoute from "../../app/routes/invitations.$token.tsx";
import * as signupRoute from "../../app/routes/signup.tsx";
import { refreshSeatLimitMark } from "../../app/models/seats.server.ts";
import { accountSeats } from "../../app/services/customers/accounts.server.ts";
import { invitationTokenHash } from "../../app/services/customers/members.server.ts";
import { startJobWorker } from "../../app/services/jobs/worker.server.ts";
import { type Config, parseConfig, useConfig } from "../../app/utils/config.server.ts";
import { getAccountContext } from "../../app/web/auth.server.ts";
import { chooseAccountFor } from "../../app/web/session.server.ts";
import { requirePostgres, testDb } from "../setup/database.ts";
import { startSmtpServer } from "../smtp-harness.ts";
import { formRequest, getRequest, routeArgs, seedDemoData, sessionCookieFor, settle } from "../utils.ts";

const prisma = () => testDb().prisma;
const APP_URL = "https://tierdesk.test";
const environment = { SESSION_SECRET: "invitation-test-secret-".repeat(3), LOG_LEVEL: "silent", APP_URL };

let smtp: Awaited<ReturnType<typeof startSmtpServer>>;
let withSmtp: Config;

beforeAll(async () => {
  smtp = await startSmtpServer();
  withSmtp = parseConfig({ ...environment, SMTP_URL: smtp.url, MAIL_FROM: "Tierdesk <team@tierdesk.test>" });
  useConfig(withSmtp);
  await seedDemoData();
  await startJobWorker();
});
afterAll(async () => smtp.close());
beforeEach(async () => {
  useConfig(withSmtp);
  await prisma().rateLimit.deleteMany();
});

// ---------------------------------------------------------------------------------------------
// Helpers

let unique = 0;
const emailFor = (name: string) => `${name}-${++unique}@example.com`;

/** A customer signed up through the real route (with their personal account); their session cookie. */
async function signUp(email: string, next?: string) {
  const password = "a long enough password";
  const response = await settle(() =>
    signupRoute.action(
      routeArgs(
        formRequest("/signup", { email, password, confirmPassword: password, ...(next ? { next } : {}) }),
        {},
        { clientIp: `signup-${email}` },
      ),
    ),
  );
  expect(response.status).toBe(302);
  const cookie = (response.headers.get("Set-Cookie") ?? "").split(";")[0]!;
  return { cookie, location: response.headers.get("Location") };
}

/** An exempt tier with this user limit (an account on it has that many seats). */
async function tierWithLimit(userLimit: number) {
  const key = `seats_${userLimit}_${++unique}`;
  return prisma().subscriptionTier.create({
    data: { key, name: `Seats ${userLimit}`, userLimit, billingProvider: "exempt", isBillingExempt: true },
  });
}

const accountOf = async (cookie: string) => (await getAccountContext(getRequest("/account/members", cookie))).current!;

/** A new owner whose account (their personal one) is on a tier with `limit` seats. */
async function newOwner(limit: number) {
  const email = emailFor("owner");
  const { cookie } = await signUp(email);
  const account = await accountOf(cookie);
  const tier = await tierWithLimit(limit);
  await prisma().account.update({ where: { id: account.id }, data: { tierId: tier.id } });
  return { email, cookie, accountId: account.id };
}

const invite = (cookie: string, email: string) =>
  settle(() =>
    membersRoute.action(routeArgs(formRequest("/account/members", { intent: "invite", email }, { cookie }))),
  );
const memberAction = (cookie: string, fields: Record<string, string>) =>
  settle(() => membersRoute.action(routeArgs(formRequest("/account/members", fields, { cookie }))));
const membersPage = (cookie: string) =>
  settle(() => membersRoute.loader(routeArgs(getRequest("/account/members", cookie))));
const invitationPage = (token: string, cookie?: string) =>
  settle(() => invitationRoute.loader(routeArgs(getRequest(`/invitations/${token}`, cookie), { token })));
const accept = (token: string, cookie: string) =>
  settle(() => invitationRoute.action(routeArgs(formRequest(`/invitations/${token}`, {}, { cookie }), { token })));

const LINK = new RegExp(`${APP_URL}/invitations/([A-Za-z0-9_-]{43})`);

/** Invites `email` and returns the token from the mail that arrives over SMTP. */
async function invitedToken(ownerCookie: string, typed: string) {
  const email = typed.toLowerCase();
  const before = smtp.received.filter((mail) => mail.to.includes(email)).length;
  const response = await invite(ownerCookie, typed);
  expect(response.status, await response.clone().text()).toBe(303);
  const mail = await smtp.nextMailTo(email, before);
  const token = LINK.exec(mail.text)?.[1];
  expect(token, mail.text).toBeDefined();
  return { token: token!, mail };
}

/** Everything an acceptance could write: the account's members, its invitations, and the seat mark. */
async function written(accountId: number) {
  const [memberships, invitations, account] = await Promise.all([
    prisma().membership.findMany({ where: { accountId }, orderBy: { userId: "asc" } }),
    prisma().invitation.findMany({ where: { accountId }, orderBy: { id: "asc" } }),
    prisma().account.findUniqueOrThrow({ where: { id: accountId }, select: { overSeatLimitSince: true } }),
  ]);
  return JSON.stringify({ memberships, invitations, account });
}

const fieldError = async (response: Response) =>
  ((await response.json()) as { result?: { error?: Record<string, string[]> } }).result?.error?.email?.[0];

// ---------------------------------------------------------------------------------------------

describe("inviting and joining", () => {
  it("mails a single-use link (only its hash stored); the invited person signs up with it and joins", async () => {
    const owner = await newOwner(5);
    const invited = emailFor("new-hire");
    const { token, mail } = await invitedToken(owner.cookie, invited.toUpperCase());
    const account = await accountOf(owner.cookie);
    expect(mail.subject).toBe(`${owner.email} invited you to ${account.name} on Tierdesk`);
    expect(mail.from).toMatch(/team@tierdesk\.test/);
    expect(mail.html).toContain(`href="${APP_URL}/invitations/${token}"`);
    const stored = await prisma().invitation.findFirstOrThrow({ where: { accountId: owner.accountId } });
    // Bound to the email, lower-cased; only the token's hash is kept; 7 days.
    expect(stored.email).toBe(invited);
    expect(stored.tokenHash).toBe(invitationTokenHash(token));
    expect(stored.expiresAt.getTime() - stored.createdAt.getTime()).toBe(7 * 24 * 3_600_000);
    const jobs = await prisma().$queryRawUnsafe<Array<{ data: string }>>(
      `SELECT data::text FROM pgboss.job WHERE name = 'send-mail'`,
    );
    expect(jobs.some((job) => job.data.includes(token))).toBe(false);

    // The owner's page lists it as pending, and the seats count it.
    const page = await (await membersPage(owner.cookie)).json();
    expect(page.invitations).toEqual([expect.objectContaining({ email: invited })]);
    expect(page.seats).toMatchObject({ limit: 5, used: 1, pending: 1, overLimit: null });
    expect(await accountSeats(owner.accountId)).toEqual({ limit: 5, used: 1, pending: 1 });

    // Signed out: the page offers sign-in or sign-up with that email.
    const anonymous = await invitationPage(token);
    expect(anonymous.status).toBe(200);
    expect((await anonymous.json()).state).toMatchObject({ kind: "open", invitedEmail: invited });

    const { cookie, location } = await signUp(invited, `/invitations/${token}`);
    expect(location).toBe(`/invitations/${token}`);
    expect((await (await invitationPage(token, cookie)).json()).state.kind).toBe("open");
    const joined = await accept(token, cookie);
    expect(joined.status).toBe(303);
    expect(joined.headers.get("Location")).toBe("/account");
    // The session now acts for the team.
    expect((await accountOf(cookie)).id).toBe(owner.accountId);
    const membership = await prisma().membership.findFirst({
      where: { accountId: owner.accountId, user: { email: invited } },
    });
    expect(membership?.role).toBe("member");
    expect((await prisma().invitation.findUniqueOrThrow({ where: { id: stored.id } })).acceptedAt).not.toBeNull();
    expect(await accountSeats(owner.accountId)).toEqual({ limit: 5, used: 2, pending: 0 });
  });

  it("refuses at the field: an invalid email, a member, a pending invitation, no seat left", async () => {
    const owner = await newOwner(2);
    const bad = await invite(owner.cookie, "not-an-email");
    expect(bad.status).toBe(400);
    expect(await fieldError(bad)).toBe("Enter a valid email address.");
    const self = await invite(owner.cookie, owner.email);
    expect(self.status).toBe(409);
    expect(await fieldError(self)).toMatch(/is already a member of/);
    const first = emailFor("first");
    await invitedToken(owner.cookie, first);
    const again = await invite(owner.cookie, first);
    expect(await fieldError(again)).toMatch(/is already invited/);
    const full = await invite(owner.cookie, emailFor("third"));
    expect(full.status).toBe(409);
    expect(await fieldError(full)).toBe(
      "This team has 2 seats: 1 member and 1 pending invitation. Remove someone or upgrade to invite more.",
    );
    expect(await prisma().invitation.count({ where: { accountId: owner.accountId } })).toBe(1);
  });

  it("sends exactly one of two invitations racing for the last seat", async () => {
    const owner = await newOwner(2);
    const [a, b] = [emailFor("racer-a"), emailFor("racer-b")];
    const answers = await Promise.all([invite(owner.cookie, a), invite(owner.cookie, b)]);
    expect(answers.map((answer) => answer.status).sort()).toEqual([303, 409]);
    const refused = answers.find((answer) => answer.status === 409)!;
    expect(await fieldError(refused)).toBe(
      "This team has 2 seats: 1 member and 1 pending invitation. Remove someone or upgrade to invite more.",
    );
    expect(await prisma().invitation.count({ where: { accountId: owner.accountId } })).toBe(1);
  });

  it("in production without SMTP, shows the owner the link to pass on (and keeps no outbox)", async () => {
    useConfig(parseConfig({ ...environment, NODE_ENV: "production" }));
    const owner = await newOwner(3);
    const outbox = await prisma().devMail.count();
    const response = await invite(owner.cookie, emailFor("by-hand"));
    expect(response.status).toBe(200);
    const { shown } = (await response.json()) as { shown: { link: string } };
    const token = LINK.exec(shown.link)?.[1];
    expect(token).toBeDefined();
    expect((await (await invitationPage(token!)).json()).state.kind).toBe("open");
    expect(await prisma().devMail.count()).toBe(outbox);
  });
});

describe("50 people accepting at once", () => {
  it("fills exactly the 4 free seats; the other 46 get the 'team is full' page and nothing is written", async (ctx) => {
    requirePostgres(ctx); // 50 transactions on the real pool, waiting on one another's lock
    // Links without mail: production without SMTP shows each to the owner.
    useConfig(parseConfig({ ...environment, NODE_ENV: "production" }));
    const owner = await newOwner(100);
    const people = Array.from({ length: 50 }, (_, i) => emailFor(`crowd-${i}`));
    const tokens: string[] = [];
    for (const email of people) {
      const response = await invite(owner.cookie, email);
      expect(response.status).toBe(200);
      tokens.push(LINK.exec(((await response.json()) as { shown: { link: string } }).shown.link)![1]!);
    }
    const passwordHash = "not-a-real-hash";
    await prisma().user.createMany({ data: people.map((email) => ({ email, passwordHash, role: "customer" })) });
    const cookies = await Promise.all(people.map((email) => sessionCookieFor(email)));
    // The plan is downgraded meanwhile: the owner plus 4 seats.
    const small = await tierWithLimit(5);
    await prisma().account.update({ where: { id: owner.accountId }, data: { tierId: small.id } });

    const answers = await Promise.all(tokens.map((token, i) => accept(token, cookies[i]!)));
    const statuses = answers.map((answer) => answer.status);
    expect(statuses.filter((status) => status === 303)).toHaveLength(4);
    expect(statuses.filter((status) => status === 409)).toHaveLength(46);
    for (const answer of answers.filter((response) => response.status === 409)) {
      expect((await answer.json()).state).toMatchObject({ kind: "full", seats: { limit: 5, used: 5 } });
    }
    expect(await prisma().membership.count({ where: { accountId: owner.accountId } })).toBe(5);
    expect(await prisma().invitation.count({ where: { accountId: owner.accountId, acceptedAt: { not: null } } })).toBe(
      4,
    );
    expect(await prisma().invitation.count({ where: { accountId: owner.accountId, acceptedAt: null } })).toBe(46);
    const account = await prisma().account.findUniqueOrThrow({ where: { id: owner.accountId } });
    expect(account.overSeatLimitSince).toBeNull();
  }, 60_000);
});

describe("refusals write nothing", () => {
  it("expired, used, revoked, unknown and another email's invitations", async () => {
    const owner = await newOwner(10);
    const invited = emailFor("refused");
    const { cookie } = await signUp(invited);

    // Expired.
    const expired = await invitedToken(owner.cookie, invited);
    await prisma().invitation.update({
      where: { tokenHash: invitationTokenHash(expired.token) },
      data: { expiresAt: new Date(Date.now() - 1000) },
    });
    let before = await written(owner.accountId);
    const late = await accept(expired.token, cookie);
    expect(late.status).toBe(410);
    expect((await late.json()).state.kind).toBe("expired");
    expect(await written(owner.accountId)).toBe(before);

    // Revoked by the owner.
    const revoked = await invitedToken(owner.cookie, invited);
    const stored = await prisma().invitation.findUniqueOrThrow({
      where: { tokenHash: invitationTokenHash(revoked.token) },
    });
    const revoke = await memberAction(owner.cookie, { intent: "revoke", invitationId: String(stored.id) });
    expect(revoke.status).toBe(303);
    before = await written(owner.accountId);
    const withdrawn = await accept(revoked.token, cookie);
    expect(withdrawn.status).toBe(410);
    expect((await withdrawn.json()).state.kind).toBe("revoked");
    expect(await written(owner.accountId)).toBe(before);

    // Another email signed in.
    const live = await invitedToken(owner.cookie, invited);
    const stranger = (await signUp(emailFor("stranger"))).cookie;
    before = await written(owner.accountId);
    const wrong = await accept(live.token, stranger);
    expect(wrong.status).toBe(403);
    expect((await wrong.json()).state).toMatchObject({ kind: "other-email", invitedEmail: invited });
    expect(await written(owner.accountId)).toBe(before);

    // Unknown.
    const unknown = await accept("A".repeat(43), cookie);
    expect(unknown.status).toBe(404);
    expect(await written(owner.accountId)).toBe(before);

    // Used: accepted once, the second time nothing more.
    expect((await accept(live.token, cookie)).status).toBe(303);
    before = await written(owner.accountId);
    const reused = await accept(live.token, cookie);
    expect(reused.status).toBe(410);
    expect((await reused.json()).state.kind).toBe("used");
    expect(await written(owner.accountId)).toBe(before);
  });

  it("resending makes a new link and kills the old one", async () => {
    const owner = await newOwner(5);
    const invited = emailFor("resent");
    const first = await invitedToken(owner.cookie, invited);
    const { id } = await prisma().invitation.findUniqueOrThrow({
      where: { tokenHash: invitationTokenHash(first.token) },
    });
    const before = smtp.received.filter((mail) => mail.to.includes(invited)).length;
    const resend = await memberAction(owner.cookie, { intent: "resend", invitationId: String(id) });
    expect(resend.status).toBe(303);
    const mail = await smtp.nextMailTo(invited, before);
    const second = LINK.exec(mail.text)![1]!;
    expect(second).not.toBe(first.token);
    expect((await invitationPage(first.token)).status).toBe(404);
    const { cookie } = await signUp(invited);
    expect((await accept(first.token, cookie)).status).toBe(404);
    expect((await accept(second, cookie)).status).toBe(303);
  });
});

describe("owners and members", () => {
  async function teamOfTwo() {
    const owner = await newOwner(5);
    const memberEmail = emailFor("member");
    const { token } = await invitedToken(owner.cookie, memberEmail);
    const { cookie } = await signUp(memberEmail);
    expect((await accept(token, cookie)).status).toBe(303);
    const memberId = (await prisma().user.findUniqueOrThrow({ where: { email: memberEmail } })).id;
    const ownerId = (await prisma().user.findUniqueOrThrow({ where: { email: owner.email } })).id;
    return { owner, ownerId, member: { email: memberEmail, cookie, id: memberId } };
  }

  it("the last owner can neither leave, nor be removed, nor be made a member", async () => {
    const { owner, ownerId, member } = await teamOfTwo();
    const before = await written(owner.accountId);
    const lastOwnerChanges: Record<string, string>[] = [
      { intent: "leave" },
      { intent: "remove", userId: String(ownerId) },
      { intent: "make-member", userId: String(ownerId) },
    ];
    for (const fields of lastOwnerChanges) {
      const refused = await memberAction(owner.cookie, fields);
      expect(refused.status, fields.intent).toBe(409);
      expect((await refused.json()).error).toMatch(/^This is the account's last owner\./);
    }
    expect(await written(owner.accountId)).toBe(before);

    // With a second owner, the first may step down and leave.
    expect((await memberAction(owner.cookie, { intent: "make-owner", userId: String(member.id) })).status).toBe(303);
    expect((await memberAction(owner.cookie, { intent: "leave" })).status).toBe(303);
    expect(await prisma().membership.findMany({ where: { accountId: owner.accountId } })).toEqual([
      expect.objectContaining({ userId: member.id, role: "owner" }),
    ]);
  });

  it("a member sees the list read-only, cannot invite, remove or revoke, and may leave", async () => {
    const { owner, ownerId, member } = await teamOfTwo();
    const pending = await invitedToken(owner.cookie, emailFor("pending"));
    const invitationId = (
      await prisma().invitation.findUniqueOrThrow({ where: { tokenHash: invitationTokenHash(pending.token) } })
    ).id;
    const page = await (await membersPage(member.cookie)).json();
    expect(page.account.role).toBe("member");
    expect(page.members.map((m: { email: string }) => m.email).sort()).toEqual([owner.email, member.email].sort());
    expect(page.invitations).toEqual([]);
    const before = await written(owner.accountId);
    const ownersOnly: Record<string, string>[] = [
      { intent: "invite", email: emailFor("sneaky") },
      { intent: "remove", userId: String(ownerId) },
      { intent: "revoke", invitationId: String(invitationId) },
      { intent: "resend", invitationId: String(invitationId) },
      { intent: "make-owner", userId: String(member.id) },
    ];
    for (const fields of ownersOnly) {
      expect((await memberAction(member.cookie, fields)).status, fields.intent).toBe(403);
    }
    expect(await written(owner.accountId)).toBe(before);
    const left = await memberAction(member.cookie, { intent: "leave" });
    expect(left.status).toBe(303);
    expect(await prisma().membership.count({ where: { accountId: owner.accountId, userId: member.id } })).toBe(0);
    // Their session moves on to their own account.
    expect((await accountOf(member.cookie)).id).not.toBe(owner.accountId);
  });

  it("an owner acts only on their current account: another account's members and invitations are out of reach", async () => {
    const other = await teamOfTwo();
    const pending = await invitedToken(other.owner.cookie, emailFor("elsewhere"));
    const otherInvitation = (
      await prisma().invitation.findUniqueOrThrow({ where: { tokenHash: invitationTokenHash(pending.token) } })
    ).id;
    const owner = await newOwner(5);
    const before = await written(other.owner.accountId);
    expect((await memberAction(owner.cookie, { intent: "remove", userId: String(other.member.id) })).status).toBe(404);
    expect((await memberAction(owner.cookie, { intent: "revoke", invitationId: String(otherInvitation) })).status).toBe(
      404,
    );
    expect((await memberAction(owner.cookie, { intent: "resend", invitationId: String(otherInvitation) })).status).toBe(
      404,
    );
    expect(await written(other.owner.accountId)).toBe(before);
    const page = JSON.stringify(await (await membersPage(owner.cookie)).json());
    expect(page).not.toContain(other.member.email);
    expect(page).not.toContain(other.owner.email);
    // Nor can the session be pointed at an account the user is not in.
    expect(await chooseAccountFor(getRequest("/", owner.cookie), other.owner.accountId)).toBe(false);
  });

  it("an account over its limit refuses invitations at the field, and shows its owners the banner", async () => {
    const { owner, member } = await teamOfTwo();
    const tiny = await tierWithLimit(1);
    await prisma().account.update({ where: { id: owner.accountId }, data: { tierId: tiny.id } });
    await refreshSeatLimitMark(prisma(), [owner.accountId]);
    const before = await written(owner.accountId);
    const refused = await invite(owner.cookie, emailFor("one-too-many"));
    expect(refused.status).toBe(409);
    const account = await accountOf(owner.cookie);
    expect(await fieldError(refused)).toBe(
      `${account.name} has 2 members but its plan allows 1. Remove members or upgrade before inviting anyone.`,
    );
    expect(await written(owner.accountId)).toBe(before);
    const ownerPage = await (await membersPage(owner.cookie)).json();
    expect(ownerPage.seats).toMatchObject({ used: 2, limit: 1, overLimit: { planName: tiny.name } });
    const memberPage = await (await membersPage(member.cookie)).json();
    expect(memberPage.seats.overLimit).toBeNull();
    // Removing the member brings it back under: the mark is cleared in the same transaction.
    expect((await memberAction(owner.cookie, { intent: "remove", userId: String(member.id) })).status).toBe(303);
    const after = await prisma().account.findUniqueOrThrow({ where: { id: owner.accountId } });
    expect(after.overSeatLimitSince).toBeNull();
  });
});
