// Browser test 2: the viewer opens a raw export written by the CLI: gallery
// count and every table cell equal the CLI's own table; then two runs
// compared side by side (deltas, overlaid plots).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serveStatic, launch, openPage, screenshot, imgperf, runDir, parseConsoleTable, pageTable } from '../lib.mjs';

/** A CLI run against the embedded mock, exported at raw level. */
function cliRun(concurrency, count) {
  const dir = mkdtempSync(join(tmpdir(), 'imgperf-e2e-'));
  const stdout = imgperf(['profile', '--mock', '--mock-latency-ms', '20', '--synthetic-input-tokens-mean', '20',
    '--extra-inputs', 'size:256x256', '--concurrency', String(concurrency), '--request-count', String(count),
    '--export-level', 'raw', '--artifact-dir', dir, '--random-seed', '7', '--ui', 'none']);
  const run = runDir(dir);
  return {
    table: parseConsoleTable(stdout),
    raw: join(run, 'profile_export_raw.jsonl'),
    records: join(run, 'profile_export.jsonl'),
    summary: join(run, 'profile_export_imgperf.json'),
  };
}

async function imagesShown(page, n) {
  await page.waitForFunction((n) => [...document.querySelectorAll('.report .gallery-item img')]
    .filter((i) => i.complete && i.naturalWidth === 256).length === n, n, { timeout: 30_000 });
}

test('viewer: a CLI raw export shows the CLI table and every image; runs compare', async (t) => {
  const web = await serveStatic();
  const browser = await launch();
  t.after(async () => { await browser.close(); web.close(); });
  const a = cliRun(2, 8);
  assert.ok(a.table.size >= 10, 'the CLI printed its table');
  const { page, errors } = await openPage(browser, `${web.url}#viewer`);

  await page.setInputFiles('#viewer-files', a.raw);
  await page.waitForSelector('.report .gallery h3', { timeout: 60_000 });
  assert.equal(await page.textContent('.report .gallery h3'), 'Gallery (8 images)');
  await imagesShown(page, 8);
  const facts = await page.locator('.report .gallery-item .facts').allTextContents();
  assert.ok(facts.every((f) => f.includes('256×256') && f.includes('png')), facts.join(' | '));

  const shown = await pageTable(page, '.report');
  assert.deepEqual([...shown.keys()], [...a.table.keys()], 'same rows, same order as the CLI');
  for (const [label, cells] of a.table) assert.deepEqual(shown.get(label), cells, label);
  assert.equal(await page.locator('.report .plot-box svg').count(), 4, 'latency and throughput over time, CDF, histogram');
  await screenshot(page, 'viewer-raw-export');

  // profile_export.jsonl alone, in a fresh page: the same table (core reads
  // the image facts and output metrics back), and the images made.
  const alone = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await alone.goto(`${web.url}#viewer`);
  await alone.setInputFiles('#viewer-files', a.records);
  await alone.waitForSelector('.report table.metrics');
  const fromRecords = await pageTable(alone, '.report');
  assert.deepEqual([...fromRecords.keys()], [...a.table.keys()], 'records alone: same rows');
  for (const [label, cells] of a.table) assert.deepEqual(fromRecords.get(label), cells, `records alone: ${label}`);
  assert.match(await alone.textContent('.run-entry .facts'), /8 requests · 8 images/);
  await alone.close();

  // The same run's summary JSON and records merge into it; a second run compares.
  await page.setInputFiles('#viewer-files', [a.summary, a.records]);
  await page.waitForFunction(() => document.querySelector('.report .sources')?.textContent.includes('table from summary JSON'));
  assert.equal(await page.locator('.run-entry').count(), 1);
  const fromSummary = await pageTable(page, '.report');
  for (const [label, cells] of a.table) assert.deepEqual(fromSummary.get(label), cells, label);

  const b = cliRun(1, 6);
  await page.setInputFiles('#viewer-files', [b.summary, b.raw]);
  await page.waitForSelector('.compare-view', { timeout: 60_000 });
  assert.equal(await page.locator('.run-entry').count(), 2);
  assert.match(await page.textContent('.compare-view h2'), /Comparing 2 runs/);
  const count = await page.locator('.compare-view tr[data-metric="request_count"] td').allTextContents();
  assert.deepEqual(count, ['8.00', '', '6.00', '-25.0%']);
  assert.equal(await page.locator('.compare-view .plot-box svg .series').count(), 8, 'four plots, two runs each');
  await screenshot(page, 'viewer-compare');

  // Unticking one run shows the other's report.
  await page.locator('.run-entry input[type=checkbox]').first().uncheck();
  await page.waitForSelector('.report');
  assert.equal(await page.textContent('.report .gallery h3'), 'Gallery (6 images)');
  assert.deepEqual(errors, []);
});
