import { beforeAll, beforeEach, describe, expect, it } from "vitest";
import * as adminRoute from "../../app/routes/admin.tsx";
import * as loginRoute from "../../app/routes/login.tsx";
import * as logoutRoute from "../../app/routes/logout.tsx";
import * as signupRoute from "../../app/routes/signup.tsx";
import { createCookieSessionStorage } from "@remix-run/node";
import { deleteUserSessions } from "../../app/models/session.server.ts";
import { getOptionalUser } from "../../app/web/auth.server.ts";
import { testDb } from "../setup/database.ts";
import { billingOf, formRequest, getRequest, routeArgs, seedDemoData, sessionCookieFor, settle } from "../utils.ts";

beforeAll(seedDemoData);
beforeEach(async () => {
  await testDb().prisma.rateLimit.deleteMany();
});

const login = (fields: Record<string, string>, ip = "203.0.113.7") =>
  settle(() => loginRoute.action(routeArgs(formRequest("/login", fields), {}, { clientIp: ip })));

describe("sign-in", () => {
  it.each([
    ["admin@example.com", "admin-demo-password", "/admin"],
    ["support@example.com", "support-demo-password", "/admin"],
    ["customer@example.com", "customer-demo-password", "/account"],
  ])("%s lands on %s", async (email, password, home) => {
    const response = await login({ email, password });
    expect(response.status).toBe(302);
    expect(response.headers.get("Location")).toBe(home);
    const cookie = response.headers.get("Set-Cookie")!;
    expect(cookie).toMatch(/^__session=/);
    expect(cookie).toMatch(/HttpOnly/i);
    expect(cookie).toMatch(/SameSite=Lax/i);
  });

  it("matches the email case-insensitively", async () => {
    const response = await login({ email: "  Customer@Example.COM ", password: "customer-demo-password" });
    expect(response.headers.get("Location")).toBe("/account");
  });

  it("follows a same-site next path and ignores off-site ones", async () => {
    const ok = await login({ email: "customer@example.com", password: "customer-demo-password", next: "/pricing?x=1" });
    expect(ok.headers.get("Location")).toBe("/pricing?x=1");
    for (const next of ["//evil.com", "https://evil.com/x", "/\\evil.com"]) {
      const response = await login({ email: "customer@example.com", password: "customer-demo-password", next });
      expect(response.headers.get("Location"), next).toBe("/account");
    }
  });

  it("starts a new session on sign-in", async () => {
    const first = (await login({ email: "customer@example.com", password: "customer-demo-password" })).headers.get(
      "Set-Cookie",
    );
    const second = (await login({ email: "customer@example.com", password: "customer-demo-password" })).headers.get(
      "Set-Cookie",
    );
    expect(first).not.toEqual(second);
  });

  it("rejects a wrong password or unknown email with the same message", async () => {
    const wrong = await login({ email: "customer@example.com", password: "nope" });
    const unknown = await login({ email: "nobody@example.com", password: "nope" });
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    expect((await wrong.json()).formError).toBe("Invalid email or password.");
    expect((await unknown.json()).formError).toBe("Invalid email or password.");
    expect(wrong.headers.get("Set-Cookie")).toBeNull();
  });

  it("explains missing fields", async () => {
    const response = await login({ email: "not-an-email", password: "" });
    expect(response.status).toBe(400);
    const body = await response.json();
    expect(body.fieldErrors.email).toEqual(["Enter a valid email address."]);
    expect(body.fieldErrors.password).toEqual(["Password is required."]);
  });

  it("rate limits failed sign-ins per email and IP, even with the right password afterwards from that IP", async () => {
    for (let i = 0; i < 5; i++)
      expect((await login({ email: "admin@example.com", password: `guess-${i}` })).status).toBe(401);
    const blocked = await login({ email: "admin@example.com", password: "admin-demo-password" });
    expect(blocked.status).toBe(429);
    expect((await blocked.json()).formError).toMatch(/Too many failed sign-ins. Try again in \d+ minutes?/);
    expect(Number(blocked.headers.get("Retry-After"))).toBeGreaterThan(0);
    // Another account is unaffected.
    expect((await login({ email: "support@example.com", password: "support-demo-password" })).status).toBe(302);
  });

  it("does not lock the owner out: 5 wrong passwords from one IP, then the right one from the owner's IP", async () => {
    for (let i = 0; i < 6; i++)
      expect((await login({ email: "customer@example.com", password: `guess-${i}` }, "198.51.100.66")).status).not.toBe(
        302,
      );
    const owner = await login({ email: "customer@example.com", password: "customer-demo-password" }, "203.0.113.50");
    expect(owner.status).toBe(302);
    expect(owner.headers.get("Location")).toBe("/account");
  });

  it("slows guesses on one email from many IPs (after 10, one every 2 s), and the owner gets in after the wait", async () => {
    for (let i = 0; i < 10; i++)
      expect((await login({ email: "customer@example.com", password: `guess-${i}` }, `192.0.2.${i}`)).status).toBe(401);
    // Past the allowance, one attempt per 2-second slot from anywhere: this one takes the slot…
    expect((await login({ email: "customer@example.com", password: "guess-x" }, "192.0.2.100")).status).toBe(401);
    // …and the owner, right after, is asked to wait seconds, not locked out for minutes.
    const slowed = await login({ email: "customer@example.com", password: "customer-demo-password" }, "203.0.113.51");
    expect(slowed.status).toBe(429);
    const retryAfter = Number(slowed.headers.get("Retry-After"));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(2);
    expect((await slowed.json()).formError).toMatch(
      /This account is getting many sign-in attempts. Try again in \d+ seconds?\./,
    );
    await new Promise((resolve) => setTimeout(resolve, retryAfter * 1000 + 100));
    const owner = await login({ email: "customer@example.com", password: "customer-demo-password" }, "203.0.113.51");
    expect(owner.status).toBe(302);
  });

  it("rate limits failed sign-ins per IP across emails", async () => {
    for (let i = 0; i < 20; i++) await login({ email: `spray${i}@example.com`, password: "x" }, "198.51.100.1");
    const blocked = await login({ email: "customer@example.com", password: "customer-demo-password" }, "198.51.100.1");
    expect(blocked.status).toBe(429);
    const otherIp = await login({ email: "customer@example.com", password: "customer-demo-password" }, "198.51.100.2");
    expect(otherIp.status).toBe(302);
  });
});

