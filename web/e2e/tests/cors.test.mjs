// Browser test 3: a server without CORS headers gives the page's CORS
// message (the browser's opaque "Failed to fetch"), naming what to check.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runPageAgainstMock, screenshot, pageTable } from '../lib.mjs';

test('run page: a server without CORS gives the CORS message', async (t) => {
  const { mock, page } = await runPageAgainstMock(t, { cors: false });

  await page.fill('#url', mock.url);
  await page.fill('#model', 'mock-image-model');
  await page.fill('#request-count', '2');
  await page.click('#run');

  const banner = page.locator('.cors-error');
  await banner.waitFor({ timeout: 60_000 });
  await page.waitForFunction(() => document.querySelector('#progress')?.textContent.startsWith('2 / 2 done'), null, { timeout: 60_000 });
  const text = await banner.textContent();
  assert.match(text, /2 requests failed before any response/);
  assert.match(text, /no CORS headers or server unreachable/);
  assert.match(text, /imgperf serve-mock --cors/);
  assert.match(text, /SGLang version that adds CORS headers/);
  const rows = await pageTable(page, '.run-page');
  assert.equal(rows.get('Error Request Count (requests)')[0], '2.00');
  assert.match(await page.textContent('.run-page .errors'), /ConnectionError: no CORS headers or server unreachable/);
  assert.equal(await page.locator('.run-page .gallery-item').count(), 0);
  await screenshot(page, 'cors-message');
});
