// Accessibility: axe (WCAG 2 A and AA rules) finds nothing serious or critical
// on the main screens of each role; the timeline works at a phone's width.
import AxeBuilder from "@axe-core/playwright";
import type { Page } from "@playwright/test";
import { test, expect, shot } from "./fixtures";

/** Run axe on the page as it is; fail listing serious and critical violations. */
async function noSeriousViolations(page: Page, where: string) {
  // Let the screen finish loading first.
  await expect(page.getByText("Loading…")).toHaveCount(0);
  const results = await new AxeBuilder({ page }).withTags(["wcag2a", "wcag2aa"]).analyze();
  const bad = results.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  const report = bad
    .map(
      (v) =>
        `${v.id} (${v.impact}): ${v.help}\n` +
        v.nodes.map((n) => `    ${n.target.join(" ")}: ${n.failureSummary ?? ""}`).join("\n"),
    )
    .join("\n");
  if (bad.length > 0) console.log(`axe on ${where}:\n${report}`);
  expect(bad.map((v) => `${v.id} (${v.impact})`), `axe on ${where}:\n${report}`).toEqual([]);
}

test("the main screens have no serious accessibility violations", async ({ browser, server, signIn }) => {
  test.setTimeout(180_000);
  const gid = server.groupId;

  const ownerContext = await browser.newContext();
  const owner = await ownerContext.newPage();
  await owner.goto(`${server.url}/signin`);
  await expect(owner.getByRole("heading", { level: 1 })).toBeVisible();
  await noSeriousViolations(owner, "sign-in");
  await signIn(owner, "owner");
  await owner.goto(`${server.url}/groups`);
  await expect(owner.getByRole("link", { name: "demo" })).toBeVisible();
  await noSeriousViolations(owner, "groups");
  await owner.getByRole("link", { name: "demo" }).click();
  await expect(owner.getByRole("heading", { level: 1, name: "demo" })).toBeVisible();
  await expect(owner.getByTestId("live")).toHaveText("Live");
  await noSeriousViolations(owner, "timeline");
  await owner.goto(`${server.url}/groups/${encodeURIComponent(gid)}/apps`);
  await expect(owner.getByRole("heading", { level: 1 })).toBeVisible();
  await noSeriousViolations(owner, "group apps");
  await owner.goto(`${server.url}/wallet`);
  await expect(owner.getByRole("heading", { level: 1 })).toBeVisible();
  await noSeriousViolations(owner, "wallet");
  await ownerContext.close();

  const adminContext = await browser.newContext();
  const admin = await adminContext.newPage();
  await signIn(admin, "admin");
  await admin.goto(`${server.url}/admin`);
  await expect(admin.getByRole("heading", { level: 1 })).toBeVisible();
  await noSeriousViolations(admin, "review queue");
  await admin.goto(`${server.url}/admin/audit`);
  await expect(admin.getByRole("heading", { level: 1 })).toBeVisible();
  await noSeriousViolations(admin, "audit");
  await adminContext.close();

  const devContext = await browser.newContext();
  const dev = await devContext.newPage();
  await signIn(dev, "dev");
  await dev.goto(`${server.url}/dev`);
  await expect(dev.getByRole("heading", { level: 1 })).toBeVisible();
  await noSeriousViolations(dev, "developer");
  await devContext.close();
});

test("the timeline fits a phone", async ({ browser, server, signIn }) => {
  const context = await browser.newContext({ viewport: { width: 390, height: 844 } });
  const page = await context.newPage();
  await signIn(page, "alice");
  await page.goto(`${server.url}/groups/${encodeURIComponent(server.groupId)}`);
  await expect(page.getByRole("heading", { level: 1, name: "demo" })).toBeVisible();
  await expect(page.getByTestId("live")).toHaveText("Live");
  // Something on the timeline (the demo group starts with messages; add one anyway).
  await server.call("alice", "POST", `/v1/groups/${server.groupId}/messages`, { text: "hello from a phone" });
  await expect(page.getByTestId("message").filter({ hasText: "hello from a phone" })).toBeVisible();
  const first = page.getByTestId("message").first();
  await first.scrollIntoViewIfNeeded();
  await expect(first).toBeVisible();
  await expect(page.getByRole("combobox", { name: "Message" })).toBeVisible();
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  expect(width).toBeLessThanOrEqual(390);
  await shot(page, "phone-timeline");
  await context.close();
});