describe("concurrent guesses", () => {
  it("checks at most 5 of 200 concurrent passwords for one email from one IP (the rest get 429)", async () => {
    const guesses = Array.from({ length: 200 }, (_, i) => (i === 150 ? "admin-demo-password" : `guess-${i}`));
    const responses = await Promise.all(
      guesses.map((password) => login({ email: "admin@example.com", password }, "192.0.2.1")),
    );
    const statuses = responses.map((response) => response.status);
    const checked = statuses.filter((status) => status !== 429).length;
    expect(checked).toBeLessThanOrEqual(5);
    expect(statuses.filter((status) => status === 429).length).toBeGreaterThanOrEqual(195);
  });

  it("checks at most 10, plus one per 2 s, of 200 concurrent passwords for one email from 200 IPs", async () => {
    const started = Date.now();
    const responses = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        login({ email: "admin@example.com", password: `guess-${i}` }, `10.${Math.floor(i / 100)}.0.${i % 100}`),
      ),
    );
    const slots = Math.ceil((Date.now() - started) / 2000);
    const checked = responses.filter((response) => response.status !== 429).length;
    expect(checked).toBeGreaterThanOrEqual(10);
    expect(checked).toBeLessThanOrEqual(10 + slots);
  });

  it("checks at most 20 of 100 concurrent guesses on different emails from one IP", async () => {
    const responses = await Promise.all(
      Array.from({ length: 100 }, (_, i) => login({ email: `spray-${i}@example.com`, password: "x" }, "198.51.100.77")),
    );
    const checked = responses.filter((response) => response.status !== 429).length;
    expect(checked).toBeLessThanOrEqual(20);
    expect(checked).toBeGreaterThan(0);
  });
});

describe("sessions", () => {
  const adminPage = (cookie: string) => settle(() => adminRoute.loader(routeArgs(getRequest("/admin", cookie))));

  it("ends the session on the server at sign-out: a copied cookie no longer opens /admin", async () => {
    const response = await login({ email: "admin@example.com", password: "admin-demo-password" });
    const copied = (response.headers.get("Set-Cookie") ?? "").split(";")[0] ?? "";
    expect((await adminPage(copied)).status).toBe(200);
    await settle(() => logoutRoute.action(routeArgs(formRequest("/logout", {}, { cookie: copied }))));
    const after = await adminPage(copied);
    expect(after.status).toBe(302);
    expect(after.headers.get("Location")).toMatch(/^\/login/);
  });

  it("ends every session of a user whose role changes", async () => {
    const cookie = await sessionCookieFor("support@example.com");
    const support = await testDb().prisma.user.findUniqueOrThrow({ where: { email: "support@example.com" } });
    expect((await adminPage(cookie)).status).toBe(200);
    expect(await deleteUserSessions(support.id)).toBeGreaterThan(0);
    expect((await adminPage(cookie)).status).toBe(302);
  });

  it("does not accept a cookie signed with the old published development secret", async () => {
    const admin = await testDb().prisma.user.findUniqueOrThrow({ where: { email: "admin@example.com" } });
    const forged = createCookieSessionStorage({
      cookie: { name: "__session", secrets: ["tierdesk-development-secret-not-for-production"], path: "/" },
    });
    const session = await forged.getSession();
    session.set("userId", admin.id);
    session.set("sessionId", "made-up");
    const cookie = (await forged.commitSession(session)).split(";")[0] ?? "";
    expect(await getOptionalUser(getRequest("/admin", cookie))).toBeNull();
    expect((await adminPage(cookie)).status).toBe(302);
  });

  it("refuses an expired session", async () => {
    const cookie = await sessionCookieFor("admin@example.com");
    await testDb().prisma.session.updateMany({ data: { expiresAt: new Date(Date.now() - 1000) } });
    expect((await adminPage(cookie)).status).toBe(302);
  });
});

