// Files, as people use them: a student hands in a photo through the homework
// form and the teacher sees it and downloads the same bytes; a member attaches
// a file to a message and another member downloads it; the group's owner sees
// how much of the group's file quota is used.
import { readFileSync } from "node:fs";
import AxeBuilder from "@axe-core/playwright";
import type { Download, Locator, Page } from "@playwright/test";
import { test, expect, shot } from "./fixtures";

/** An 8×8 PNG (a checkerboard), made here so the test needs no fixture file. */
const PNG = Buffer.from(
  "iVBORw0KGgoAAAANSUhEUgAAAAgAAAAICAIAAABLbSncAAAAF0lEQVR4nGNgSDnxP+UEFhK7KBANSh0AsI9q4SoDWzsAAAAASUVORK5CYII=",
  "base64",
);

/** The bytes a download saved. */
async function bytesOf(download: Download): Promise<Buffer> {
  const file = await download.path();
  return readFileSync(file);
}

/** Click `target` and answer the download it starts. */
async function downloadBy(page: Page, target: Locator): Promise<Download> {
  const [download] = await Promise.all([page.waitForEvent("download"), target.click()]);
  return download;
}

/** axe (WCAG 2 A and AA) finds nothing serious or critical on the page as it is. */
async function accessible(page: Page, where: string) {
  const results = await new AxeBuilder({ page }).withTags(["wcag2a", "wcag2aa"]).analyze();
  const bad = results.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
  expect(bad, `axe on ${where}`).toEqual([]);
}

async function openDemo(page: Page) {
  await page.getByRole("link", { name: "demo" }).click();
  await expect(page.getByTestId("live")).toHaveText("Live");
}

test("a student hands in a photo; the teacher sees it and downloads the same bytes", async ({ browser, signIn }) => {
  const teacherContext = await browser.newContext({ acceptDownloads: true });
  const studentContext = await browser.newContext();
  const teacher = await teacherContext.newPage();
  const student = await studentContext.newPage();
  try {
    await signIn(teacher, "owner");
    await openDemo(teacher);
    const box = teacher.getByRole("combobox", { name: "Message" });
    await box.fill("/homework");
    await box.press("Escape");
    await box.press("Enter");
    const setForm = teacher.getByRole("dialog");
    await setForm.getByLabel("Title").fill("Draw a chessboard");
    const day = new Date(Date.now() + 3 * 86_400_000).toISOString().slice(0, 10);
    await setForm.getByLabel("Due").fill(`${day}T18:00`);
    await setForm.getByLabel("Instructions").fill("A photo of it, please.");
    await setForm.getByRole("button", { name: "Set homework" }).click();
    await expect(setForm).toBeHidden();
    const teacherCard = teacher
      .getByTestId("message")
      .filter({ hasText: "Draw a chessboard" })
      .filter({ has: teacher.getByRole("button", { name: "Hand in" }) });
    await expect(teacherCard).toHaveCount(1);

    // The student hands in a photo (and a line of text) through the form.
    await signIn(student, "alice");
    await openDemo(student);
    const studentCard = student
      .getByTestId("message")
      .filter({ hasText: "Draw a chessboard" })
      .filter({ has: student.getByRole("button", { name: "Hand in" }) });
    await studentCard.getByRole("button", { name: "Hand in" }).click();
    const handIn = student.getByRole("dialog");
    await expect(handIn).toBeVisible();
    const work = handIn.getByLabel("Your work");
    await expect(work).toHaveAttribute("type", "file");

    // A type the input does not accept (the host reads it from the bytes) is
    // refused beside the input.
    await work.setInputFiles({ name: "board.zip", mimeType: "image/png", buffer: Buffer.from("PK\x03\x04 not an image") });
    await expect(handIn.getByTestId("upload").filter({ hasText: "board.zip" })).toContainText("uploaded");
    await handIn.getByRole("button", { name: "Hand in" }).click();
    const refused = handIn.locator("#input-work-error");
    await expect(refused).toHaveText("board.zip is application/zip, which this input does not accept");
    await expect(work).toHaveAttribute("aria-invalid", "true");
    await handIn.getByRole("button", { name: "Remove board.zip" }).click();
    await expect(refused).toHaveCount(0);
    await work.setInputFiles({ name: "chessboard.png", mimeType: "image/png", buffer: PNG });
    const chip = handIn.getByTestId("upload").filter({ hasText: "chessboard.png" });
    await expect(chip).toContainText("uploaded");
    await handIn.getByLabel("Your answer").fill("Here is my board.");
    await shot(student, "files-hand-in");
    await accessible(student, "the hand-in form with a file");
    await handIn.getByRole("button", { name: "Hand in" }).click();
    await expect(handIn).toBeHidden();

    // The teacher opens the hand-ins and sees the photo, shown from its bytes.
    await teacherCard.getByRole("button", { name: "Hand-ins" }).click();
    const image = teacher.getByTestId("image-block").last();
    await expect(image).toBeVisible();
    const img = image.getByRole("img");
    await expect(img).toHaveJSProperty("complete", true);
    await expect(img).toHaveJSProperty("naturalWidth", 8);
    await expect(img).toHaveAttribute("src", /^blob:/);
    await shot(teacher, "files-hand-ins");
    await accessible(teacher, "the hand-ins with a photo");

    // A click saves it: the same bytes, under the file's name.
    const download = await downloadBy(teacher, image.getByRole("link"));
    expect(download.suggestedFilename()).toBe("chessboard.png");
    expect((await bytesOf(download)).equals(PNG)).toBe(true);
  } finally {
    await teacherContext.close();
    await studentContext.close();
  }
});

