// Browser test 6: the viewer opens a run by URL (`#/open?url=...`) from
// another origin: with CORS headers the run shows (the CLI's table); a
// host without them gets the clear message, and so does a missing file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { serveStatic, launch, openPage, screenshot, runDir, cliRun, waitTable } from '../lib.mjs';

test('viewer: open by URL from another origin, with and without CORS', async (t) => {
  const work = mkdtempSync(join(tmpdir(), 'imgperf-open-'));
  const a = cliRun(join(work, 'a'), { concurrency: 2, count: 5 });
  const run = relative(work, runDir(join(work, 'a')));
  const app = await serveStatic();
  const withCors = await serveStatic(work, { cors: true, requireIndex: false });
  const noCors = await serveStatic(work, { requireIndex: false });
  const browser = await launch();
  t.after(async () => { await browser.close(); app.close(); withCors.close(); noCors.close(); });

  const files = ['profile_export_imgperf.json', 'profile_export.jsonl']
    .map((f) => `url=${encodeURIComponent(`${withCors.url}${run}/${f}`)}`).join('&');
  const { page, errors } = await openPage(browser, `${app.url}#/open?${files}`);
  const shown = await waitTable(page, '.report', 'Request Count (requests)', '5.00');
  for (const [label, cells] of a.table) assert.deepEqual(shown.get(label), cells, label);
  assert.equal(await page.locator('.run-entry').count(), 1, 'summary and records are one run');
  assert.match(await page.textContent('.report .sources'), /table from summary JSON/);
  assert.ok(await page.locator('.report .plot-box svg').count() >= 4, 'plots from the records');

  // Without CORS headers: the browser hides the answer; the page says why.
  const blocked = `${noCors.url}${run}/profile_export.jsonl`;
  const other = await browser.newPage();
  const consoleErrors = [];
  other.on('pageerror', (e) => consoleErrors.push(String(e)));
  await other.goto(`${app.url}#/open?url=${encodeURIComponent(blocked)}`);
  await other.waitForSelector('.viewer .error', { timeout: 30_000 });
  const text = await other.textContent('.viewer .error');
  assert.ok(text.includes(`Cannot read ${blocked}`), text);
  assert.match(text, /sends no CORS headers \(Access-Control-Allow-Origin\)/);
  assert.match(text, /imgperf publish/);
  await screenshot(other, 'open-url-no-cors');
  // A missing file on a CORS host: its status.
  await other.goto(`${app.url}#/open?url=${encodeURIComponent(`${withCors.url}${run}/missing.jsonl`)}`);
  await other.waitForFunction(() => /HTTP 404/.test(document.querySelector('.viewer .error')?.textContent));
  assert.deepEqual(consoleErrors, []);
  assert.deepEqual(errors, []);
});
