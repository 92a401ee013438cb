// An app crashes on a member's command; its developer opens the app's page,
// finds the failed invocation by the incident id the member was shown, and
// downloads its replay record (the file `qun app replay` runs a build against).
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { request as http } from "@playwright/test";
import { test, expect, shot } from "./fixtures";

const SLUG = "replayable";

test("a developer finds a failed invocation and downloads its replay record", async ({ page, server, signIn }) => {
  const as = (user: string) =>
    http.newContext({
      baseURL: server.url,
      extraHTTPHeaders: { Authorization: `Bearer ${server.tokens[user]}` },
    });
  const [dev, admin, owner, alice] = await Promise.all(["dev", "admin", "owner", "alice"].map(as));
  const registered = await dev.post("/v1/apps", { data: { slug: SLUG, name: "Replayable" } });
  expect(registered.status(), await registered.text()).toBe(201);
  const uploaded = await dev.post(`/v1/apps/${SLUG}/versions`, {
    data: await readFile(join(server.components, "replayable_v1.wasm")),
    headers: { "Content-Type": "application/wasm" },
  });
  expect(uploaded.status(), await uploaded.text()).toBe(201);
  const approved = await admin.post(`/v1/admin/apps/${SLUG}/versions/1.0.0/approve`);
  expect(approved.status(), await approved.text()).toBe(200);
  const installed = await owner.post(`/v1/groups/${server.groupId}/apps`, {
    data: { app: SLUG, grants: ["storage"] },
  });
  expect(installed.status(), await installed.text()).toBe(201);

  // Alice types /tally: the app crashes; she is shown an incident id.
  const typed = await alice.post(`/v1/groups/${server.groupId}/messages`, { data: { text: "/tally" } });
  expect(typed.status()).toBe(502);
  const message: string = (await typed.json()).error.message;
  const incident = message.match(/inc_[0-9a-f]+/)?.[0];
  expect(incident, message).toBeTruthy();

  // The developer finds it on the app's page and downloads its record.
  await signIn(page, "dev");
  await page.goto(`/dev/apps/${SLUG}`);
  await expect(page.getByRole("heading", { name: "Failed invocations" })).toBeVisible();
  const row = page.getByTestId("app-replays").getByRole("row").filter({ hasText: incident! });
  await expect(row).toBeVisible();
  await expect(row.getByText("trap", { exact: true })).toBeVisible();
  await expect(row.getByText("2 capability calls recorded")).toBeVisible();
  await shot(page, "dev-replays");
  const [download] = await Promise.all([
    page.waitForEvent("download"),
    row.getByRole("button", { name: "Download record" }).click(),
  ]);
  expect(download.suggestedFilename()).toMatch(/^rp_[0-9a-f]+\.json$/);
  const record = JSON.parse(await readFile((await download.path())!, "utf8"));
  expect(record.format).toBe("qun-replay/1");
  expect(record.incident).toBe(incident);
  expect(record.tape.calls.map((c: { call: string }) => c.call)).toEqual(["storage.get", "storage.set"]);

  // The group's owner is not the app's developer: no records for them.
  const refused = await owner.get(`/v1/apps/${SLUG}/replays`);
  expect(refused.status()).toBe(403);
  await Promise.all([dev, admin, owner, alice].map((c) => c.dispose()));
});
