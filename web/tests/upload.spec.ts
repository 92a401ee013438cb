// A developer registers an app and uploads a version (file picker and drag
// and drop); an admin rejects it with a reason; the developer sees the reason.
import { readFileSync } from "node:fs";
import path from "node:path";
import { test, expect, shot } from "./fixtures";

test("a developer uploads a version and sees why it was rejected", async ({ page, server, signIn }) => {
  await signIn(page, "dev");
  await page.goto("/dev");
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Developer console");

  // Register the app the test component `chatty` describes itself as (the slug
  // must be the name the component reports).
  await page.getByLabel("Slug").fill("chatty");
  await page.getByLabel("Display name").fill("Chatty");
  await page.getByLabel("What it does").fill("Calls every capability it asks for.");
  await page.getByRole("button", { name: "Register app" }).click();
  await expect(page).toHaveURL(/\/dev\/apps\/chatty$/);
  await expect(page.getByRole("heading", { level: 1 })).toContainText("Chatty");
  await expect(page.getByText("No version uploaded yet.")).toBeVisible();

  // The wrong component, through the file picker: the API's reason is shown.
  await page.getByLabel("Component file (.wasm)").setInputFiles(path.join(server.components, "noop.wasm"));
  await page.getByRole("button", { name: "Upload", exact: true }).click();
  await expect(page.getByRole("alert")).toContainText("describes itself as `noop`");

  // The right one, dropped on the zone.
  const b64 = readFileSync(path.join(server.components, "chatty.wasm")).toString("base64");
  const dropped = await page.evaluateHandle((data) => {
    const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
    const transfer = new DataTransfer();
    transfer.items.add(new File([bytes], "chatty.wasm", { type: "application/wasm" }));
    return transfer;
  }, b64);
  await page.getByTestId("drop-zone").dispatchEvent("drop", { dataTransfer: dropped });
  await expect(page.getByText(/^chatty\.wasm/)).toBeVisible();
  await page.getByRole("button", { name: "Upload", exact: true }).click();
  await expect(page.getByText("Version 0.1.0 uploaded; it waits for review.")).toBeVisible();
  const row = page.getByTestId("version-0.1.0");
  await expect(row).toContainText("waiting for review");
  await shot(page, "dev-uploaded");

  // A platform admin rejects it with a reason (the admin console's test drives the UI).
  const reason = "It reads every member and posts in a loop; say in the description why it needs membership.";
  await server.call("admin", "POST", "/v1/admin/apps/chatty/versions/0.1.0/reject", { reason });

  // The developer sees the rejection and the reason.
  await page.reload();
  await expect(row).toContainText("rejected");
  await expect(page.getByTestId("rejected-banner")).toHaveText(`Version 0.1.0 was rejected: ${reason}`);
  await expect(page.getByTestId("review-reason")).toHaveText(reason);
  await page.goto("/dev");
  await expect(page.getByRole("article").filter({ hasText: "Chatty" })).toContainText("0.1.0: rejected");
  await page.getByRole("link", { name: "Chatty" }).click();
  await expect(page.getByTestId("rejected-banner")).toHaveText(`Version 0.1.0 was rejected: ${reason}`);
  await shot(page, "dev-rejected");
});

test("a developer watches a running app's log and invocation counts live", async ({ page, server, signIn }) => {
  // The demo's apps are the demo developer's; events logs each event it creates.
  await signIn(page, "dev");
  await page.goto("/dev/apps/events");
  await expect(page.getByRole("heading", { level: 1 })).toContainText("events");
  await expect(page.getByRole("checkbox", { name: /^Live/ })).toBeChecked();
  const title = `Picnic ${Date.now()}`;
  await server.call("alice", "POST", `/v1/groups/${server.groupId}/messages`, {
    text: `/event ${title} | in 3h | 10`,
  });
  // No reload: the log refreshes itself while the page is open.
  const log = page.getByTestId("app-log");
  await expect(log.getByRole("row").filter({ hasText: "event created" }).first()).toBeVisible({ timeout: 15_000 });
  await expect(page.getByTestId("app-stats")).toBeVisible({ timeout: 15_000 });
  await shot(page, "dev-app-live");
});
