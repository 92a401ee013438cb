// A group owner installs an app from the catalog through the consent screen,
// then removes one of its grants, and the app's next call is denied.
import { readFileSync } from "node:fs";
import path from "node:path";
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

  // With its grants the app answers its command.
  await server.call("owner", "POST", `/v1/groups/${gid}/messages`, { text: "/poll Lunch? | noodles, rice" });

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
  const answer = await fetch(`${server.url}/v1/groups/${gid}/messages`, {
    method: "POST",
    headers: { Authorization: `Bearer ${server.tokens.owner}`, "Content-Type": "application/json" },
    body: JSON.stringify({ text: "/poll Dinner? | noodles, rice" }),
  });
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

  // Granting it back makes the command work again (and leaves the demo group
  // as the other test files expect it).
  await storage.check();
  await card.getByRole("button", { name: "Save permissions" }).click();
  await expect(card.getByText("Saved")).toBeVisible();
  await server.call("owner", "POST", `/v1/groups/${gid}/messages`, { text: "/poll Dinner? | noodles, rice" });
});

test("an upgrade that asks for a new capability waits for the owner's consent", async ({ page, server, signIn }) => {
  const gid = server.groupId;
  // The developer's app `upgrader`: 1.0.0 asks for storage, 2.0.0 also for messaging.
  await server.call("dev", "POST", "/v1/apps", { slug: "upgrader", name: "Upgrader", description: "Keeps a note." });
  const upload = async (file: string, version: string) => {
    const answer = await fetch(`${server.url}/v1/apps/upgrader/versions`, {
      method: "POST",
      headers: { Authorization: `Bearer ${server.tokens.dev}`, "Content-Type": "application/wasm" },
      body: readFileSync(path.join(server.components, file)),
    });
    expect(answer.status).toBe(201);
    await server.call("admin", "POST", `/v1/admin/apps/upgrader/versions/${version}/approve`);
  };
  await upload("upgrader_v1.wasm", "1.0.0");
  await server.call("owner", "POST", `/v1/groups/${gid}/apps`, { app: "upgrader", grants: ["storage"] });
  await upload("upgrader_v2.wasm", "2.0.0");

  await signIn(page, "owner");
  await page.goto(`/groups/${gid}/apps`);
  const card = page.getByTestId("installed-upgrader");
  await expect(card).toContainText("upgrader 1.0.0");
  await expect(page.getByTestId("catalog-upgrader")).toContainText("Made by dev");

  // Asking for the upgrade: it needs consent to messaging, so 1.0.0 keeps running.
  await card.getByRole("button", { name: "Upgrade to 2.0.0" }).click();
  await expect(card.getByText("Version 2.0.0 is waiting for your consent.")).toBeVisible();
  await expect(card).toContainText("Post messages in this group");
  await expect(card).toContainText("upgrader 1.0.0");

  await card.getByRole("button", { name: "Review the upgrade" }).click();
  const dialog = page.getByRole("dialog");
  await expect(dialog.getByRole("checkbox")).toHaveCount(2);
  await expect(dialog.getByRole("checkbox", { name: /\bmessaging\b/ })).toBeChecked();
  await expect(dialog.getByRole("checkbox", { name: /\bstorage\b/ })).toBeChecked();
  await expect(dialog.getByText("new", { exact: true })).toBeVisible();
  await shot(page, "owner-upgrade-consent");
  await dialog.getByRole("button", { name: "Agree and upgrade" }).click();
  await expect(dialog).toBeHidden();
  await expect(card).toContainText("upgrader 2.0.0");
  await expect(card.getByText("Version 2.0.0 is waiting for your consent.")).toHaveCount(0);
  const apps = await server.call("owner", "GET", `/v1/groups/${gid}/apps`);
  const upgrader = apps.find((a: { app: string }) => a.app === "upgrader");
  expect(upgrader.version).toBe("2.0.0");
  expect([...upgrader.grants].sort()).toEqual(["messaging", "storage"]);

  // Leave the demo group as the other test files expect it.
  await server.call("owner", "DELETE", `/v1/groups/${gid}/apps/upgrader`);
});
