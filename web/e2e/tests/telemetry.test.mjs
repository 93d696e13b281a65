// Browser test: a CLI run with GPU telemetry (the embedded mock's simulated
// GPUs) opened in the viewer. The telemetry exports, opened first, wait for
// their run and join it when the records and summary arrive; the page shows
// the CLI's GPU table rows and energy line, and latency, power, utilization
// and server queue panels on one time axis.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serveStatic, launch, openPage, screenshot, imgperf, runDir } from '../lib.mjs';

/** GPU table rows the CLI printed: the lines between the title and the energy notes. */
function cliGpuRows(stdout) {
  const lines = stdout.split('\n');
  const start = lines.indexOf('imgperf | GPU Telemetry');
  const rows = [];
  for (const line of lines.slice(start + 1)) {
    if (!line.startsWith('│') && !line.startsWith('┌') && !line.startsWith('╞') && !line.startsWith('├')) {
      if (rows.length) break;
      continue;
    }
    if (!line.startsWith('│')) continue;
    const cells = line.slice(1, -1).split('┆').map((c) => c.trim());
    if (cells[0] !== 'GPU') rows.push(cells);
  }
  return rows;
}

test('viewer: telemetry exports join their run; GPU table, energy and time-aligned panels', async (t) => {
  const web = await serveStatic();
  const browser = await launch();
  t.after(async () => { await browser.close(); web.close(); });
  const dir = mkdtempSync(join(tmpdir(), 'imgperf-e2e-'));
  const stdout = imgperf(['profile', '--mock', '--mock-gpus', '2', '--mock-latency-ms', '60',
    '--synthetic-input-tokens-mean', '20', '--extra-inputs', 'size:256x256', '--concurrency', '2',
    '--request-count', '12', '--telemetry-interval', '0.05', '--artifact-dir', dir, '--random-seed', '7',
    '--ui', 'none']);
  const run = runDir(dir);
  const gpuRows = cliGpuRows(stdout);
  assert.equal(gpuRows.length, 2, stdout);
  const energyLine = stdout.split('\n').find((l) => l.startsWith('Energy per image:'));
  assert.ok(energyLine, stdout);

  const { page, errors } = await openPage(browser, `${web.url}#viewer`);
  await page.setInputFiles('#viewer-files', [join(run, 'gpu_telemetry_export.jsonl'), join(run, 'server_metrics_export.jsonl')]);
  await page.waitForSelector('.report table.gpu-telemetry', { timeout: 60_000 });
  assert.equal(await page.locator('.run-entry').count(), 1, 'both exports are one run');

  await page.setInputFiles('#viewer-files', [join(run, 'profile_export.jsonl'), join(run, 'profile_export_imgperf.json')]);
  await page.waitForFunction(() => document.querySelector('.report .sources')?.textContent.includes('table from summary JSON'),
    null, { timeout: 60_000 });
  assert.equal(await page.locator('.run-entry').count(), 1, 'records and summary join the telemetry');
  const shown = await page.$$eval('.report table.gpu-telemetry tbody tr',
    (trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent.trim())));
  assert.deepEqual(shown, gpuRows, 'the CLI table, digit for digit');
  const notes = await page.locator('.report .telemetry .note').allTextContents();
  assert.ok(notes.includes(energyLine), `${notes.join(' | ')} vs ${energyLine}`);
  assert.ok(await page.locator('.report table.server-queue tbody tr').count() >= 2);
  const titles = await page.locator('.report .timeline svg title').allTextContents();
  assert.deepEqual(titles, ['Request latency', 'GPU power', 'GPU utilization', 'Server queue and running requests']);
  // One time axis: the same tick labels under every panel.
  const ticks = await page.$$eval('.report .timeline svg', (svgs) => svgs.map((s) =>
    [...s.querySelectorAll('text[text-anchor="middle"][font-size="11"]')].map((t) => t.textContent).join(',')));
  assert.ok(ticks.every((x) => x === ticks[0]), ticks.join(' | '));
  assert.equal(await page.locator('.report .timeline svg path.series').count(), 2 + 2 + 2, 'a line per GPU and per queue gauge');
  await screenshot(page, 'viewer-telemetry');
  assert.deepEqual(errors, []);
});
