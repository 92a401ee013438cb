// The browser tests' server: a real `qun serve --demo` on SQLite in a fresh
// directory, over a real socket, serving the built web app (web/dist). One
// per test file (worker-scoped), stopped at the end.
import { test as base, expect, type Page } from "@playwright/test";
import { spawn, type ChildProcess } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, "../..");

/** The server a test file talks to. */
export interface Server {
  /** `http://127.0.0.1:PORT` */
  url: string;
  /** Demo users' tokens by name: admin, dev, owner, alice, bob. */
  tokens: Record<string, string>;
  /** The directory of the built wasm components (first-party apps and test apps). */
  components: string;
  /** The demo group's id. */
  groupId: string;
  /** Call the API as a demo user; answers the parsed JSON (throws on a non-2xx). */
  call(user: string, method: string, route: string, body?: unknown): Promise<any>;
}

const components =
  process.env.QUN_COMPONENTS ?? path.join(repo, "target/wasm/wasm32-wasip2/release");
const qunBin = process.env.QUN_BIN ?? path.join(repo, "target/debug/qun");
const demoApps = ["qun_polls", "qun_events", "qun_homework"];

async function start(): Promise<{ server: Server; child: ChildProcess; dir: string }> {
  const dir = mkdtempSync(path.join(tmpdir(), "qun-web-"));
  const apps = path.join(dir, "apps");
  mkdirSync(apps);
  for (const app of demoApps) {
    const file = path.join(components, `${app}.wasm`);
    if (!existsSync(file)) throw new Error(`${file} is missing: build the plugins first (scripts/test.sh does)`);
    copyFileSync(file, path.join(apps, `${app}.wasm`));
  }
  const child = spawn(
    qunBin,
    ["serve", "--demo", "--data-dir", dir, "--demo-apps", apps, "--listen", "127.0.0.1:0",
     "--web-dir", path.join(repo, "web/dist")],
    {
      // SQLite in `dir`, whatever DATABASE_URL the suite runs with.
      env: {
        ...Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== "DATABASE_URL")),
        RUST_LOG: process.env.RUST_LOG ?? "warn",
      },
      stdio: ["ignore", "pipe", "inherit"],
    },
  );
  const url = await new Promise<string>((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => reject(new Error(`qun did not start:\n${out}`)), 60_000);
    child.stdout!.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      const found = out.match(/qun listening on (http:\/\/\S+)/);
      if (found && out.includes("Try it")) {
        clearTimeout(timer);
        resolve(found[1]);
      }
    });
    child.on("exit", (code) => reject(new Error(`qun exited with ${code}:\n${out}`)));
  });
  const tokens: Record<string, string> = {};
  for (const u of (await (await fetch(`${url}/v1/demo/users`)).json()) as { name: string; token: string }[]) {
    tokens[u.name] = u.token;
  }
  const call = async (user: string, method: string, route: string, body?: unknown) => {
    const response = await fetch(`${url}${route}`, {
      method,
      headers: {
        Authorization: `Bearer ${tokens[user]}`,
        ...(body === undefined ? {} : { "Content-Type": "application/json" }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`${method} ${route} as ${user}: ${response.status} ${text}`);
    return text ? JSON.parse(text) : null;
  };
  const me = await call("owner", "GET", "/v1/me");
  const groupId = me.groups.find((g: { name: string }) => g.name === "demo").id;
  return { server: { url, tokens, components, groupId, call }, child, dir };
}

export const test = base.extend<
  { signIn: (page: Page, user: string) => Promise<void> },
  { server: Server }
>({
  server: [
    async ({}, use) => {
      const { server, child, dir } = await start();
      await use(server);
      child.kill("SIGTERM");
      await new Promise((r) => child.once("exit", r));
      rmSync(dir, { recursive: true, force: true });
    },
    { scope: "worker" },
  ],
  baseURL: async ({ server }, use) => use(server.url),
  // Sign `page` in as a demo user through the sign-in page, as a person would.
  signIn: async ({ server }, use) => {
    await use(async (page: Page, user: string) => {
      await page.goto(`${server.url}/signin`);
      await page.getByRole("button", { name: new RegExp(`^${user}\\b`) }).click();
      await expect(page.getByTestId("me")).toHaveText(user);
    });
  },
});

export { expect };

/** Save a screenshot for a person to look at (web/screenshots, not committed). */
export async function shot(page: Page, name: string) {
  await page.screenshot({ path: path.join(here, "../screenshots", `${name}.png`), fullPage: true });
}
