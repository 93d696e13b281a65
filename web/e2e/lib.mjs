// Helpers of the browser end-to-end tests: a static server for dist/, the
// imgperf mock server, headless Debian Chromium through playwright-core,
// screenshots under web/e2e/artifacts/ (gitignored), and the CLI's own
// console table parsed back into rows.
import { spawn, execFileSync } from 'node:child_process';
import { createServer } from 'node:http';
import { createServer as netServer } from 'node:net';
import { mkdirSync, readFileSync, statSync, existsSync, readdirSync } from 'node:fs';
import { join, extname, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { deflateSync, crc32 } from 'node:zlib';

const here = dirname(fileURLToPath(import.meta.url));
export const ROOT = resolve(here, '..', '..');
export const DIST = process.env.IMGPERF_DIST || join(ROOT, 'dist');
export const IMGPERF = process.env.IMGPERF_BIN || join(ROOT, 'target', 'release', 'imgperf');
export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
export const ARTIFACTS = join(here, 'artifacts');
mkdirSync(ARTIFACTS, { recursive: true });

const MIME = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.wasm': 'application/wasm',
  '.css': 'text/css', '.json': 'application/json', '.jpg': 'image/jpeg', '.png': 'image/png',
};

/** Serve `dir` as a plain static host would, on 127.0.0.1; `cors` adds
 * `access-control-allow-origin: *`; `requireIndex` false serves any folder. */
export async function serveStatic(dir = DIST, { cors = false, requireIndex = true } = {}) {
  if (requireIndex && !existsSync(join(dir, 'index.html'))) throw new Error(`${dir}/index.html missing: run trunk build --release first`);
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    let file = resolve(dir, '.' + path);
    if (!file.startsWith(resolve(dir))) { res.writeHead(403); return res.end(); }
    if (existsSync(file) && statSync(file).isDirectory()) file = join(file, 'index.html');
    if (!existsSync(file)) { res.writeHead(404, cors ? { 'access-control-allow-origin': '*' } : {}); return res.end('not found'); }
    const headers = { 'content-type': MIME[extname(file)] || 'application/octet-stream' };
    if (cors) headers['access-control-allow-origin'] = '*';
    res.writeHead(200, headers);
    res.end(readFileSync(file));
  });
  await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
  return { url: `http://127.0.0.1:${server.address().port}/`, close: () => server.close() };
}

async function freePort() {
  const s = netServer();
  await new Promise((ok) => s.listen(0, '127.0.0.1', ok));
  const port = s.address().port;
  await new Promise((ok) => s.close(ok));
  return port;
}

/** Start `imgperf serve-mock` (fixed latency, no queueing) and wait for /health. */
export async function startMock({ cors = true, latencyMs = 30 } = {}) {
  const port = await freePort();
  const args = ['serve-mock', '--port', String(port), '--latency-ms', String(latencyMs), '--slots', '0'];
  if (cors) args.push('--cors');
  const child = spawn(IMGPERF, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stdout.on('data', (d) => { log += d; });
  child.stderr.on('data', (d) => { log += d; });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 100; i++) {
    try { if ((await fetch(`${url}/health`)).ok) return { url, stop: () => child.kill('SIGINT'), log: () => log }; } catch {}
    await new Promise((ok) => setTimeout(ok, 100));
  }
  child.kill();
  throw new Error(`serve-mock did not start: ${log}`);
}

/** Headless Debian Chromium, as root (playwright gives it a fresh profile). */
export async function launch() {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      '--disable-dev-shm-usage'],
  });
}

/** A page that fails the test on uncaught errors; console lines are kept. */
export async function openPage(browser, url) {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  await page.goto(url);
  await page.waitForSelector('header h1');
  return { page, errors };
}

/** The app served statically, `imgperf serve-mock` (`mockOptions` as for
 * `startMock`) and a browser on the app's page, all closed when test `t`
 * ends. */
export async function runPageAgainstMock(t, mockOptions) {
  const web = await serveStatic();
  const mock = await startMock(mockOptions);
  const browser = await launch();
  t.after(async () => { await browser.close(); web.close(); mock.stop(); });
  const { page, errors } = await openPage(browser, web.url);
  return { web, mock, browser, page, errors };
}

export async function screenshot(page, name) {
  const path = join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

/** Run the CLI, returning stdout. */
export function imgperf(args, opts = {}) {
  return execFileSync(IMGPERF, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], ...opts });
}

/** The run directory `imgperf profile` wrote under `artifactDir`. */
export function runDir(artifactDir) {
  const dirs = readdirSync(artifactDir).filter((d) => statSync(join(artifactDir, d)).isDirectory());
  if (dirs.length !== 1) throw new Error(`expected one run directory in ${artifactDir}: ${dirs}`);
  return join(artifactDir, dirs[0]);
}

/** Rows of the CLI's console table (the first one printed; telemetry tables follow it):
 * label → [avg, min, max, p99, p90, p50, std] as printed. */
export function parseConsoleTable(stdout) {
  const rows = new Map();
  for (const line of stdout.split('\n')) {
    if (line.startsWith('└') && rows.size) break;
    if (!line.startsWith('│')) continue;
    const cells = line.slice(1, -1).split('┆').map((c) => c.trim());
    if (cells[0] === 'Metric') continue;
    rows.set(cells[0], cells.slice(1));
  }
  return rows;
}

/** Rows of a metrics table in the page: label → cells, same shape. */
export async function pageTable(page, scope = '') {
  return new Map(await page.$$eval(`${scope} table.metrics:not(.compare) tbody tr`, (trs) =>
    trs.map((tr) => [tr.querySelector('th').textContent.trim(),
      [...tr.querySelectorAll('td')].map((td) => td.textContent.trim())])));
}

/** A CLI run against the embedded mock; returns its directory and printed table. */
export function cliRun(dir, { concurrency = 2, count = 8, size = '256x256', extra = [] } = {}) {
  const stdout = imgperf(['profile', '--mock', '--mock-latency-ms', '20', '--synthetic-input-tokens-mean', '20',
    '--extra-inputs', `size:${size}`, '--concurrency', String(concurrency), '--request-count', String(count),
    '--export-level', 'raw', '--artifact-dir', dir, '--random-seed', '7', '--ui', 'none', ...extra]);
  return { table: parseConsoleTable(stdout), stdout };
}

/** Wait for a page's metrics table to show `rows` request rows, then return it. */
export async function waitTable(page, scope, label, value) {
  await page.waitForFunction(([scope, label, value]) => [...document.querySelectorAll(`${scope} table.metrics:not(.compare) tbody tr`)]
    .some((tr) => tr.querySelector('th').textContent.trim() === label && tr.querySelector('td').textContent.trim() === value),
  [scope, label, value], { timeout: 60_000 });
  return pageTable(page, scope);
}

/** A real PNG of one colour. */
export function png(width, height, [r, g, b]) {
  const chunk = (type, data) => {
    const len = Buffer.alloc(4); len.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const crc = Buffer.alloc(4); crc.writeUInt32BE(crc32(body) >>> 0);
    return Buffer.concat([len, body, crc]);
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0); header.writeUInt32BE(height, 4);
  header.set([8, 2, 0, 0, 0], 8);
  const row = Buffer.concat([Buffer.from([0]), Buffer.from(Array(width).fill([r, g, b]).flat())]);
  const raw = deflateSync(Buffer.concat(Array(height).fill(row)));
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header), chunk('IDAT', raw), chunk('IEND', Buffer.alloc(0))]);
}
