/**
 * A real JupyterLab for browser tests and benchmarks: started from the project's environment
 * (`<repo>/.venv`, or `LABNOTE_VENV`) on a free loopback port with a temporary root, user
 * settings and workspace, and driven by Chromium through playwright-core.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, mkdirSync, rmSync, writeFileSync, existsSync, symlinkSync, readdirSync, readFileSync } from "node:fs";
import { createServer } from "node:net";
import os from "node:os";
import path from "node:path";
import { after, before } from "node:test";
import { chromium, type Browser, type Page } from "playwright-core";

export const repo = path.resolve(__dirname, "..", "..");
export const venv = path.resolve(process.env.LABNOTE_VENV ?? path.join(repo, ".venv"));
export const chromiumPath = process.env.LABNOTE_CHROMIUM ?? "/usr/bin/chromium";

export interface Lab {
  url: string;
  root: string;
  token: string;
  /** What the server printed so far. */
  log(): string;
  stop(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

/**
 * Start JupyterLab with `root` as its root folder (a fresh temporary folder by default).
 * `enforcePermissions` runs the server without the capabilities that let root read any file
 * (through `setpriv`), so that file permissions apply to it as to any user on a shared machine.
 */
export async function startLab(opts: { root?: string; theme?: "light" | "dark"; enforcePermissions?: boolean } = {}): Promise<Lab> {
  const base = mkdtempSync(path.join(os.tmpdir(), "labnote-lab-"));
  const root = opts.root ?? path.join(base, "root");
  mkdirSync(root, { recursive: true });
  // Cells import "labnote" and "tslab": make them resolvable from the notebook's folder.
  const nm = path.join(root, "node_modules");
  if (!existsSync(nm)) symlinkSync(path.join(repo, "node_modules"), nm);
  const settings = path.join(base, "settings");
  const apputils = path.join(settings, "@jupyterlab", "apputils-extension");
  mkdirSync(apputils, { recursive: true });
  writeFileSync(path.join(apputils, "notification.jupyterlab-settings"), JSON.stringify({ fetchNews: "false", checkForUpdates: false }));
  writeFileSync(
    path.join(apputils, "themes.jupyterlab-settings"),
    JSON.stringify({ theme: opts.theme === "dark" ? "JupyterLab Dark" : "JupyterLab Light" }),
  );
  const port = await freePort();
  const jupyter = path.join(venv, "bin", "jupyter");
  if (!existsSync(jupyter)) throw new Error(`startLab: no Jupyter at ${jupyter}; run scripts/setup.sh or set LABNOTE_VENV`);
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    JUPYTER_CONFIG_DIR: path.join(base, "config"),
    JUPYTER_RUNTIME_DIR: path.join(base, "runtime"),
    JUPYTER_DATA_DIR: path.join(base, "data"),
    JUPYTER_PATH: path.join(venv, "share", "jupyter"),
    PATH: `${path.join(venv, "bin")}:${process.env.PATH}`,
  };
  const jupyterArgs = [
    "lab",
    "--no-browser",
    "--allow-root",
    `--port=${port}`,
    "--ServerApp.ip=127.0.0.1",
    "--ServerApp.port_retries=0",
    "--IdentityProvider.token=",
    "--ServerApp.password=",
    `--ServerApp.root_dir=${root}`,
    `--LabServerApp.user_settings_dir=${settings}`,
    `--LabServerApp.workspaces_dir=${path.join(base, "workspaces")}`,
    "--LabApp.expose_app_in_browser=True",
    "--LabApp.news_url=",
  ];
  const [command, args] = opts.enforcePermissions
    ? ["setpriv", ["--bounding-set", "-dac_override,-dac_read_search", "--", jupyter, ...jupyterArgs]]
    : [jupyter, jupyterArgs];
  const child: ChildProcess = spawn(command, args, { cwd: root, env, stdio: ["ignore", "pipe", "pipe"], detached: true });
  let log = "";
  child.stdout?.on("data", (b) => (log += b));
  child.stderr?.on("data", (b) => (log += b));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`startLab: JupyterLab exited (${child.exitCode})\n${log}`);
    try {
      const r = await fetch(`${url}/api/status`);
      if (r.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`startLab: JupyterLab did not answer within 60 s\n${log}`);
    await new Promise((r) => setTimeout(r, 250));
  }
  return {
    url,
    root,
    token: "",
    log: () => log,
    async stop() {
      if (child.exitCode === null && child.pid) {
        try {
          process.kill(-child.pid, "SIGTERM");
        } catch {
          /* already gone */
        }
        await new Promise<void>((resolve) => {
          const t = setTimeout(() => {
            try {
              if (child.pid) process.kill(-child.pid, "SIGKILL");
            } catch {
              /* gone */
            }
            resolve();
          }, 5000);
          child.once("exit", () => {
            clearTimeout(t);
            resolve();
          });
        });
      }
      // Kernels run in sessions of their own: end any this server left behind (their
      // connection files live under this lab's folder).
      for (const pid of processesMentioning(base)) {
        try {
          process.kill(pid, "SIGKILL");
        } catch {
          /* gone */
        }
      }
      rmSync(base, { recursive: true, force: true });
    },
  };
}

