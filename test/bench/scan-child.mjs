// Child process for the cache-hit scan benchmark, on the built package (what users run):
// scan + key + manifest check, then report time and peak RSS.
// Imported by file: only what the scan needs, not the client, supervisor and pool.
const dist = new URL('../../packages/astro-comfyui/dist/', import.meta.url);
const { collectPostImages } = await import(new URL('collect-post-images.js', dist).href);
const { resolveOptions } = await import(new URL('options.js', dist).href);
const { classifyImages } = await import(new URL('classify-images.js', dist).href);

const root = process.argv[2];
const options = resolveOptions({ mode: 'frozen', formats: { hero: { width: 64, height: 64 } } }, root, {});
const started = performance.now();
// The CPU time of every thread of the process (the reader thread, V8's collector and compilers): what
// the check costs whatever the number of cores, and, divided by that number, the least wall time it can
// take. And the main thread's own (Node 22.19+): with the work divided as it is, more cores do not shorten it.
const cpuBefore = process.cpuUsage();
const mainBefore = process.threadCpuUsage?.();
const { images, problems } = await collectPostImages(options);
const states = await classifyImages(images, options);
const ms = performance.now() - started;
const cpu = process.cpuUsage(cpuBefore);
const main = mainBefore && process.threadCpuUsage(mainBefore);
const ready = [...states.values()].filter((s) => s === 'ready').length;
process.stdout.write(
  JSON.stringify({
    ms,
    cpuMs: (cpu.user + cpu.system) / 1000,
    mainCpuMs: main ? (main.user + main.system) / 1000 : null,
    maxRssMb: process.resourceUsage().maxRSS / 1024,
    images: images.length,
    ready,
    problems: problems.length,
  }),
);
