// The layer rules in eslint.config.js bite: a wrong import in each layer fails `npm run lint`, and the
// right ones pass (docs/decisions/004-layers-and-pure-billing-rules.md).
import path from "node:path";
import { ESLint } from "eslint";
import { beforeAll, describe, expect, it } from "vitest";

const root = path.resolve(import.meta.dirname, "../..");
const eslint = new ESLint({ cwd: root });

/** The layer-rule messages ESLint reports for `code` as if it were the file at `file`. */
async function layerErrors(file: string, code: string) {
  const [result] = await eslint.lintText(`${code}\nexport const used = [x];\n`, { filePath: path.join(root, file) });
  return (result?.messages ?? [])
    .filter((message) => message.ruleId === "@typescript-eslint/no-restricted-imports")
    .map((message) => message.message);
}

describe("layer rules", () => {
  // Loading the ESLint config and its plugins takes seconds the first time.
  beforeAll(() => layerErrors("app/utils/warm-up.ts", ""), 60_000);

  it.each([
    [
      "a model importing a service",
      "app/models/example.server.ts",
      `import { x } from "~/services/stripe/client.server.ts";`,
    ],
    ["a model importing a route", "app/models/example.server.ts", `import { x } from "~/routes/pricing.tsx";`],
    ["a util importing a model", "app/utils/example.ts", `import { x } from "~/models/user.server.ts";`],
    ["a util importing a guard", "app/utils/example.ts", `import { x } from "~/web/auth.server.ts";`],
    [
      "Stripe's provider importing Whop's",
      "app/services/stripe/example.server.ts",
      `import { x } from "~/services/whop/client.server.ts";`,
    ],
    [
      "Whop's provider importing Stripe's",
      "app/services/whop/example.server.ts",
      `import { x } from "~/services/stripe/fulfilment.server.ts";`,
    ],
    [
      "a provider importing a domain service",
      "app/services/stripe/example.server.ts",
      `import { x } from "~/services/tiers/tier-status.server.ts";`,
    ],
    [
      "the neutral core importing a provider",
      "app/services/billing/example.server.ts",
      `import { x } from "~/services/stripe/client.server.ts";`,
    ],
    [
      "a service importing a guard",
      "app/services/tiers/example.server.ts",
      `import { x } from "~/web/auth.server.ts";`,
    ],
    [
      "a service using Prisma",
      "app/services/customers/example.server.ts",
      `import { x } from "~/generated/prisma/client.ts";`,
    ],
    ["a rule importing a model", "app/rules/example.ts", `import { x } from "~/models/tier.server.ts";`],
    ["a route using the database directly", "app/routes/example.tsx", `import { x } from "~/db/db.server.ts";`],
    [
      "a component importing server code at run time",
      "app/components/example.tsx",
      `import { x } from "~/models/user.server.ts";`,
    ],
    [
      "the mail service (a leaf) importing a domain service",
      "app/services/mail/example.server.ts",
      `import { x } from "~/services/customers/account.server.ts";`,
    ],
    [
      "the mail service importing the queue's worker (which imports it)",
      "app/services/mail/example.server.ts",
      `import { x } from "~/services/jobs/worker.server.ts";`,
    ],
    [
      "a relative import across folders",
      "app/services/stripe/example.server.ts",
      `import { x } from "../whop/client.server.ts";`,
    ],
  ])("refuses %s", async (_what, file, code) => {
    expect(await layerErrors(file, code)).toHaveLength(1);
  });

  it.each([
    [
      "a route importing a service and a model",
      "app/routes/example.tsx",
      `import { x } from "~/services/stripe/checkout.server.ts";\nimport { y as z } from "~/models/user.server.ts";`,
    ],
    [
      "a provider importing the neutral core",
      "app/services/whop/example.server.ts",
      `import { x } from "~/services/billing/outcomes.ts";`,
    ],
    [
      "a domain service importing both providers",
      "app/services/events/example.server.ts",
      `import { x } from "~/services/stripe/webhook.server.ts";\nimport { y as z } from "~/services/whop/webhook.server.ts";`,
    ],
    [
      "the mail service putting a message on the job queue",
      "app/services/mail/example.server.ts",
      `import { x } from "~/services/jobs/queue.server.ts";\nimport { y as z } from "~/models/dev-mail.server.ts";`,
    ],
    [
      "a domain service sending mail",
      "app/services/passwords/example.server.ts",
      `import { x } from "~/services/mail/mail.server.ts";`,
    ],
    ["a model importing the database layer", "app/models/example.server.ts", `import { x } from "~/db/db.server.ts";`],
    ["a rule importing another rule", "app/rules/example.ts", `import { x } from "~/rules/tiers.ts";`],
    [
      "a component importing a server type",
      "app/components/example.tsx",
      `import type { x } from "~/models/user.server.ts";`,
    ],
  ])("allows %s", async (_what, file, code) => {
    expect(await layerErrors(file, code)).toEqual([]);
  });
});