/** Launch the system Chromium. */
export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
      "--disable-quic",
      "--disable-dev-shm-usage",
    ],
  });
}

/** What `useLab` gives a test: its lab, its browser and (unless asked for none) a page. */
export interface LabUse {
  readonly lab: Lab;
  readonly browser: Browser;
  readonly page: Page;
}

/** Functions handed to page.evaluate keep their names through tsx's helper: give the page that helper. */
export const NAME_HELPER_SCRIPT = "window.__name = window.__name || ((f) => f);";

/**
 * A JupyterLab and a Chromium for the tests of one `describe`: registers a `before` hook that
 * starts the lab (`lab` options as startLab's), launches the browser and opens a page (`page`
 * options as browser.newPage's; `false` for none) with `initScripts` added, and an `after` hook
 * that closes the browser and stops the lab. A file's own `before` hooks, registered after this
 * call, run after it and may use what it returns.
 */
export function useLab(opts: { lab?: Parameters<typeof startLab>[0]; page?: Parameters<Browser["newPage"]>[0] | false; initScripts?: string[] } = {}): LabUse {
  let lab: Lab | undefined;
  let browser: Browser | undefined;
  let page: Page | undefined;
  before(async () => {
    lab = await startLab(opts.lab);
    browser = await launchBrowser();
    if (opts.page === false) return;
    page = await browser.newPage(opts.page);
    for (const script of opts.initScripts ?? []) await page.addInitScript(script);
  });
  after(async () => {
    await browser?.close();
    await lab?.stop();
  });
  const started = <T>(v: T | undefined, what: string): T => {
    if (v === undefined) throw new Error(`useLab: no ${what} (${what === "page" && opts.page === false ? "opened with page: false" : "its before hook has not run"})`);
    return v;
  };
  return {
    get lab() {
      return started(lab, "lab");
    },
    get browser() {
      return started(browser, "browser");
    },
    get page() {
      return started(page, "page");
    },
  };
}

/** A notebook for the tslab kernel with the given code cells. */
export function writeNotebook(file: string, cells: string[]): void {
  const nb = {
    cells: cells.map((source) => ({ cell_type: "code", execution_count: null, metadata: {}, outputs: [], source })),
    metadata: {
      kernelspec: { display_name: "TypeScript", language: "typescript", name: "tslab" },
      language_info: { name: "typescript" },
    },
    nbformat: 4,
    nbformat_minor: 5,
  };
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify(nb, null, 1));
}

