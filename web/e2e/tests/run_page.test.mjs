// Browser test 1: the run page against `imgperf serve-mock --cors`: fill the
// form, run 3 requests, get 3 images, the metrics table, and downloads in the
// CLI's formats (the CLI's `extract` reads the raw export; no secret leaks).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { ARTIFACTS, runPageAgainstMock, screenshot, imgperf, pageTable } from '../lib.mjs';

const SECRET = 'sk-e2e-secret-key-123';

async function save(page, buttonText, dir) {
  const [dl] = await Promise.all([page.waitForEvent('download'), page.click(`.downloads button:text-is("${buttonText}")`)]);
  const path = join(dir, dl.suggestedFilename());
  await dl.saveAs(path);
  return path;
}

test('run page: 3 requests against serve-mock --cors show 3 images, the table, and CLI-format downloads', async (t) => {
  const { mock, page, errors } = await runPageAgainstMock(t, { cors: true });

  await page.fill('#url', mock.url);
  await page.fill('#model', 'mock-image-model');
  await page.fill('#api-key', SECRET);
  await page.fill('#prompts', 'A serene mountain landscape at sunset\nA futuristic city with flying cars\nA cute robot playing with a kitten');
  await page.fill('#size', '256x256');
  await page.fill('#concurrency', '1');
  await page.fill('#request-count', '3');
  await page.click('#run');

  await page.waitForFunction(() => document.querySelector('#progress')?.textContent.startsWith('3 / 3 done'), null, { timeout: 60_000 });
  await page.waitForFunction(() => [...document.querySelectorAll('.run-page .gallery-item img')]
    .filter((i) => i.complete && i.naturalWidth === 256).length === 3, null, { timeout: 30_000 });
  assert.equal(await page.locator('.run-page .gallery-item').count(), 3);
  const facts = await page.locator('.run-page .gallery-item .facts').allTextContents();
  assert.ok(facts.every((f) => f.includes('256×256') && f.includes('png')), facts.join(' | '));
  const progress = await page.textContent('#progress');
  assert.match(progress, /^3 \/ 3 done · 0 errors · 0 in flight · latency so far: avg \d+ ms/);

  const rows = await pageTable(page, '.run-page');
  assert.equal(rows.get('Request Count (requests)')[0], '3.00');
  assert.equal(rows.get('Error Request Count (requests)')[0], '0.00');
  assert.deepEqual(rows.get('Input Sequence Length (tokens)').slice(0, 3), ['6.67', '6.00', '7.00'], 'the tutorial prompts are 7, 6, 7 GPT-2 tokens');
  assert.ok(rows.get('Request Latency (ms)').every((c) => /^[\d,]+\.\d\d$/.test(c)));
  assert.equal(await page.locator('.cors-error').count(), 0);
  await screenshot(page, 'run-page');

  const dir = join(ARTIFACTS, 'run-page-downloads');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const summary = JSON.parse(readFileSync(await save(page, 'summary JSON', dir), 'utf8'));
  assert.equal(summary.request_count.avg, 3);
  assert.equal(summary.error_request_count.avg, 0);
  assert.match(summary.input_config.cli_command, /--api-key <redacted>/);
  const records = readFileSync(await save(page, 'profile_export.jsonl', dir), 'utf8').trim().split('\n');
  assert.equal(records.length, 3);
  assert.equal(JSON.parse(records[0]).metadata.benchmark_phase, 'profiling');
  const rawPath = await save(page, 'profile_export_raw.jsonl', dir);
  const raw = readFileSync(rawPath, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(raw.length, 3);
  assert.equal(raw[0].request_headers.Authorization, '<redacted>');
  // What the tutorial's extract_images.py reads: responses[].text → data[].b64_json.
  assert.ok(JSON.parse(raw[0].responses[0].text).data[0].b64_json.length > 100);
  const csv = readFileSync(await save(page, 'summary CSV', dir), 'utf8');
  assert.match(csv, /^Metric,avg,min,max,sum,p1,/);
  for (const f of readdirSync(dir)) assert.ok(!readFileSync(join(dir, f), 'utf8').includes(SECRET), `${f} holds the API key`);

  // The CLI reads the browser's raw export.
  const out = join(dir, 'extracted');
  imgperf(['extract', rawPath, out]);
  assert.equal(readdirSync(out).filter((f) => f.endsWith('.png')).length, 3);
  assert.deepEqual(errors, []);
});
