// Members in the demo group: a poll started from the composer and voted on
// from another browser, live in both; and apps' and members' text that looks
// like HTML stays text.
import { test, expect, shot } from "./fixtures";

test("alice starts a poll with /poll, bob votes, both see the counts change live", async ({
  browser,
  signIn,
}) => {
  const aliceContext = await browser.newContext();
  const bobContext = await browser.newContext();
  const alice = await aliceContext.newPage();
  const bob = await bobContext.newPage();
  try {
    for (const [page, name] of [
      [alice, "alice"],
      [bob, "bob"],
    ] as const) {
      await signIn(page, name);
      await page.getByRole("link", { name: "demo" }).click();
      await expect(page.getByRole("heading", { level: 1, name: "demo" })).toBeVisible();
      await expect(page.getByTestId("live")).toHaveText("Live");
    }

    // Typing `/` offers the installed commands, usable from the keyboard.
    const box = alice.getByRole("combobox", { name: "Message" });
    await box.click();
    await box.pressSequentially("/po");
    const commands = alice.getByRole("listbox", { name: "Commands" });
    await expect(commands.getByRole("option", { name: /\/poll/ })).toBeVisible();
    await shot(alice, "member-slash-commands");
    await box.press("Enter");
    await expect(box).toHaveValue("/poll ");
    await expect(commands).toBeHidden();
    await box.pressSequentially("Lunch? | noodles, rice");
    await box.press("Enter");
    await expect(box).toHaveValue("");

    // The poll's card reaches both timelines (bob's through the stream).
    const aliceCard = alice.getByTestId("message").filter({ hasText: "Lunch?" }).filter({
      has: alice.getByRole("button", { name: "noodles" }),
    });
    const bobCard = bob.getByTestId("message").filter({ hasText: "Lunch?" }).filter({
      has: bob.getByRole("button", { name: "noodles" }),
    });
    await expect(aliceCard).toHaveCount(1);
    await expect(bobCard).toHaveCount(1);
    await expect(aliceCard).toContainText("0 ballots");
    await expect(bobCard).toContainText("0 ballots");

    // Bob votes; the card changes in place in both browsers, without reloading.
    await bobCard.getByRole("button", { name: "noodles" }).click();
    await expect(bobCard).toContainText("1 ballot");
    await expect(aliceCard).toContainText("1 ballot");
    await expect(aliceCard.locator("dt", { hasText: "noodles" }).locator("xpath=following-sibling::dd")).toHaveText(
      "1 vote",
    );
    await expect(aliceCard.locator("dt", { hasText: "rice" }).locator("xpath=following-sibling::dd")).toHaveText(
      "0 votes",
    );
    await expect(aliceCard).toHaveCount(1);
    await shot(alice, "member-poll-alice");
    await shot(bob, "member-poll-bob");

    // Alice votes rice; bob sees it too.
    await aliceCard.getByRole("button", { name: "rice" }).click();
    await expect(bobCard).toContainText("2 ballots");
    await expect(bobCard.locator("dt", { hasText: "rice" }).locator("xpath=following-sibling::dd")).toHaveText(
      "1 vote",
    );

    // "My vote" answers privately: only bob sees it, marked as such.
    await bobCard.getByRole("button", { name: "My vote" }).click();
    const mine = bob.locator(".card.private");
    await expect(mine.first()).toBeVisible();
    await expect(mine.first()).toContainText("Only you can see this");
    await shot(bob, "member-private-reply");
    await alice.waitForTimeout(1000);
    await expect(alice.locator(".card.private")).toHaveCount(0);
  } finally {
    await aliceContext.close();
    await bobContext.close();
  }
});