/** Open `/lab/tree/<file>` and wait until the notebook's kernel is idle. */
export async function openNotebook(page: Page, lab: Lab, file: string): Promise<void> {
  await page.goto(`${lab.url}/lab/tree/${file}`);
  await page.waitForFunction((f) => (window as any).jupyterapp?.shell?.currentWidget?.context?.path === f, file, { timeout: 60_000 });
  await page.waitForSelector(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Cell", { timeout: 60_000 });
  await waitKernelIdle(page);
}

/** Wait until the current notebook's kernel reports idle (a first tslab start on a busy 2-core machine can take a minute or more). */
export async function waitKernelIdle(page: Page, timeout = 180_000): Promise<void> {
  await page.waitForFunction(
    () => {
      const app = (window as any).jupyterapp;
      const w = app?.shell?.currentWidget;
      const s = w?.sessionContext;
      return !!s && s.session?.kernel && s.kernelDisplayStatus === "idle";
    },
    undefined,
    { timeout },
  );
}

/**
 * Wait until every code cell of the current notebook has run (each has an execution count) and
 * its kernel is idle again: the end of a run-all started with `startCommand`.
 */
export async function waitCellsRan(page: Page, timeout: number): Promise<void> {
  await page.waitForFunction(
    () => {
      const w = (window as any).jupyterapp.shell.currentWidget;
      const cells = w.content.widgets;
      return cells.length > 0 && w.sessionContext.kernelDisplayStatus === "idle" && cells.every((c: any) => c.model.type !== "code" || c.model.executionCount !== null);
    },
    undefined,
    { timeout, polling: 500 },
  );
}

/** Run a JupyterLab command in the page. */
export async function command(page: Page, id: string, args: Record<string, unknown> = {}): Promise<unknown> {
  return page.evaluate(([id, args]) => (window as any).jupyterapp.commands.execute(id, args), [id, args] as const);
}

/**
 * Cell code that sends a display bundle with a display id through the kernel's own display
 * writer (the same path labnote's widgets take), for tests that run before or without the library.
 */
export function sendBundleCode(bundleExpr: string, displayId: string, update: boolean): string {
  return `(() => {
  const key = Object.keys(require.cache).find((k) => /tslab[\\\\/]dist[\\\\/]jupyter\\.js$/.test(k));
  const w = require.cache[key!]!.exports.lastWriteDisplayData;
  w({ data: ${bundleExpr}, metadata: {}, transient: { display_id: ${JSON.stringify(displayId)} } }, ${update});
})()`;
}

/** Drag the right sidebar's edge so the panel is `width` pixels wide (as a person would). */
export async function setRightSidebarWidth(page: Page, width: number): Promise<void> {
  const box = await page.locator("#jp-right-stack").boundingBox();
  if (!box) return;
  const handles = page.locator("#jp-main-split-panel > .lm-SplitPanel-handle");
  const n = await handles.count();
  for (let i = 0; i < n; i++) {
    const hb = await handles.nth(i).boundingBox();
    if (!hb || Math.abs(hb.x + hb.width - box.x) > 6) continue;
    const y = hb.y + hb.height / 2;
    await page.mouse.move(hb.x + hb.width / 2, y);
    await page.mouse.down();
    await page.mouse.move(hb.x + hb.width / 2 - (width - box.width), y, { steps: 5 });
    await page.mouse.up();
    return;
  }
}

/** Switch JupyterLab's theme. */
export async function setTheme(page: Page, theme: "light" | "dark"): Promise<void> {
  await command(page, "apputils:change-theme", { theme: theme === "dark" ? "JupyterLab Dark" : "JupyterLab Light" });
  await page.waitForFunction((light) => document.body.dataset.jpThemeLight === String(light), theme === "light", { timeout: 20_000 });
}

/**
 * Count the painted pixels of the canvases under `selector` (a chart with data paints many);
 * with `rgb`, only those of that colour (edges of marks are partly transparent, their colour exact).
 */
export async function paintedPixels(page: Page, selector: string, rgb?: [number, number, number]): Promise<number> {
  return page.evaluate(
    ([sel, want]) => {
      let n = 0;
      for (const c of document.querySelectorAll<HTMLCanvasElement>(`${sel} canvas`)) {
        const ctx = c.getContext("2d");
        if (!ctx || !c.width || !c.height) continue;
        const d = ctx.getImageData(0, 0, c.width, c.height).data;
        for (let i = 0; i < d.length; i += 4) {
          if (d[i + 3] === 0 || (want && !(d[i + 3] > 40 && Math.abs(d[i] - want[0]) < 12 && Math.abs(d[i + 1] - want[1]) < 12 && Math.abs(d[i + 2] - want[2]) < 12))) continue;
          n++;
        }
      }
      return n;
    },
    [selector, rgb ?? null] as const,
  );
}

/** The pids of the kernel process with this id (its command line names its connection file). */
export function kernelPids(kernelId: string): number[] {
  const out: number[] = [];
  for (const p of readdirSync("/proc")) {
    if (!/^\d+$/.test(p)) continue;
    try {
      const cmd = readFileSync(`/proc/${p}/cmdline`, "utf8");
      if (cmd.includes(`kernel-${kernelId}.json`)) out.push(Number(p));
    } catch {
      /* gone */
    }
  }
  return out;
}

/** Open the Experiments panel and wait until it is on screen. */
export async function openPanel(page: Page): Promise<void> {
  await command(page, "labnote:open-panel");
  await page.waitForSelector("#jp-labnote-experiments", { state: "visible" });
}

/** Start a JupyterLab command without waiting for it to finish (run-all resolves when every cell is done). */
export async function startCommand(page: Page, id: string, args: Record<string, unknown> = {}): Promise<void> {
  await page.evaluate(
    ([id, args]) => {
      void (window as any).jupyterapp.commands.execute(id, args);
    },
    [id, args] as const,
  );
}

/** Processes whose command line contains `text` (Linux /proc). */
function processesMentioning(text: string): number[] {
  const out: number[] = [];
  let entries: string[] = [];
  try {
    entries = readdirSync("/proc");
  } catch {
    return out;
  }
  for (const e of entries) {
    if (!/^\d+$/.test(e) || Number(e) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${e}/cmdline`, "utf8").includes(text)) out.push(Number(e));
    } catch {
      /* exited meanwhile */
    }
  }
  return out;
}
