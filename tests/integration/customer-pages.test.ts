// Customer pages' errors: one message per field on sign-in and sign-up, a 404 for any unknown URL
// answered inside the site (the root error boundary) and logged as one request line, nothing else.
// The log test runs the real server on the Remix build: run `npx remix build` first.
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import * as notFoundRoute from "../../app/routes/$.tsx";
import * as loginRoute from "../../app/routes/login.tsx";
import * as signupRoute from "../../app/routes/signup.tsx";
import { formRequest, routeArgs, seedDemoData, settle } from "../utils.ts";
import { assertFreshBuild } from "../build-freshness.ts";

beforeAll(seedDemoData);

describe("one message per field", () => {
  it("an empty email says only that it is required, on sign-in and sign-up", async () => {
    const login = await settle(() => loginRoute.action(routeArgs(formRequest("/login", { email: "", password: "" }))));
    expect(login.status).toBe(400);
    expect((await login.json()).fieldErrors).toEqual({
      email: ["Email is required."],
      password: ["Password is required."],
    });

    const signup = await settle(() =>
      signupRoute.action(
        routeArgs(formRequest("/signup", { email: " ", password: "short", confirmPassword: "other" })),
      ),
    );
    expect(signup.status).toBe(400);
    expect((await signup.json()).fieldErrors).toEqual({
      email: ["Email is required."],
      password: ["Use at least 10 characters."],
      confirmPassword: ["Passwords do not match."],
    });
  });
});

describe("unknown URLs", () => {
  it("answer 404 from the catch-all route, whatever the method", async () => {
    for (const run of [() => notFoundRoute.loader(), () => notFoundRoute.action()]) {
      const response = await settle(run);
      expect(response.status).toBe(404);
      expect(await response.text()).toBe("There is no page at this address.");
    }
  });

  it("are logged by the real server as one request line each, with no stack and no warning", async () => {
    assertFreshBuild();
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "tierdesk-404-log-"));
    const child = spawn(process.execPath, ["--import", "tsx", "server/index.ts"], {
      cwd: path.resolve(import.meta.dirname, "../.."),
      env: {
        ...process.env,
        PORT: "0",
        LOG_LEVEL: "info",
        NODE_ENV: "development",
        DATA_DIR: dataDir,
        PGLITE_DATA_DIR: path.join(dataDir, "pglite"),
        DATABASE_URL: "",
        STRIPE_API_KEY: "",
        STRIPE_API_BASE: "",
        STRIPE_EMULATOR_PORT: "0",
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    try {
      let origin = "";
      const deadline = Date.now() + 45_000;
      while (!origin) {
        const port = /"port":(\d+),"msg":"Tierdesk listening/.exec(stdout)?.[1];
        if (port) origin = `http://127.0.0.1:${port}`;
        else if (child.exitCode !== null || Date.now() > deadline)
          throw new Error(`server did not start:\n${stdout}\n${stderr}`);
        else await new Promise((resolve) => setTimeout(resolve, 50));
      }
      const before = { stdout: stdout.length, stderr: stderr.length };
      const paths = ["/nope", "/favicon.ico", "/account/nope", "/admin/nope"];
      for (const pathname of paths) {
        const response = await fetch(`${origin}${pathname}`);
        expect(response.status).toBe(404);
        const html = await response.text();
        // Inside the site: the header and a way back, and no raw router error.
        expect(html).toContain('class="site-header"');
        expect(html).toContain("Go to the home page");
        expect(html).not.toContain("No route matches");
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
      const lines = stdout.slice(before.stdout).split("\n").filter(Boolean);
      for (const pathname of paths) {
        const about = lines.filter((line) => line.includes(`"${pathname}"`) || line.includes(` ${pathname} `));
        expect(about, `log lines for ${pathname}`).toHaveLength(1);
        expect(JSON.parse(about[0] ?? "{}")).toMatchObject({
          level: 30,
          res: { statusCode: 404 },
          msg: `GET ${pathname} 404`,
        });
      }
      expect(lines.filter((line) => /stack|No route/.test(line))).toEqual([]);
      expect(stderr.slice(before.stderr)).toBe("");
    } finally {
      child.kill("SIGTERM");
      await new Promise((resolve) => child.once("exit", resolve));
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  }, 60_000); // a whole server from a fresh embedded database: its start-up alone may take 45 s on a busy machine
});
