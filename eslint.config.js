// ESLint (flat config): typescript-eslint, React, hooks and jsx-a11y; formatting is Prettier's job.
import js from "@eslint/js";
import prettier from "eslint-config-prettier";
import jsxA11y from "eslint-plugin-jsx-a11y";
import react from "eslint-plugin-react";
import reactHooks from "eslint-plugin-react-hooks";
import globals from "globals";
import tseslint from "typescript-eslint";

export default tseslint.config(
  {
    ignores: [
      "node_modules/",
      "build/",
      "public/build/",
      "app/generated/",
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
  prettier,
);
