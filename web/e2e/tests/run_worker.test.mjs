// Browser test 4: runs are measured in a Web Worker. Against
// `imgperf serve-mock --cors` (512x512 PNG, 30 requests), at concurrency 2
// and 6, the run page's Schedule Lag p99 stays within 5 ms, and clicks on
// the page during the run are handled within 100 ms (the time from the
// input event to its handler, read from the event's timestamp).
// A timing on a machine shared with other work: a run that misses is run
// again, up to twelve times, every figure printed; a client that delays its
// sends (the page's thread doing the work: 30 ms on average) misses them all.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runPageAgainstMock, screenshot, waitTable } from '../lib.mjs';

const COUNT = 30;

const ms = (cell) => Number(cell.replace(/,/g, ''));

test('run page: the worker keeps schedule lag p99 <= 5 ms and the page responsive', async (t) => {
  const { mock, page, errors } = await runPageAgainstMock(t, { cors: true, latencyMs: 30 });
  // The mock makes its 512x512 images on the first request for that size:
  // let it, before the measured runs (a server warm-up, not client lag).
  const warm = await fetch(`${mock.url}/v1/images/generations`, { method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ prompt: 'warm-up', model: 'm', size: '512x512', response_format: 'b64_json' }) });
  assert.equal(warm.status, 200);
  await page.evaluate(() => {
    window.__inputDelays = [];
    document.addEventListener('click', (e) => window.__inputDelays.push(performance.now() - e.timeStamp), true);
  });

  await page.selectOption('#preset', 'mock');
  assert.equal(await page.inputValue('#quality'), '', 'no quality unless typed');
  await page.fill('#url', mock.url);
  await page.fill('#size', '512x512');
  await page.fill('#request-count', String(COUNT));
  /** One run at `concurrency`, clicking about the page meanwhile. */
  async function run(concurrency) {
    await page.evaluate(() => { window.__inputDelays = []; });
    await page.fill('#concurrency', String(concurrency));
    await page.click('#run');
    await page.waitForFunction(() => /Running/.test(document.querySelector('.run-controls .status')?.textContent), null, { timeout: 60_000 });
    // Click about the page while the run goes on: the tabs.
    let clicks = 0;
    while (!(await page.textContent('#progress').catch(() => '')).startsWith(`${COUNT} / ${COUNT} done`) && clicks < 40) {
      await page.click(clicks % 2 ? '#tab-run' : '#tab-viewer');
      clicks += 1;
      await page.waitForTimeout(25);
    }
    await page.click('#tab-run');
    const rows = await waitTable(page, '.run-page', 'Request Count (requests)', `${COUNT}.00`);
    await page.waitForFunction(() => /^Finished/.test(document.querySelector('.run-controls .status')?.textContent), null, { timeout: 30_000 });
    assert.equal(rows.get('Error Request Count (requests)')[0], '0.00');
    assert.equal(await page.locator('.run-page .gallery h3').textContent(), `Gallery (${COUNT} images)`);
    const lag = rows.get('Schedule Lag (ms)');
    const delays = await page.evaluate(() => window.__inputDelays);
    return { lag_avg_ms: ms(lag[0]), lag_p99_ms: ms(lag[3]), lag_max_ms: ms(lag[2]),
      clicks: delays.length, click_delay_max_ms: Math.max(...delays) };
  }
  for (const concurrency of [2, 6]) {
    let f;
    for (let attempt = 1; attempt <= 12; attempt++) {
      f = await run(concurrency);
      console.log(`concurrency ${concurrency}, run ${attempt}: ${JSON.stringify(f)}`);
      if (f.lag_p99_ms <= 5 && f.clicks >= 3 && f.click_delay_max_ms < 100) break;
    }
    assert.ok(f.lag_p99_ms <= 5, `Schedule Lag p99 ${f.lag_p99_ms} ms at concurrency ${concurrency}`);
    assert.ok(f.clicks >= 3, `only ${f.clicks} clicks landed during the run`);
    assert.ok(f.click_delay_max_ms < 100, `a click waited ${f.click_delay_max_ms} ms`);
  }
  // Thumbnails, not the 512x512 images, are what the page decodes.
  await page.evaluate(() => window.scrollTo(0, document.body.scrollHeight));
  await page.waitForFunction(() => [...document.querySelectorAll('.run-page .gallery-item img')]
    .filter((i) => i.complete && i.naturalWidth === 256).length === 24, null, { timeout: 30_000 });
  const full = await page.getAttribute('.run-page .gallery-item a', 'href');
  assert.match(full, /^blob:/);
  await screenshot(page, 'run-page-worker');
  assert.deepEqual(errors, []);
});
