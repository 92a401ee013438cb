// An app's upgrade that asks for a new capability waits for the group owner's
// consent, given in the browser.
import { readFileSync } from "node:fs";
import path from "node:path";
import { test, expect, shot } from "./fixtures";

test("an upgrade that asks for a new capability waits for the owner's consent", async ({ page, server, signIn }) => {
  const gid = server.groupId;
  // The test component `upgrader` can be registered once per server; when
  // another test file registered it on this server there is nothing to try.
  const existing = await fetch(`${server.url}/v1/apps/upgrader`, {
    headers: { Authorization: `Bearer ${server.tokens.dev}` },
  });
  test.skip(existing.status !== 404, "`upgrader` is already registered on this server by another test file");
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
