// Browser test: video jobs. The run page runs video_generation against
// `imgperf serve-mock --cors` (fetch polling), shows the "Video Generation
// Metrics" table and plays the MP4s in `<video>` cards; the CLI extracts the
// browser's raw export; image-to-video jobs upload a picked reference; the
// viewer opens a CLI video run with the CLI's table.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ARTIFACTS, runPageAgainstMock, serveStatic, launch, openPage, screenshot, imgperf, runDir, parseConsoleTable, pageTable, png } from '../lib.mjs';

/** Cards whose video is ready to play at this width. */
async function videosShown(page, scope, n, width) {
  await page.waitForFunction(([scope, n, width]) => [...document.querySelectorAll(`${scope} .gallery-item video`)]
    .filter((v) => v.readyState >= 1 && v.videoWidth === width).length === n, [scope, n, width], { timeout: 60_000 });
}

test('run page: video jobs are polled, tabled and played; the CLI reads the export', async (t) => {
  const { mock, page, errors } = await runPageAgainstMock(t, { cors: true });

  await page.fill('#url', mock.url);
  await page.fill('#model', 'mock-video-model');
  await page.selectOption('#endpoint-type', 'video_generation');
  assert.equal(await page.inputValue('#endpoint'), '/v1/videos');
  await page.fill('#prompts', 'A lighthouse in a storm\nA kite over a beach');
  await page.fill('#size', '256x144');
  await page.fill('#extra', '{"seconds": 2, "fps": 12}');
  await page.fill('#concurrency', '1');
  await page.fill('#request-count', '2');
  await page.click('#run');

  await page.waitForFunction(() => document.querySelector('#progress')?.textContent.startsWith('2 / 2 done'), null, { timeout: 60_000 });
  await videosShown(page, '.run-page', 2, 256);
  const caption = await page.textContent('.run-page table.metrics caption');
  assert.match(caption, /Video Generation Metrics/);
  const rows = await pageTable(page, '.run-page');
  assert.equal(rows.get('Request Count (requests)')[0], '2.00');
  assert.equal(rows.get('Video Frames (frames)')[0], '24.00');
  assert.ok(Number(rows.get('Poll Count (polls)')[0]) >= 1);
  assert.equal(rows.get('Requests with Video Issues (requests)')[0], '0.00');
  await screenshot(page, 'run-page-video');

  const dir = join(ARTIFACTS, 'run-page-video-downloads');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const [dl] = await Promise.all([page.waitForEvent('download'), page.click('.downloads button:text-is("profile_export_raw.jsonl")')]);
  const rawPath = join(dir, dl.suggestedFilename());
  await dl.saveAs(rawPath);
  const raw = readFileSync(rawPath, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(raw.length, 2);
  // Every answer is JSON; the last is the content, with a url (download_videos.py).
  for (const line of raw) for (const r of line.responses) JSON.parse(r.text);
  assert.equal(JSON.parse(raw[0].responses.at(-1).text).object, 'video.content');
  const out = join(dir, 'extracted');
  imgperf(['extract', rawPath, out]);
  assert.equal(readdirSync(out).filter((f) => f.endsWith('.mp4')).length, 2);
  assert.deepEqual(errors, []);
});

test('run page: image-to-video jobs upload a picked reference as input_reference', async (t) => {
  const { mock, page, errors } = await runPageAgainstMock(t, { cors: true });

  await page.fill('#url', mock.url);
  await page.fill('#model', 'Wan-AI/Wan2.1-I2V-14B-480P-Diffusers');
  await page.selectOption('#endpoint-type', 'video_generation');
  assert.equal(await page.locator('#edit-references').count(), 0, 'text-to-video unless asked');
  await page.check('#i2v');
  await page.check('#refs-files');
  await page.setInputFiles('#ref-files', [{ name: 'red.png', mimeType: 'image/png', buffer: png(64, 48, [230, 20, 20]) }]);
  await page.fill('#prompts', 'The lantern sways\nThe lantern glows');
  await page.fill('#size', '64x48');
  await page.fill('#extra', '{"num_frames": 9, "fps": 8}');
  await page.fill('#concurrency', '1');
  await page.fill('#request-count', '2');
  await page.click('#run');
  await page.waitForFunction(() => document.querySelector('#progress')?.textContent.startsWith('2 / 2 done'), null, { timeout: 60_000 });
  await videosShown(page, '.run-page', 2, 64);
  assert.match(await page.textContent('.run-page table.metrics caption'), /Video Generation Metrics/);
  const rows = await pageTable(page, '.run-page');
  assert.equal(rows.get('Error Request Count (requests)')[0], '0.00');
  assert.equal(rows.get('Input Images (images)')[0], '1.00');

  const dir = join(ARTIFACTS, 'run-page-i2v-downloads');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const [dl] = await Promise.all([page.waitForEvent('download'), page.click('.downloads button:text-is("profile_export_raw.jsonl")')]);
  const rawPath = join(dir, dl.suggestedFilename());
  await dl.saveAs(rawPath);
  const raw = readFileSync(rawPath, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  for (const line of raw) {
    assert.equal(line.payload.files[0].name, 'input_reference');
    assert.equal(line.payload.files[0].width, 64);
  }
  await screenshot(page, 'run-page-i2v');
  assert.deepEqual(errors, []);
});

test('viewer: a CLI video run shows the CLI table and plays every video', async (t) => {
  const web = await serveStatic();
  const browser = await launch();
  t.after(async () => { await browser.close(); web.close(); });
  const dir = mkdtempSync(join(tmpdir(), 'imgperf-e2e-video-'));
  const stdout = imgperf(['profile', '--mock', '--mock-latency-ms', '40', '--endpoint-type', 'video_generation',
    '--synthetic-input-tokens-mean', '12', '--extra-inputs', 'size:160x96', '--extra-inputs', 'num_frames:16',
    '--extra-inputs', 'fps:8', '--download-video-content', '--video-poll-interval', '0.02', '--concurrency', '2',
    '--request-count', '4', '--export-level', 'raw', '--artifact-dir', dir, '--random-seed', '3', '--ui', 'none']);
  const table = parseConsoleTable(stdout);
  assert.ok(table.has('Queue Time (ms)'), stdout);
  const run = runDir(dir);
  const { page, errors } = await openPage(browser, `${web.url}#viewer`);
  await page.setInputFiles('#viewer-files', join(run, 'profile_export_raw.jsonl'));
  await page.waitForSelector('.report .gallery h3', { timeout: 60_000 });
  assert.equal(await page.textContent('.report .gallery h3'), 'Gallery (4 videos)');
  await videosShown(page, '.report', 4, 160);
  assert.match(await page.textContent('.report table.metrics caption'), /Video Generation Metrics/);
  const shown = await pageTable(page, '.report');
  assert.deepEqual([...shown.keys()], [...table.keys()], 'same rows, same order as the CLI');
  for (const [label, cells] of table) assert.deepEqual(shown.get(label), cells, label);
  await screenshot(page, 'viewer-video');
  assert.deepEqual(errors, []);
});
