/**
 * Lint for real mistakes, not style (dprint formats; `npm run fix` applies both): promises and Effects
 * that are dropped, unused code, unreachable or suspicious constructs. Typed rules use the project's
 * tsconfig through the project service.
 */
import js from "@eslint/js"
import effectConflicts from "@effect/eslint-plugin/configs/disable-conflict-rules"
import tseslint from "typescript-eslint"
import { noFloatingEffect } from "./eslint/noFloatingEffect.mjs"

export default tseslint.config(
  { ignores: ["dist/**", "node_modules/**", "test-artifacts/**", "data/**", "**/*.cjs"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  ...effectConflicts,
  {
    files: ["**/*.ts", "**/*.mjs"],
    languageOptions: {
      parserOptions: { projectService: { allowDefaultProject: ["*.mjs", "eslint/*.mjs"] } }
    },
    plugins: { ktrdr: { rules: { "no-floating-effect": noFloatingEffect } } },
    linterOptions: { reportUnusedDisableDirectives: "error" },
    rules: {
      "ktrdr/no-floating-effect": "error",
      "@typescript-eslint/no-floating-promises": ["error", { ignoreVoid: true }],
      "@typescript-eslint/no-misused-promises": ["error", { checksVoidReturn: false }],
      "@typescript-eslint/await-thenable": "error",
      "@typescript-eslint/no-unused-vars": [
        "error",
        { argsIgnorePattern: "^_", varsIgnorePattern: "^_", caughtErrors: "none", ignoreRestSiblings: true }
      ],
      // dprint wraps code; comments and strings it cannot wrap are held to the same 120 characters here.
      "max-len": ["error", { code: 120, tabWidth: 2 }],
      "@typescript-eslint/no-unused-expressions": ["error", { allowShortCircuit: true, allowTernary: true }],
      // Style or deliberate patterns in this codebase, not mistakes:
      "@typescript-eslint/no-explicit-any": "off",
      "@typescript-eslint/no-empty-object-type": "off",
      "@typescript-eslint/no-namespace": "off",
      "@typescript-eslint/no-non-null-assertion": "off",
      "no-control-regex": "off",
      "require-yield": "off"
    }
  }
)
