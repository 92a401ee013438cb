// The language follows the browser's: a Chinese browser sees Chinese, and the
// switch in the header changes to English.
import { test, expect, shot } from "./fixtures";

test("a Chinese browser sees Chinese; the switch changes to English", async ({ browser, server, signIn }) => {
  const context = await browser.newContext({ locale: "zh-CN", baseURL: server.url });
  const page = await context.newPage();
  await page.goto("/signin");
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("登录 Qun");
  await expect(page.getByRole("button", { name: "登录", exact: true })).toBeVisible();
  await expect(page.getByLabel("API 令牌")).toBeVisible();

  await signIn(page, "alice");
  const nav = page.getByRole("navigation", { name: "主导航" });
  await expect(nav.getByRole("link", { name: "群组" })).toBeVisible();
  await expect(nav.getByRole("link", { name: "钱包" })).toBeVisible();
  await expect(page.getByRole("button", { name: "退出" })).toBeVisible();
  await shot(page, "zh-groups");

  await page.getByLabel("语言").selectOption("en");
  const english = page.getByRole("navigation", { name: "Main" });
  await expect(english.getByRole("link", { name: "Groups" })).toBeVisible();
  await expect(page.getByRole("button", { name: "Sign out" })).toBeVisible();
  await expect(page.getByRole("link", { name: "群组" })).toHaveCount(0);

  // The choice is kept: a reload stays in English.
  await page.reload();
  await expect(page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Groups" })).toBeVisible();
  await context.close();
});
