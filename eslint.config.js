// ESLint (flat config): typescript-eslint, React, hooks and jsx-a11y; formatting is Prettier's job.
import js from "@eslint/js";
import prettier from "eslint-config-prettier";
import jsxA11y from "eslint-plugin-jsx-a11y";
import react from "eslint-plugin-react";
import reactHooks from "eslint-plugin-react-hooks";
import globals from "globals";
import tseslint from "typescript-eslint";

// Layers point one way (docs/decisions/004-layers-and-pure-billing-rules.md): routes → web (guards,
// sessions, HTTP answers) → services → models → db, with pure rules, forms and leaf utils beside them.
// Each folder lists what it may not import; tests/unit/layer-rules.test.ts proves each rule bites.
const PRISMA_CLIENT = {
  regex: "^~/generated/prisma/(?!enums)",
  message: "Only app/models/ (and app/db/) touch Prisma.",
};
const UP_FROM_SERVICES = {
  regex: "^~/(routes|web|components|db)/",
  message: "Services call models, never routes, web guards, components or the database directly.",
};
const layers = [
  {
    files: ["app/utils/**"],
    forbid: [
      {
        regex: "^~/(?!utils/|generated/prisma/enums)",
        message: "app/utils/ is leaves only: it imports only other utils.",
      },
    ],
  },
  {
    files: ["app/db/**"],
    forbid: [
      { regex: "^~/(?!utils/|db/|generated/prisma/)", message: "The database layer imports only utils and Prisma." },
    ],
  },
  {
    files: ["app/rules/**"],
    forbid: [
      {
        regex: "^~/(?!rules/|utils/|generated/prisma/enums)",
        message: "Billing rules are pure: they import only other rules and leaf utils.",
      },
    ],
  },
  {
    files: ["app/forms/**"],
    forbid: [
      { regex: "^~/(?!forms/|rules/|utils/|generated/prisma/enums)", message: "Forms import only rules and utils." },
    ],
  },
  {
    files: ["app/models/**"],
    forbid: [
      {
        regex: "^~/(routes|web|components|services|rules|forms)/",
        message: "Models only query: they import the database layer and utils, nothing above them.",
      },
    ],
  },
  {
    files: ["app/services/billing/**"],
    forbid: [
      PRISMA_CLIENT,
      UP_FROM_SERVICES,
      {
        regex: "^~/services/(?!billing/)",
        message: "app/services/billing/ is provider-neutral: it imports no provider and no domain service.",
      },
    ],
  },
  {
    files: ["app/services/stripe/**"],
    forbid: [
      PRISMA_CLIENT,
      UP_FROM_SERVICES,
      {
        regex: "^~/services/(whop|events|tiers|customers)/",
        message: "A provider imports only app/services/billing/, never the other provider or a domain service.",
      },
    ],
  },
  {
    files: ["app/services/whop/**"],
    forbid: [
      PRISMA_CLIENT,
      UP_FROM_SERVICES,
      {
        regex: "^~/services/(stripe|events|tiers|customers)/",
        message: "A provider imports only app/services/billing/, never the other provider or a domain service.",
      },
    ],
  },
  { files: ["app/services/{events,tiers,customers,jobs,passwords}/**"], forbid: [PRISMA_CLIENT, UP_FROM_SERVICES] },
  {
    // A leaf the rest calls: it sends (on the queue) and keeps the outbox, and knows no domain.
    files: ["app/services/mail/**"],
    forbid: [
      PRISMA_CLIENT,
      UP_FROM_SERVICES,
      {
        regex: "^~/services/(?!mail/|jobs/queue\\.server)",
        message: "app/services/mail/ is a leaf: it imports only the job queue, never a domain or provider service.",
      },
    ],
  },
  {
    files: ["app/web/**"],
    forbid: [
      PRISMA_CLIENT,
      { regex: "^~/(routes|components|db)/", message: "Guards never import routes or components." },
    ],
  },
  {
    files: ["app/components/**"],
    forbid: [
      PRISMA_CLIENT,
      { regex: "^~/(routes|db)/", message: "Components never import routes or the database." },
      {
        regex: "^~/(services|models|web)/",
        allowTypeImports: true,
        message: "Components run in the browser: only types come from server code.",
      },
    ],
  },
  {
    files: ["app/routes/**", "app/*.tsx"],
    forbid: [PRISMA_CLIENT, { regex: "^~/db/", message: "Routes reach the database through models." }],
  },
];
const CROSS_FOLDER = { regex: "^\\.\\./", message: "Import across folders with ~/ so the layer rules see it." };

export default tseslint.config(
  {
    ignores: [
      "node_modules/",
      "build/",
      "public/build/",
      "app/generated/",
      "client/schema.d.ts",
      ".data/",
      ".probe/",
      "test-results/",
      "playwright-report/",
      ".cache/",
      ".stryker-tmp/",
      "reports/",
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ["**/*.{ts,tsx,js}"],
    languageOptions: {
      ecmaVersion: 2023,
      sourceType: "module",
      globals: { ...globals.node, ...globals.browser },
    },
    rules: {
      "@typescript-eslint/no-explicit-any": "error",
      "@typescript-eslint/no-unused-vars": [
        "error",
        { argsIgnorePattern: "^_", varsIgnorePattern: "^_", ignoreRestSiblings: true },
      ],
      "@typescript-eslint/consistent-type-imports": ["error", { fixStyle: "inline-type-imports" }],
      "no-control-regex": "off", // validation regexes deliberately match control characters
    },
  },
  {
    files: ["**/*.tsx"],
    ...react.configs.flat.recommended,
    ...react.configs.flat["jsx-runtime"],
    settings: { react: { version: "18.3" } },
  },
  {
    files: ["**/*.tsx"],
    plugins: { "react-hooks": reactHooks, "jsx-a11y": jsxA11y },
    rules: {
      ...reactHooks.configs.recommended.rules,
      ...jsxA11y.flatConfigs.recommended.rules,
      "react/prop-types": "off",
    },
  },
  {
    // A request's body is read within a limit (413 past it): app/utils/http.server.ts's readers.
    files: ["app/**/*.{ts,tsx}"],
    ignores: ["app/utils/http.server.ts"],
    rules: {
      "no-restricted-syntax": [
        "error",
        {
          selector:
            "CallExpression[callee.object.name=/^(request|req)$/][callee.property.name=/^(formData|json|text|arrayBuffer|blob)$/]",
          message:
            "Read request bodies with readForm/readFields/readRawBody (app/utils/http.server.ts): they enforce the body limits.",
        },
        {
          selector:
            "CallExpression[callee.object.callee.object.name='request'][callee.object.callee.property.name='clone']",
          message:
            "Read request bodies with readForm/readFields/readRawBody (app/utils/http.server.ts): they enforce the body limits.",
        },
      ],
    },
  },
  ...layers.map(({ files, forbid }) => ({
    files: files.map((glob) => (glob.endsWith("**") ? `${glob}/*.{ts,tsx}` : glob)),
    rules: { "@typescript-eslint/no-restricted-imports": ["error", { patterns: [CROSS_FOLDER, ...forbid] }] },
  })),
  prettier,
);
