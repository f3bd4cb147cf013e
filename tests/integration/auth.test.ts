import { beforeAll, beforeEach, describe, expect, it } from "vitest";
import * as adminRoute from "../../app/routes/admin.tsx";
import * as loginRoute from "../../app/routes/login.tsx";
import * as logoutRoute from "../../app/routes/logout.tsx";
import * as signupRoute from "../../app/routes/signup.tsx";
import { loginLimits } from "../../app/utils/login-limits.server.ts";
import { testDb } from "../setup/database.ts";
import { formRequest, getRequest, routeArgs, seedDemoData, sessionCookieFor, settle } from "../utils.ts";

beforeAll(seedDemoData);
beforeEach(() => {
  loginLimits.byEmail.clear();
  loginLimits.byIp.clear();
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
    const first = (await login({ email: "customer@example.com", password: "customer-demo-password" })).headers.get("Set-Cookie");
    const second = (await login({ email: "customer@example.com", password: "customer-demo-password" })).headers.get("Set-Cookie");
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

  it("rate limits failed sign-ins per email, even with the right password afterwards", async () => {
    for (let i = 0; i < 5; i++) expect((await login({ email: "admin@example.com", password: `guess-${i}` })).status).toBe(401);
    const blocked = await login({ email: "admin@example.com", password: "admin-demo-password" });
    expect(blocked.status).toBe(429);
    expect((await blocked.json()).formError).toMatch(/Too many failed sign-ins. Try again in \d+ minutes?/);
    expect(Number(blocked.headers.get("Retry-After"))).toBeGreaterThan(0);
    // Another account is unaffected.
    expect((await login({ email: "support@example.com", password: "support-demo-password" })).status).toBe(302);
  });

  it("rate limits failed sign-ins per IP across emails", async () => {
    for (let i = 0; i < 20; i++) await login({ email: `spray${i}@example.com`, password: "x" }, "198.51.100.1");
    const blocked = await login({ email: "customer@example.com", password: "customer-demo-password" }, "198.51.100.1");
    expect(blocked.status).toBe(429);
    const otherIp = await login({ email: "customer@example.com", password: "customer-demo-password" }, "198.51.100.2");
    expect(otherIp.status).toBe(302);
  });
});

describe("sign-up", () => {
  const signup = (fields: Record<string, string>) => settle(() => signupRoute.action(routeArgs(formRequest("/signup", fields))));

  it("creates a customer with a hashed password and signs them in", async () => {
    const response = await signup({ email: "New.Person@Example.com", password: "correct horse battery", role: "admin" });
    expect(response.status).toBe(302);
    expect(response.headers.get("Location")).toBe("/account");
    const user = await testDb().prisma.user.findUniqueOrThrow({ where: { email: "new.person@example.com" } });
    expect(user.role).toBe("customer");
    expect(user.passwordHash).toMatch(/^\$argon2id\$/);
    expect(user.tierId).toBeNull();
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
    const cookie = await sessionCookieFor("customer@example.com");
    const response = await settle(() => logoutRoute.action(routeArgs(formRequest("/logout", {}, { cookie }))));
    expect(response.status).toBe(302);
    expect(response.headers.get("Set-Cookie")).toMatch(/__session=;.*Expires=Thu, 01 Jan 1970/);
  });
});
