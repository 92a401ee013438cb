// A group owner installs an app from the catalog through the consent screen,
// then removes one of its grants, and the app's next call is denied.
import { test, expect, shot } from "./fixtures";

test("an owner installs an app with consent; a removed grant denies the app's next call", async ({
  page,
  server,
  signIn,
}) => {
  const gid = server.groupId;
  await signIn(page, "owner");
  await page.goto(`/groups/${gid}/apps`);
  await expect(page.getByRole("heading", { level: 1 })).toContainText("demo");

  // The demo installs polls already: remove it first, through the page.
  const installed = page.getByTestId("installed-polls");
  await expect(installed).toBeVisible();
  await installed.getByRole("button", { name: /^Remove / }).click();
  await installed.getByRole("button", { name: /^Yes, remove / }).click();
  await expect(page.getByTestId("installed-polls")).toHaveCount(0);
  const apps = await server.call("owner", "GET", `/v1/groups/${gid}/apps`);
  expect(apps.map((a: { app: string }) => a.app)).not.toContain("polls");

  // The catalog says what each capability allows; Install opens the consent screen.
  const entry = page.getByTestId("catalog-polls");
  await expect(entry).toContainText("Keep its own data for this group");
  await entry.getByRole("button", { name: /^Install / }).click();
  const dialog = page.getByRole("dialog");
  await expect(dialog).toBeVisible();
  await expect(dialog.getByRole("heading")).toContainText("Install");

  // It lists exactly what the app asks for, every box ticked.
  const catalog = await server.call("owner", "GET", "/v1/catalog");
  const asks: string[] = catalog
    .find((e: { slug: string }) => e.slug === "polls")
    .capabilities.map((c: { name: string }) => c.name);
  expect(asks).toContain("storage");
  await expect(dialog.getByRole("checkbox")).toHaveCount(asks.length);
  for (const cap of asks) {
    await expect(dialog.getByRole("checkbox", { name: new RegExp(`\\b${cap}\\b`) })).toBeChecked();
  }
  await shot(page, "owner-consent");
  await dialog.getByRole("button", { name: "Install", exact: true }).click();
  await expect(dialog).toBeHidden();

  const card = page.getByTestId("installed-polls");
  await expect(card).toBeVisible();
  await expect(card.getByText("Enabled", { exact: true })).toBeVisible();
  const after = await server.call("owner", "GET", `/v1/groups/${gid}/apps`);
  const polls = after.find((a: { app: string }) => a.app === "polls");
  expect([...polls.grants].sort()).toEqual([...asks].sort());

  // With its grants the app runs: voting in a poll that does not exist reads
  // its storage and answers that there is no such poll (nothing is posted).
  const vote = () =>
    fetch(`${server.url}/v1/groups/${gid}/apps/polls/actions/vote`, {
      method: "POST",
      headers: { Authorization: `Bearer ${server.tokens.owner}`, "Content-Type": "application/json" },
      body: JSON.stringify({ poll: "no-such-poll", choices: [0] }),
    });
  const before = await vote();
  expect(before.status).not.toBe(403);

  // Take `storage` away and save.
  const storage = card.getByRole("checkbox", { name: /\bstorage\b/ });
  await expect(storage).toBeChecked();
  await storage.uncheck();
  await card.getByRole("button", { name: "Save permissions" }).click();
  await expect(card.getByText("Saved")).toBeVisible();
  await expect(storage).not.toBeChecked();
  const changed = await server.call("owner", "GET", `/v1/groups/${gid}/apps`);
  expect(changed.find((a: { app: string }) => a.app === "polls").grants).not.toContain("storage");

  // The app's next call needs storage, and is denied.
  const answer = await vote();
  expect(answer.status).toBe(403);
  expect((await answer.json()).error.code).toBe("app_denied");

  // The owner sees the denial and the grant change in the group's audit trail.
  await page.getByRole("button", { name: "Refresh" }).click();
  const audit = page.getByTestId("group-audit");
  await expect(
    audit.getByRole("row").filter({ hasText: /storage\./ }).filter({ hasText: "denied" }).first(),
  ).toBeVisible();
  await expect(audit.getByRole("row").filter({ hasText: "installation.grants" }).first()).toBeVisible();
  await shot(page, "owner-apps");

  // Granting it back makes the app work again (and leaves the demo group as
  // the other test files expect it).
  await storage.check();
  await card.getByRole("button", { name: "Save permissions" }).click();
  await expect(card.getByText("Saved")).toBeVisible();
  expect((await vote()).status).not.toBe(403);
});