test("text that looks like HTML or script is shown as text, from members and from apps", async ({
  page,
  signIn,
}) => {
  let dialogs = 0;
  page.on("dialog", (d) => {
    dialogs += 1;
    void d.dismiss();
  });
  await signIn(page, "alice");
  await page.getByRole("link", { name: "demo" }).click();
  await expect(page.getByTestId("live")).toHaveText("Live");
  const box = page.getByRole("combobox", { name: "Message" });

  // A member's plain message.
  const evil = "<script>alert(1)</script><b>x</b>";
  await box.fill(evil);
  await box.press("Enter");
  const mine = page.getByTestId("message").filter({ hasText: evil });
  await expect(mine).toHaveCount(1);
  await expect(mine.locator("b, script")).toHaveCount(0);

  // An app's card: the poll's question and options are the app's header,
  // fields and buttons.
  await box.fill("/poll <img src=x onerror=alert(2)><b>bold?</b> | <i>a</i>, <script>alert(3)</script>");
  await box.press("Enter");
  const card = page
    .getByTestId("message")
    .filter({ has: page.getByRole("button", { name: "<i>a</i>" }) });
  await expect(card).toHaveCount(1);
  await expect(card.getByRole("heading", { name: "<img src=x onerror=alert(2)><b>bold?</b>" })).toBeVisible();
  await expect(card.getByRole("button", { name: "<script>alert(3)</script>" })).toBeVisible();
  await expect(card.locator("b, i, img, script")).toHaveCount(0);
  // Nothing anywhere in the timeline became markup.
  await expect(page.locator("main img, main script, main b, main i")).toHaveCount(0);
  await shot(page, "member-html-as-text");
  expect(dialogs).toBe(0);
});

test("a command's form opens in a dialog with the host's field errors; a payment request is confirmed from the wallet", async ({
  browser,
  server,
  signIn,
}) => {
  const aliceContext = await browser.newContext();
  const bobContext = await browser.newContext();
  const alice = await aliceContext.newPage();
  const bob = await bobContext.newPage();
  try {
    await signIn(alice, "alice");
    await alice.getByRole("link", { name: "demo" }).click();
    await expect(alice.getByTestId("live")).toHaveText("Live");

    // `/event` without its options opens the event form.
    const box = alice.getByRole("combobox", { name: "Message" });
    await box.fill("/event");
    await box.press("Escape");
    await box.press("Enter");
    const form = alice.getByRole("dialog");
    await expect(form).toBeVisible();
    await form.getByLabel("Title").fill("Dinner at eight");
    const day = new Date(Date.now() + 3 * 86_400_000).toISOString().slice(0, 10);
    await form.getByLabel("When").fill(`${day}T20:00`);
    await form.getByLabel("Capacity").fill("abc");
    await form.getByLabel("Price").fill("5 CNY");
    await form.getByRole("button", { name: "Send" }).click();
    // The host refused the field: its words beside it, the form still open.
    await expect(form.getByText("must be a number")).toBeVisible();
    await expect(form.getByLabel("Capacity")).toHaveAttribute("aria-invalid", "true");
    await shot(alice, "member-form-errors");
    await form.getByLabel("Capacity").fill("5");
    await form.getByRole("button", { name: "Send" }).click();
    await expect(form).toBeHidden();
    const card = alice.getByTestId("message").filter({ has: alice.getByRole("button", { name: "RSVP", exact: true }) });
    await expect(card).toContainText("Dinner at eight");

    // Bob takes a paid seat: the app asks him to pay.
    await signIn(bob, "bob");
    await bob.getByRole("link", { name: "demo" }).click();
    const bobCard = bob.getByTestId("message").filter({ hasText: "Dinner at eight" }).filter({
      has: bob.getByRole("button", { name: "RSVP", exact: true }),
    });
    await bobCard.getByRole("button", { name: "RSVP", exact: true }).click();
    await bob.getByRole("link", { name: "Wallet" }).click();
    const request = bob.getByRole("article").filter({ hasText: "Dinner at eight" });
    await expect(request).toBeVisible();
    await shot(bob, "member-wallet-request");
    // An empty wallet cannot pay: the host says so.
    await request.getByRole("button", { name: "Confirm" }).click();
    await expect(bob.getByRole("alert")).toContainText("insufficient_funds");

    const bobId = (await server.call("bob", "GET", "/v1/me")).id as string;
    await server.call("admin", "POST", `/v1/admin/wallets/${bobId}/credit`, { amount: 10_000, currency: "CNY" });
    await bob.reload();
    await expect(bob.getByTestId("balances")).toContainText("100.00");
    await bob.getByRole("article").filter({ hasText: "Dinner at eight" }).getByRole("button", { name: "Confirm" }).click();
    await expect(bob.getByRole("status")).toContainText("Paid");
    await expect(bob.getByTestId("balances")).toContainText("95.00");
    await expect(bob.getByRole("button", { name: "Confirm" })).toHaveCount(0);
    await shot(bob, "member-wallet-paid");
  } finally {
    await aliceContext.close();
    await bobContext.close();
  }
});
