// Starts a real VS Code workbench for the tests: code-server 4.100.3 (installed by
// scripts/install-test-host.sh) serving the extension host, and the Debian chromium driven by
// playwright-core showing the workbench headless. Used by the `code` shim that @vscode/test-electron
// runs, and by the UI test. Everything it writes stays under its own folder. How the suites use it:
// CONTRIBUTING.md, "Tests"; code-server's options: its `--help` and https://coder.com/docs/code-server.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { format } from 'node:util';

/** Workbench noise with no network: the marketplace and telemetry hosts, connection chatter. */
const HARMLESS =
  /ENOTFOUND (open-vsx\.org|marketplace|[\w.-]*visualstudio\.com|[\w.-]*vsassets\.io)|^(Resolving connection token|Resolved connection token|Creating a socket|Updating additional builtin|\[Service Worker\]|ChatSessionStore)/;

const here = path.dirname(fileURLToPath(import.meta.url));
export const repoRoot = path.resolve(here, '..', '..');

export function codeServerEntry() {
  const p =
    process.env.FCONV_CODE_SERVER ??
    path.join(repoRoot, '.vscode-test', 'code-server', 'node_modules', 'code-server', 'out', 'node', 'entry.js');
  if (!fs.existsSync(p))
    throw new Error(`code-server not found at ${p}: run scripts/install-test-host.sh (npm test does it)`);
  return p;
}

export function chromiumPath() {
  const candidates = [process.env.FCONV_CHROMIUM, '/usr/bin/chromium', '/usr/bin/chromium-browser'].filter(Boolean);
  const found = candidates.find((c) => fs.existsSync(c));
  if (!found) throw new Error('chromium not found: apt-get install chromium (scripts/install-test-host.sh does it)');
  return found;
}

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

async function waitHealthy(port, child, ms) {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (child.exitCode !== null) throw new Error(`code-server exited with code ${child.exitCode}`);
    try {
      const r = await fetch(`http://127.0.0.1:${port}/healthz`);
      if (r.ok) return;
    } catch {
      /* not up yet */
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`code-server did not answer /healthz within ${ms} ms`);
}

/**
 * @param {object} o
 * @param {string} o.dir            folder for everything this instance writes
 * @param {string} o.folder         workspace folder to open
 * @param {string} o.extensionDevelopmentPath
 * @param {string} [o.extensionTestsPath]  compiled mocha suite index (runs the suite, then exits)
 * @param {string} [o.userDataDir]
 * @param {string} [o.extensionsDir]
 * @param {object} [o.settings]     user settings.json
 * @param {object} [o.env]          extra environment for code-server and its extension host
 * @param {boolean} [o.untrusted]   open the folder in restricted mode (workspace trust on, not trusted)
 * @param {(line: string) => void} [o.log]
 */
