// An admin filters the audit trail by action and sees the chain verified; an
// owner sees the platform's reason for a suspension and filters the group's
// trail by action.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { test, expect, shot } from "./fixtures";

test("an admin filters the audit trail by action", async ({ page, server, signIn }) => {
  // A version rejected through the API: one `review.reject` row among the others.
  await server.call("dev", "POST", "/v1/apps", { slug: "upgrader", name: "Upgrader", description: "Gets rejected." });
  const uploaded = await fetch(`${server.url}/v1/apps/upgrader/versions`, {
    method: "POST",
    headers: { Authorization: `Bearer ${server.tokens.dev}`, "Content-Type": "application/wasm" },
    body: await readFile(join(server.components, "upgrader_v1.wasm")),
  });
  expect(uploaded.status, await uploaded.text()).toBe(201);
  await server.call("admin", "POST", "/v1/admin/apps/upgrader/versions/1.0.0/reject", {
    reason: "Not yet.",
  });

  await signIn(page, "admin");
  await page.goto("/admin/audit");
  await expect(page.getByTestId("chain-status")).toContainText("Chain verified");
  const rows = page.getByRole("table", { name: "Audit trail" }).locator("tbody tr");
  await expect(rows.first()).toBeVisible();
  expect(await rows.count()).toBeGreaterThan(1);

  await page.getByLabel("Action").fill("review.reject");
  await page.getByRole("button", { name: "Filter" }).click();
  await expect(page).toHaveURL(/action=review\.reject/);
  await expect(rows).toHaveCount(1);
  await expect(rows.first()).toContainText("review.reject");
  await expect(rows.first()).toContainText("upgrader");
  await expect(page.getByTestId("chain-status")).toContainText("Chain verified");
  await shot(page, "admin-audit-action");

  // "Before" 2001 (`until`, exclusive): nothing matches; the address keeps both filters.
  await page.getByLabel("Before").fill("2001-01-01T00:00");
  await page.getByRole("button", { name: "Filter" }).click();
  await expect(page).toHaveURL(/until=\d+/);
  await expect(page.getByText("No rows match.")).toBeVisible();
  await page.getByRole("button", { name: "Clear" }).click();
  await expect(page.getByLabel("Action")).toHaveValue("");
  await expect(rows.first()).toBeVisible();
  expect(await rows.count()).toBeGreaterThan(1);
});

test("an owner sees why the platform suspended an app, and filters the group's trail", async ({
  page,
  server,
  signIn,
}) => {
  const gid = server.groupId;
  await server.call("admin", "POST", "/v1/admin/apps/polls/suspend", { reason: "checking" });
  try {
    await signIn(page, "owner");
    await page.goto(`/groups/${gid}/apps`);
    const card = page.getByTestId("installed-polls");
    await expect(card.getByText("Suspended by the platform: checking")).toBeVisible();
    await shot(page, "owner-suspended-reason");

    // The group's audit trail, filtered by one action.
    const expected = await server.call(
      "owner",
      "GET",
      `/v1/groups/${gid}/audit?action=installation.install&limit=25`,
    );
    await page.getByLabel("Action").fill("installation.install");
    await page.getByRole("button", { name: "Filter" }).click();
    if (expected.entries.length === 0) {
      await expect(page.getByText("Nothing recorded yet.")).toBeVisible();
    } else {
      const rows = page.getByTestId("group-audit").locator("tbody tr");
      await expect(rows).toHaveCount(expected.entries.length);
      await expect(rows.locator("td:nth-child(4)").filter({ hasNotText: "installation.install" })).toHaveCount(0);
    }
  } finally {
    await server.call("admin", "POST", "/v1/admin/apps/polls/resume");
  }
  await page.reload();
  await expect(page.getByTestId("installed-polls")).toBeVisible();
  await expect(page.getByText("Suspended by the platform: checking")).toHaveCount(0);
});
