// A developer uploads a version that asks for one capability more than the
// approved one; an admin opens the review queue in the browser, sees the
// capability diff and rejects it with a reason; the developer, in another
// browser context, sees the reason on the app's page.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { request as http } from "@playwright/test";
import { test, expect, shot } from "./fixtures";

const SLUG = "upgrader";
const REASON = "Version 2.0.0 asks to post messages; explain why it needs messaging.";

test("an admin rejects a version with a reason the developer sees", async ({ browser, page, server, signIn }) => {
  // The developer registers the app and uploads 1.0.0 (storage); the admin approves
  // it; then 2.0.0 (storage + messaging, one action more) waits for review.
  const dev = await http.newContext({
    baseURL: server.url,
    extraHTTPHeaders: { Authorization: `Bearer ${server.tokens.dev}` },
  });
  const admin = await http.newContext({
    baseURL: server.url,
    extraHTTPHeaders: { Authorization: `Bearer ${server.tokens.admin}` },
  });
  const registered = await dev.post("/v1/apps", {
    data: { slug: SLUG, name: "Upgrader", description: "Keeps a note." },
  });
  expect(registered.status(), await registered.text()).toBe(201);
  for (const [file, version] of [
    ["upgrader_v1.wasm", "1.0.0"],
    ["upgrader_v2.wasm", "2.0.0"],
  ]) {
    const uploaded = await dev.post(`/v1/apps/${SLUG}/versions`, {
      data: await readFile(join(server.components, file)),
      headers: { "Content-Type": "application/wasm" },
    });
    expect(uploaded.status(), await uploaded.text()).toBe(201);
    if (version === "1.0.0") {
      const approved = await admin.post(`/v1/admin/apps/${SLUG}/versions/1.0.0/approve`);
      expect(approved.status(), await approved.text()).toBe(200);
    }
  }

  // The admin: the queue, the version, its diff against 1.0.0.
  await signIn(page, "admin");
  await page.goto("/admin");
  await expect(page.getByRole("heading", { name: "Review queue" })).toBeVisible();
  await page.getByRole("link", { name: `${SLUG} 2.0.0` }).click();
  await expect(page.getByRole("heading", { name: `Review ${SLUG} 2.0.0` })).toBeVisible();
  await expect(page.getByRole("heading", { name: "Changes since 1.0.0" })).toBeVisible();
  const capabilities = page.getByTestId("diff-capabilities");
  await expect(capabilities.locator(".diff-add").filter({ hasText: "messaging" })).toBeVisible();
  await expect(capabilities.locator(".diff-add").filter({ hasText: "storage" })).toHaveCount(0);
  await expect(capabilities.locator(".diff-remove")).toHaveCount(0);
  await expect(page.getByTestId("diff-actions").locator(".diff-add").filter({ hasText: "announce" })).toBeVisible();
  await expect(page.getByTestId("sha256")).toHaveText(/^[0-9a-f]{64}$/);
  await expect(page.getByTestId("wit")).not.toBeEmpty();
  await shot(page, "review-diff");

  // Rejecting needs a reason.
  await page.getByRole("button", { name: "Reject" }).click();
  await expect(page.getByText("Give a reason to reject this version.")).toBeVisible();
  await page.getByLabel("Reason").fill(REASON);
  await page.getByRole("button", { name: "Reject" }).click();
  await expect(page.getByText("Rejected: the developer sees your reason.")).toBeVisible();
  await shot(page, "review-rejected");

  // Deciding again is refused by the API (409 already_reviewed), and the queue is empty.
  const again = await admin.post(`/v1/admin/apps/${SLUG}/versions/2.0.0/approve`);
  expect(again.status()).toBe(409);
  await page.getByRole("status").getByRole("link", { name: "Back to the review queue" }).click();
  await expect(page.getByText("Nothing waits for review.")).toBeVisible();

  // The developer, signed in in another browser context, sees the reason.
  const devContext = await browser.newContext();
  const devPage = await devContext.newPage();
  await signIn(devPage, "dev");
  await devPage.goto(`/dev/apps/${SLUG}`);
  await expect(devPage.getByText(REASON)).toBeVisible();
  await shot(devPage, "review-developer-sees-reason");
  await devContext.close();
  await dev.dispose();
  await admin.dispose();
});