export async function startWorkbench(o) {
  const log = o.log ?? ((l) => process.stdout.write(`${l}\n`));
  const dir = path.resolve(o.dir);
  const ud = path.resolve(o.userDataDir ?? path.join(dir, 'user-data'));
  const ext = path.resolve(o.extensionsDir ?? path.join(dir, 'extensions'));
  for (const d of [dir, ud, ext, path.join(dir, 'home'), path.join(dir, 'tmp'), path.join(ud, 'User')])
    fs.mkdirSync(d, { recursive: true });
  const settings = {
    'workbench.startupEditor': 'none',
    'workbench.tips.enabled': false,
    'security.workspace.trust.enabled': false,
    'telemetry.telemetryLevel': 'off',
    'update.mode': 'none',
    'extensions.autoCheckUpdates': false,
    'extensions.autoUpdate': false,
    'window.commandCenter': false,
    ...(o.untrusted
      ? { 'security.workspace.trust.enabled': true, 'security.workspace.trust.startupPrompt': 'never' }
      : {}),
    ...(o.settings ?? {}),
  };
  fs.writeFileSync(path.join(ud, 'User', 'settings.json'), JSON.stringify(settings, null, 2));
  fs.writeFileSync(path.join(dir, 'config.yaml'), 'auth: none\ncert: false\n');
  const port = await freePort();
  const env = {
    ...process.env,
    ...(o.env ?? {}),
    HOME: path.join(dir, 'home'),
    TMPDIR: path.join(dir, 'tmp'),
    XDG_CONFIG_HOME: path.join(dir, 'home', '.config'),
    XDG_DATA_HOME: path.join(dir, 'home', '.local', 'share'),
    XDG_CACHE_HOME: path.join(dir, 'home', '.cache'),
  };
  delete env.VSCODE_IPC_HOOK_CLI;
  const server = spawn(
    process.execPath,
    [
      codeServerEntry(),
      '--bind-addr',
      `127.0.0.1:${port}`,
      '--auth',
      'none',
      '--config',
      path.join(dir, 'config.yaml'),
      '--user-data-dir',
      ud,
      '--extensions-dir',
      ext,
      '--disable-telemetry',
      '--disable-update-check',
      ...(o.untrusted ? [] : ['--disable-workspace-trust']),
      '--disable-getting-started-override',
      '--ignore-last-opened',
    ],
    { env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const serverLog = fs.createWriteStream(path.join(dir, 'code-server.log'));
  server.stdout.pipe(serverLog);
  server.stderr.pipe(serverLog);
  let browser;
  const close = async () => {
    await browser?.close().catch(() => {});
    if (server.exitCode === null) {
      server.kill('SIGTERM');
      await new Promise((r) => {
        const t = setTimeout(() => {
          server.kill('SIGKILL');
          r();
        }, 3000);
        server.once('exit', () => {
          clearTimeout(t);
          r();
        });
      });
    }
  };
  try {
    await waitHealthy(port, server, 30000);
    const { chromium } = await import('playwright-core');
    browser = await chromium.launch({
      executablePath: chromiumPath(),
      headless: true,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--disable-dev-shm-usage',
      ],
    });
    const page = await browser.newPage({ viewport: { width: 1440, height: 960 } });
    const remote = (p) => `vscode-remote://127.0.0.1:${port}${path.resolve(p)}`;
    const payload = [
      ['extensionDevelopmentPath', remote(o.extensionDevelopmentPath)],
      ['skipWelcome', 'true'],
    ];
    if (o.extensionTestsPath) payload.push(['extensionTestsPath', remote(o.extensionTestsPath)]);
    const url = `http://127.0.0.1:${port}/?folder=${encodeURIComponent(path.resolve(o.folder))}&payload=${encodeURIComponent(JSON.stringify(payload))}`;
    log(`workbench: code-server on port ${port}, logs in ${dir}`);
    return { page, browser, port, url, dir, close };
  } catch (e) {
    await close();
    throw e;
  }
}

/**
 * Runs an extension test suite in the workbench and resolves with its exit code (what
 * `codeAutomationExit` reports), or 1 after `timeoutMs`.
 */
export async function runSuite(o, timeoutMs = 10 * 60 * 1000) {
  const log = o.log ?? ((l) => process.stdout.write(`${l}\n`));
  const wb = await startWorkbench(o);
  try {
    let done;
    const exited = new Promise((r) => (done = r));
    await wb.page.exposeFunction('codeAutomationLog', (type, args) => {
      const text = format(...(Array.isArray(args) ? args : [args]));
      if (HARMLESS.test(text)) return;
      log(type === 'error' ? `[suite:error] ${text}` : text);
    });
    await wb.page.exposeFunction('codeAutomationExit', (code) => done(Number(code)));
    wb.page.on('pageerror', (e) => log(`[workbench page error] ${e.message}`));
    await wb.page.goto(wb.url);
    const timer = new Promise((r) =>
      setTimeout(() => {
        log(`suite did not finish within ${timeoutMs / 1000} s`);
        r(1);
      }, timeoutMs),
    );
    return await Promise.race([exited, timer]);
  } finally {
    await wb.close();
  }
}
