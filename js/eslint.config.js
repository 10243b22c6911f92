// Lint of the shared client (src/), the JupyterLab extension (lab/src/) and the build scripts.
import js from "@eslint/js";
import globals from "globals";

export default [
  { ignores: ["node_modules/", "lab/node_modules/", "lab/lib/", "test/"] },
  js.configs.recommended,
  {
    files: ["src/**/*.js", "lab/src/**/*.js"],
    languageOptions: { ecmaVersion: 2022, sourceType: "module", globals: globals.browser },
    rules: {
      "no-unused-vars": ["error", { args: "none", ignoreRestSiblings: true }],
      eqeqeq: ["error", "always", { null: "ignore" }],
      "no-var": "error",
      "prefer-const": "error",
    },
  },
  {
    files: ["*.js", "*.mjs", "lab/*.js"],
    languageOptions: { ecmaVersion: 2022, sourceType: "module", globals: globals.node },
  },
];
