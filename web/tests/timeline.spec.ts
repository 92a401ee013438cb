// A long timeline opens at its newest page; earlier pages load on request.
import { test, expect } from "./fixtures";

test("the timeline shows the newest 50 messages and loads earlier ones on request", async ({
  page,
  server,
  signIn,
}) => {
  const gid = server.groupId;
  for (let i = 1; i <= 55; i++) {
    await server.call(i % 2 ? "alice" : "bob", "POST", `/v1/groups/${gid}/messages`, { text: `note ${i}` });
  }
  await signIn(page, "alice");
  await page.goto(`${server.url}/groups/${encodeURIComponent(gid)}`);
  await expect(page.getByTestId("live")).toHaveText("Live");
  const messages = page.getByTestId("message");
  await expect(page.getByText("note 55", { exact: true })).toHaveCount(1);
  await expect(page.getByText("note 1", { exact: true })).toHaveCount(0);
  const earlier = page.getByRole("button", { name: "Load earlier messages" });
  await expect(earlier).toBeVisible();
  const before = await messages.count();
  expect(before).toBeLessThanOrEqual(50);

  await earlier.click();
  await expect(page.getByText("note 1", { exact: true })).toHaveCount(1);
  await expect(earlier).toBeHidden();
  expect(await messages.count()).toBeGreaterThan(before);

  // Live messages still arrive after the newest one.
  await server.call("bob", "POST", `/v1/groups/${gid}/messages`, { text: "note 56" });
  await expect(messages.last()).toContainText("note 56");
});