test("a member attaches a file to a message; another member downloads it", async ({ browser, signIn }) => {
  const aliceContext = await browser.newContext();
  const bobContext = await browser.newContext({ acceptDownloads: true });
  const alice = await aliceContext.newPage();
  const bob = await bobContext.newPage();
  const notes = Buffer.from("Bring boots.\nThe path is muddy.\n", "utf8");
  try {
    await signIn(alice, "alice");
    await openDemo(alice);
    await signIn(bob, "bob");
    await openDemo(bob);

    // A file over the limit (25 MiB by default) is refused, in words, and
    // holds the message back until it is removed.
    await alice
      .getByLabel("Attach files")
      .setInputFiles({ name: "huge.bin", mimeType: "application/octet-stream", buffer: Buffer.alloc(26 << 20, 7) });
    const huge = alice.getByTestId("upload").filter({ hasText: "huge.bin" });
    await expect(huge.getByRole("alert")).toHaveText("“huge.bin” is too large to upload. Choose a smaller file.", {
      timeout: 30_000,
    });
    await alice.getByRole("combobox", { name: "Message" }).fill("Too big?");
    await alice.getByRole("button", { name: "Send" }).click();
    await expect(alice.getByText("Remove it before sending.")).toBeVisible();
    await alice.getByRole("button", { name: "Remove huge.bin" }).click();
    await expect(huge).toHaveCount(0);
    await alice.getByRole("combobox", { name: "Message" }).fill("");

    await alice.getByLabel("Attach files").setInputFiles({ name: "hike notes.txt", mimeType: "text/plain", buffer: notes });
    const chip = alice.getByTestId("upload").filter({ hasText: "hike notes.txt" });
    await expect(chip).toContainText("uploaded");
    const box = alice.getByRole("combobox", { name: "Message" });
    await box.fill("Notes for Saturday");
    await box.press("Enter");
    await expect(alice.getByTestId("upload")).toHaveCount(0);
    await expect(box).toHaveValue("");

    // Bob sees the message live, with the file: its name, size and type.
    const message = bob.getByTestId("message").filter({ hasText: "Notes for Saturday" });
    await expect(message).toHaveCount(1);
    const file = message.getByTestId("file-block");
    await expect(file).toContainText("hike notes.txt");
    await expect(file).toContainText(`${notes.length} B`);
    await shot(bob, "files-attachment");
    await accessible(bob, "a message with a file");
    const download = await downloadBy(bob, file.getByRole("button", { name: "Download hike notes.txt" }));
    expect(download.suggestedFilename()).toBe("hike notes.txt");
    expect((await bytesOf(download)).equals(notes)).toBe(true);

    // A message may be files alone.
    await alice.getByLabel("Attach files").setInputFiles({ name: "board.png", mimeType: "image/png", buffer: PNG });
    await expect(alice.getByTestId("upload").filter({ hasText: "board.png" })).toContainText("uploaded");
    await alice.getByRole("button", { name: "Send" }).click();
    const photo = bob.getByTestId("message").filter({ hasText: "board.png" });
    await expect(photo).toHaveCount(1);
    await expect(photo.getByRole("img", { name: "board.png" })).toHaveJSProperty("naturalWidth", 8);

    // A file's name is text, whatever it looks like.
    const markup = "<img src=x onerror=alert(1)>.txt";
    await alice.getByLabel("Attach files").setInputFiles({ name: markup, mimeType: "text/plain", buffer: notes });
    await expect(alice.getByTestId("upload").filter({ hasText: markup })).toContainText("uploaded");
    await alice.getByRole("button", { name: "Send" }).click();
    const shown = bob.getByTestId("message").filter({ hasText: markup });
    await expect(shown.getByTestId("file-block")).toContainText(markup);
    await expect(shown.locator("img")).toHaveCount(0);
  } finally {
    await aliceContext.close();
    await bobContext.close();
  }
});

test("the owner sees the group's file usage", async ({ browser, page, server, signIn }) => {
  // A member's upload, through the API, so this test stands alone.
  const response = await fetch(`${server.url}/v1/groups/${server.groupId}/files?name=usage.png`, {
    method: "POST",
    headers: { Authorization: `Bearer ${server.tokens.alice}`, "Content-Type": "application/octet-stream" },
    body: PNG,
  });
  expect(response.status).toBe(201);
  const view = (await response.json()) as { id: string; size: number; content_type: string; inline: boolean };
  expect(view.size).toBe(PNG.length);
  expect(view.content_type).toBe("image/png");

  await signIn(page, "owner");
  await page.goto(`/groups/${server.groupId}/apps`);
  const section = page.getByRole("region", { name: "Files", exact: true });
  await expect(section).toBeVisible();
  const usage = section.getByTestId("file-usage");
  await expect(usage.getByTestId("file-usage-total")).toContainText(" of ");
  const members = usage.getByTestId("file-usage-members");
  await expect(members).toContainText("Members' uploads");
  await expect(members.getByRole("cell").first()).not.toHaveText("0");
  await shot(page, "files-usage");
  await accessible(page, "the group's file usage");

  // A member who is not an owner or admin does not see it.
  const bobContext = await browser.newContext({ baseURL: server.url });
  try {
    const bob = await bobContext.newPage();
    await signIn(bob, "bob");
    await bob.goto(`/groups/${server.groupId}/apps`);
    await expect(bob.getByRole("heading", { name: /Apps in/ })).toBeVisible();
    await expect(bob.getByRole("region", { name: "Files", exact: true })).toHaveCount(0);
  } finally {
    await bobContext.close();
  }
});
