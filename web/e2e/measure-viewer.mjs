// Memory and time of the viewer opening a large raw export (not part of the
// tests): `node measure-viewer.mjs [raw.jsonl]`. Without an argument it
// generates one with the CLI against its embedded mock (1024x1024 PNG,
// --export-level raw, IMGPERF_MEASURE_REQUESTS requests, default 150).
// Reports the page's renderer process (the Chromium renderer whose memory
// grows; the others are spare/utility renderers): its peak resident memory
// (kernel's VmHWM) and peak proportional set size (PSS, shared pages split,
// sampled every 50 ms from /proc/<pid>/smaps_rollup), the JS heap (CDP
// Performance.getMetrics) and the wasm linear memory.
import { existsSync, readFileSync, readdirSync, statSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serveStatic, launch, openPage, screenshot, imgperf, runDir } from './lib.mjs';

let raw = process.argv[2];
if (!raw) {
  const dir = mkdtempSync(join(tmpdir(), 'imgperf-measure-'));
  const n = process.env.IMGPERF_MEASURE_REQUESTS || '150';
  console.log(`generating a raw export of ${n} 1024x1024 PNG requests under ${dir}`);
  imgperf(['profile', '--mock', '--mock-latency-ms', '1', '--synthetic-input-tokens-mean', '40',
    '--extra-inputs', 'size:1024x1024', '--concurrency', '4', '--request-count', n,
    '--export-level', 'raw', '--artifact-dir', dir, '--random-seed', '3', '--ui', 'none']);
  raw = join(runDir(dir), 'profile_export_raw.jsonl');
}
const size = statSync(raw).size;

/** PIDs of Chromium renderer processes. */
function renderers() {
  return readdirSync('/proc').filter((p) => /^\d+$/.test(p)).filter((p) => {
    try { return readFileSync(`/proc/${p}/cmdline`, 'utf8').includes('--type=renderer'); } catch { return false; }
  });
}
function kb(pid, field, file = 'status') {
  try {
    const m = readFileSync(`/proc/${pid}/${file}`, 'utf8').match(new RegExp(`${field}:\\s+(\\d+) kB`));
    return m ? Number(m[1]) : 0;
  } catch { return 0; }
}

const web = await serveStatic();
const browser = await launch();
const { page, errors } = await openPage(browser, `${web.url}#viewer`);
const cdp = await page.context().newCDPSession(page);
await cdp.send('Performance.enable');
const before = renderers();
const peakPss = new Map();
const sampler = setInterval(() => {
  for (const p of renderers()) peakPss.set(p, Math.max(peakPss.get(p) || 0, kb(p, 'Pss', 'smaps_rollup')));
}, 50);

const t0 = Date.now();
await page.setInputFiles('#viewer-files', raw);
await page.waitForSelector('.report .gallery h3', { timeout: 600_000 });
const loadedMs = Date.now() - t0;
// Scroll through the first gallery page so every lazy image of it loads (worst case).
await page.evaluate(() => window.scrollTo(0, document.body.scrollHeight));
await page.waitForFunction(() => [...document.querySelectorAll('.report .gallery-item img')]
  .filter((i) => i.complete && i.naturalWidth > 0).length >= Math.min(24, document.querySelectorAll('.report .gallery-item').length),
null, { timeout: 120_000 });
const shownMs = Date.now() - t0;
await new Promise((ok) => setTimeout(ok, 500));
clearInterval(sampler);
const metrics = Object.fromEntries((await cdp.send('Performance.getMetrics')).metrics.map((m) => [m.name, m.value]));
const wasm = await page.evaluate(() => window.wasmBindings.wasm_memory_bytes());
const procs = renderers().map((p) => ({ pid: p, hwmKb: kb(p, 'VmHWM'), rssKb: kb(p, 'VmRSS'),
  pssKb: kb(p, 'Pss', 'smaps_rollup'), peakPssKb: peakPss.get(p) || 0 }));
const pageProc = procs.reduce((a, b) => (b.hwmKb > a.hwmKb ? b : a));
const mb = (b) => (b / 1e6).toFixed(1);
console.log(JSON.stringify({
  file: raw,
  file_mb: mb(size),
  gallery: await page.textContent('.report .gallery h3'),
  table_rows: await page.locator('.report table.metrics tbody tr').count(),
  read_to_table_and_gallery_s: (loadedMs / 1000).toFixed(1),
  first_page_of_images_shown_s: (shownMs / 1000).toFixed(1),
  page_renderer_peak_rss_mb: mb(pageProc.hwmKb * 1024),
  page_renderer_peak_pss_mb: mb(pageProc.peakPssKb * 1024),
  page_renderer_rss_after_mb: mb(pageProc.rssKb * 1024),
  other_renderers_peak_rss_mb: procs.filter((p) => p !== pageProc).map((p) => mb(p.hwmKb * 1024)),
  js_heap_used_mb: mb(metrics.JSHeapUsedSize),
  js_heap_total_mb: mb(metrics.JSHeapTotalSize),
  wasm_memory_mb: mb(wasm),
  renderers_before: before.length,
  page_errors: errors,
}, null, 2));
await screenshot(page, 'viewer-200mb');
await browser.close();
web.close();
