import { defineConfig } from "@playwright/test";

// Browser tests in Debian's Chromium (scripts/web.sh installs it). Each test
// file starts its own `qun serve --demo` (tests/fixtures.ts); one worker, as
// CI has two cores.
export default defineConfig({
  testDir: "tests",
  workers: 1,
  timeout: 60_000,
  expect: { timeout: 10_000 },
  retries: 0,
  reporter: [["list"]],
  use: {
    launchOptions: { executablePath: process.env.QUN_CHROMIUM ?? "/usr/bin/chromium" },
    screenshot: "only-on-failure",
    trace: "retain-on-failure",
  },
});
