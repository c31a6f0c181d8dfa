import { defineConfig } from "vitest/config"

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Tests open real TCP servers on ephemeral ports; two cores on CI, so keep parallelism modest.
    maxWorkers: 2,
    minWorkers: 1
  }
})
