// The run page's Web Worker (a module worker, started by the page with
// `new Worker("worker.js", {type: "module"})`): it loads the app's own wasm
// module (the browser has it cached) and hands over to its worker half,
// which runs the benchmark off the page's thread. The names are fixed:
// Trunk.toml sets filehash = false.
import init, { worker_main } from './imgperf-web.js';

await init({ module_or_path: './imgperf-web_bg.wasm' });
worker_main();
