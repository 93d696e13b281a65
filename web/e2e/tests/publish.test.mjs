// Browser test 5: `imgperf publish` of two CLI runs and a sweep, served by
// a plain static server: the site opens on its run list; deep links show
// the right run (every table cell equal to the CLI's own table), a
// comparison of two runs, and the sweep with links to its points.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serveStatic, launch, openPage, screenshot, imgperf, runDir, cliRun, pageTable, waitTable } from '../lib.mjs';

test('publish: a static site with deep links to runs, a comparison and a sweep', async (t) => {
  const work = mkdtempSync(join(tmpdir(), 'imgperf-publish-'));
  const a = cliRun(join(work, 'a'), { concurrency: 2, count: 8 });
  const b = cliRun(join(work, 'b'), { concurrency: 1, count: 6, size: '320x256' });
  imgperf(['profile', '--mock', '--mock-latency-ms', '10', '--synthetic-input-tokens-mean', '20',
    '--extra-inputs', 'size:256x256', '--request-count', '4', '--sweep', 'concurrency=1,2',
    '--artifact-dir', join(work, 's'), '--export-level', 'raw', '--random-seed', '7', '--ui', 'none']);
  const site = join(work, 'site');
  // No --web-app: the binary carries the app (scripts/test.sh builds it as scripts/build-web.sh does).
  const out = imgperf(['publish', runDir(join(work, 'a')), runDir(join(work, 'b')), runDir(join(work, 's')),
    '-o', site, '--title', 'Team benchmarks']);
  assert.match(out, /Published 4 runs and 1 sweeps/);
  const index = JSON.parse(readFileSync(join(site, 'runs.json'), 'utf8'));
  const [runA, runB] = index.runs;

  const web = await serveStatic(site);
  const browser = await launch();
  t.after(async () => { await browser.close(); web.close(); });

  // The site's front page: the run list.
  const { page, errors } = await openPage(browser, web.url);
  await page.waitForSelector('.site tr.site-run');
  assert.equal(await page.textContent('.site h2'), 'Team benchmarks');
  assert.ok(await page.locator('details.site').evaluate((d) => d.open), 'the list is open on the front page');
  assert.equal(await page.locator('.site tr.site-run').count(), 4);
  assert.match(await page.textContent(`.site tr[data-run="${runA.name}"]`), /8\s*0\s*8/);
  await screenshot(page, 'published-site');
  // Ticking two runs and comparing them is a link too.
  await page.check(`.site tr[data-run="${runA.name}"] input`);
  await page.check(`.site tr[data-run="${runB.name}"] input`);
  await page.click('#compare-picked');
  await page.waitForSelector('.compare-view', { timeout: 60_000 });
  assert.equal(await page.evaluate(() => location.hash), `#/compare/${runA.name},${runB.name}`);

  // #/run/<name>: that run, the CLI's table cell for cell, its thumbnails.
  await page.goto(`${web.url}#/run/${runA.name}`);
  const shown = await waitTable(page, '.report', 'Request Count (requests)', '8.00');
  assert.deepEqual([...shown.keys()], [...a.table.keys()]);
  for (const [label, cells] of a.table) assert.deepEqual(shown.get(label), cells, label);
  assert.equal(await page.textContent('.report h2'), runA.label);
  await page.evaluate(() => window.scrollTo(0, document.body.scrollHeight));
  await page.waitForFunction(() => [...document.querySelectorAll('.report .gallery-item img')]
    .filter((i) => i.complete && i.naturalWidth === 256).length === 8, null, { timeout: 30_000 });
  assert.ok(await page.locator('.report .plot-box svg').count() >= 4);
  await screenshot(page, 'published-run');

  // #/compare/<a>,<b> in a fresh page (a link shared with a colleague).
  const other = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await other.goto(`${web.url}#/compare/${runA.name},${runB.name}`);
  await other.waitForSelector('.compare-view', { timeout: 60_000 });
  const counts = await other.locator('.compare-view tr[data-metric="request_count"] td').allTextContents();
  assert.deepEqual(counts, ['8.00', '', '6.00', '-25.0%']);
  assert.equal(await other.locator('.compare-view .plot-box svg path.series[data-name]').count() > 0, true);
  await screenshot(other, 'published-compare');

  // #/sweep/<name>: one row per point, each linking to its run.
  const sweep = index.sweeps[0];
  await page.goto(`${web.url}#/sweep/${sweep.name}`);
  await page.waitForSelector('.sweep-view tr.sweep-point');
  assert.equal(await page.locator('.sweep-view tr.sweep-point').count(), 2);
  assert.equal(await page.locator('.sweep-view svg circle').count(), 4);
  await page.click('.sweep-view tr.sweep-point a >> nth=1');
  const point = await waitTable(page, '.report', 'Request Count (requests)', '4.00');
  assert.ok(point.get('Request Latency (ms)'));
  assert.equal(await page.evaluate(() => location.hash), `#/run/${sweep.points[1]}`);

  // A name the site does not have says so.
  await page.goto(`${web.url}#/run/nope`);
  await page.waitForSelector('.viewer .error');
  assert.match(await page.textContent('.viewer .error'), /No run named "nope"/);
  assert.deepEqual(errors, []);
});
