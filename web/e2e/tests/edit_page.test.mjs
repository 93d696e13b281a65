// Browser test: image edits. The run page sends edits to `imgperf
// serve-mock --cors` with synthetic reference images (encoded by the
// browser's canvas) and with picked files, shows "Image Edit Metrics" with
// the input rows, and puts each input beside its output in the gallery; a
// picked file that is not an image is refused before any request. The
// viewer shows a CLI edit run's inputs beside its outputs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runPageAgainstMock, serveStatic, launch, openPage, screenshot, imgperf, runDir, pageTable, png } from '../lib.mjs';

async function fillEdit(page, mock, prompts, count) {
  await page.fill('#url', mock.url);
  await page.fill('#model', 'black-forest-labs/FLUX.2-klein-4B');
  await page.selectOption('#endpoint-type', 'image_edit');
  assert.equal(await page.inputValue('#endpoint'), '/v1/images/edits', 'the path follows the type');
  await page.fill('#prompts', prompts.join('\n'));
  await page.fill('#size', '128x128');
  await page.fill('#quality', '');
  await page.fill('#request-count', String(count));
}

async function finished(page, n) {
  await page.waitForFunction((n) => document.querySelector('#progress')?.textContent.startsWith(`${n} / ${n} done`), n, { timeout: 60_000 });
}

/** Cards whose input and output images have loaded at these widths. */
async function pairsShown(page, scope, n, inputWidth, outputWidth) {
  await page.waitForFunction(([scope, n, iw, ow]) => [...document.querySelectorAll(`${scope} .gallery-item.edit`)]
    .filter((c) => {
      const i = c.querySelector('.input-image img'); const o = c.querySelector('img.output-image');
      return i && o && i.complete && o.complete && i.naturalWidth === iw && o.naturalWidth === ow;
    }).length === n, [scope, n, inputWidth, outputWidth], { timeout: 30_000 });
}

test('run page: edits with synthetic and picked reference images, inputs beside outputs', async (t) => {
  const { mock, page, errors } = await runPageAgainstMock(t, { cors: true });

  // Synthetic references: the page renders and encodes them (a canvas).
  await fillEdit(page, mock, ['Make the background a sunset', 'Add snow to the trees', 'Make it night'], 3);
  await page.fill('#ref-width', '96');
  await page.fill('#ref-height', '64');
  await page.selectOption('#ref-format', 'jpeg');
  await page.click('#run');
  await finished(page, 3);
  assert.equal(await page.textContent('.run-page table.metrics caption'), 'imgperf | Image Edit Metrics');
  let rows = await pageTable(page, '.run-page');
  assert.equal(rows.get('Request Count (requests)')[0], '3.00');
  assert.equal(rows.get('Input Images (images)')[0], '1.00');
  assert.equal(rows.get('Input Megapixels (MP)')[0], '0.01');
  assert.ok(!rows.has('Upload Time (ms)'), 'a browser cannot tell the upload time');
  await pairsShown(page, '.run-page', 3, 96, 128);
  const caption = await page.locator('.run-page .gallery-item .input-image .facts').first().textContent();
  assert.equal(caption, 'input 96×64');
  await screenshot(page, 'edit-run-synthetic');

  // Picked files, two per request (sent as image[]).
  await page.check('#refs-files');
  await page.setInputFiles('#ref-files', [
    { name: 'warm.png', mimeType: 'image/png', buffer: png(80, 80, [220, 120, 40]) },
    { name: 'cold.png', mimeType: 'image/png', buffer: png(40, 40, [30, 60, 200]) },
  ]);
  await page.fill('#ref-per-request', '2');
  await page.fill('#request-count', '2');
  await page.click('#run');
  await finished(page, 2);
  rows = await pageTable(page, '.run-page');
  assert.equal(rows.get('Input Images (images)')[0], '2.00');
  await pairsShown(page, '.run-page', 2, 80, 128);
  assert.equal(await page.locator('.run-page .gallery-item .input-image .facts').first().textContent(), 'input 80×80 (+1 more)');
  await screenshot(page, 'edit-run-files');

  // A file that is not an image stops the run before any request.
  await page.setInputFiles('#ref-files', [{ name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('just words') }]);
  await page.fill('#ref-per-request', '1');
  await page.click('#run');
  await page.waitForSelector('.status.invalid');
  const status = await page.textContent('.status');
  assert.match(status, /^Prompt 1: image "notes\.txt": is not a usable image/);
  assert.deepEqual(errors, []);
});

test('viewer: a CLI edit run exported with its input images shows each input beside its output', async (t) => {
  const web = await serveStatic();
  const browser = await launch();
  t.after(async () => { await browser.close(); web.close(); });
  const dir = mkdtempSync(join(tmpdir(), 'imgperf-e2e-edit-'));
  imgperf(['profile', '--mock', '--mock-latency-ms', '10', '--endpoint-type', 'image_edit',
    '--image-width-mean', '72', '--image-height-mean', '48', '--synthetic-input-tokens-mean', '12',
    '--num-dataset-entries', '2', '--extra-inputs', 'size:96x96', '--request-count', '4',
    '--export-level', 'raw', '--export-input-images', '--artifact-dir', dir, '--random-seed', '3', '--ui', 'none']);
  const raw = join(runDir(dir), 'profile_export_raw.jsonl');
  const { page, errors } = await openPage(browser, `${web.url}#viewer`);
  await page.setInputFiles('#viewer-files', raw);
  await page.waitForSelector('.report .gallery h3', { timeout: 60_000 });
  assert.equal(await page.textContent('.report table.metrics caption'), 'imgperf | Image Edit Metrics');
  await pairsShown(page, '.report', 4, 72, 96);
  await screenshot(page, 'viewer-edit-run');
  assert.deepEqual(errors, []);
});