describe("sign-up", () => {
  let signupIp = 0;
  // Each test signs up from its own address: sign-up is rate limited per IP.
  const signup = (fields: Record<string, string>, ip = `203.0.113.${100 + signupIp++}`) =>
    settle(() => signupRoute.action(routeArgs(formRequest("/signup", fields), {}, { clientIp: ip })));

  it("limits sign-ups per IP: the 11th attempt within 15 minutes gets 429, another IP is unaffected", async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 10; i++) {
      statuses.push(
        (await signup({ email: "customer@example.com", password: "another long password" }, "198.51.100.9")).status,
      );
    }
    expect(statuses.every((status) => status === 409)).toBe(true);
    const blocked = await signup({ email: "customer@example.com", password: "another long password" }, "198.51.100.9");
    expect(blocked.status).toBe(429);
    expect(Number(blocked.headers.get("Retry-After"))).toBeGreaterThan(0);
    expect((await signup({ email: "customer@example.com", password: "another long password" })).status).toBe(409);
  });

  it("creates a customer with a hashed password and signs them in", async () => {
    const response = await signup({
      email: "New.Person@Example.com",
      password: "correct horse battery",
      role: "admin",
    });
    expect(response.status).toBe(302);
    expect(response.headers.get("Location")).toBe("/account");
    const user = await testDb().prisma.user.findUniqueOrThrow({ where: { email: "new.person@example.com" } });
    expect(user.role).toBe("customer");
    expect(user.passwordHash).toMatch(/^\$argon2id\$/);
    // Their own account, on the Free plan (no tier).
    expect(await billingOf(user.id)).toMatchObject({ tierId: null, name: "new.person" });
  });

  it("refuses a taken email whatever its case", async () => {
    const response = await signup({ email: "CUSTOMER@example.com", password: "another long password" });
    expect(response.status).toBe(409);
    expect((await response.json()).fieldErrors.email[0]).toMatch(/already exists/);
  });

  it("explains a short password and mismatched confirmation", async () => {
    const response = await signup({ email: "x@example.com", password: "short", confirmPassword: "other" });
    expect(response.status).toBe(400);
    const { fieldErrors } = await response.json();
    expect(fieldErrors.password).toEqual(["Use at least 10 characters."]);
    expect(await testDb().prisma.user.count({ where: { email: "x@example.com" } })).toBe(0);
  });
});

describe("guards", () => {
  const admin = (cookie?: string) => settle(() => adminRoute.loader(routeArgs(getRequest("/admin?tab=1", cookie))));

  it("sends anonymous visitors to sign in and back", async () => {
    const response = await admin();
    expect(response.status).toBe(302);
    expect(response.headers.get("Location")).toBe("/login?next=%2Fadmin%3Ftab%3D1");
  });

  it("gives customers a 403 on /admin", async () => {
    const response = await admin(await sessionCookieFor("customer@example.com"));
    expect(response.status).toBe(403);
  });

  it("lets admin and support into /admin", async () => {
    expect((await admin(await sessionCookieFor("admin@example.com"))).status).toBe(200);
    expect((await admin(await sessionCookieFor("support@example.com"))).status).toBe(200);
  });

  it("signs out by POST and clears the cookie", async () => {
    // (See "sessions": the server-side session ends too.)
    const cookie = await sessionCookieFor("customer@example.com");
    const response = await settle(() => logoutRoute.action(routeArgs(formRequest("/logout", {}, { cookie }))));
    expect(response.status).toBe(302);
    expect(response.headers.get("Set-Cookie")).toMatch(/__session=;.*Expires=Thu, 01 Jan 1970/);
  });
});
