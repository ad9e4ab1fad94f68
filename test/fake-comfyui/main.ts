/**
 * Behaves like `python main.py` of ComfyUI for the supervisor tests and for manual use
 * (`npm run fake-comfyui -- --port 8188`): same flags, same log lines, same exit behaviour.
 *
 * Test-only behaviour comes from environment variables so the command line stays ComfyUI's:
 * FAKE_COMFYUI_START_DELAY_MS   wait this long before listening (loading custom nodes, models…)
 * FAKE_COMFYUI_FAIL_START       print a Python traceback and exit 1 during start
 * FAKE_COMFYUI_NO_GPU           PyTorch finds no GPU: without `--cpu`, fail at start with torch's error for
 *                               the cause: no-driver (or 1), cpu-build (PyTorch without CUDA), hidden (none visible)
 * FAKE_COMFYUI_STEP_DELAY_MS    delay per sampler step (also `--fake-step-delay-ms`)
 * FAKE_COMFYUI_LOAD_DELAY_MS    delay per model load
 * FAKE_COMFYUI_COMBO_FORMAT     recorded (default) | classic | v3
 * FAKE_COMFYUI_MODELS           JSON object of installed files by folder
 * FAKE_COMFYUI_JOURNAL          append "<pid> <prompt_id>" to this file for every queued prompt
 * FAKE_COMFYUI_TIMELINE         append {"id","start","end"} JSON lines (ms, sub-ms precision) per executed prompt
 * FAKE_COMFYUI_CRASH_ONCE_FILE  die (like a killed process) at the first sampler step, unless this file
 *                               exists; it is created first, so a restarted server runs normally
 */
import { appendFileSync, existsSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { startFakeComfyUI } from './fake-comfyui.js';

const { values } = parseArgs({
  strict: false,
  options: {
    listen: { type: 'string' },
    port: { type: 'string', default: '8188' },
    'output-directory': { type: 'string' },
    'enable-cors-header': { type: 'string' },
    'disable-metadata': { type: 'boolean' },
    cpu: { type: 'boolean' },
    'front-end-root': { type: 'string' },
    'fake-step-delay-ms': { type: 'string' },
  },
});

const env = process.env;
const number = (value: unknown, fallback = 0) => (value === undefined || value === '' ? fallback : Number(value));
// `--listen` without a value means every interface in ComfyUI.
const host = values.listen === undefined ? '127.0.0.1' : values.listen === true || values.listen === '' ? '0.0.0.0' : String(values.listen);

const cpu = values.cpu === true;
console.log('Checkpoint files will always be loaded safely.');
if (env.FAKE_COMFYUI_NO_GPU && !cpu) {
  // What torch raises when ComfyUI (without --cpu) asks for the current CUDA device and has none.
  const errors: Record<string, string> = {
    'no-driver':
      'RuntimeError: Found no NVIDIA driver on your system. Please check that you have an NVIDIA GPU and installed a driver from http://www.nvidia.com/Download/index.aspx',
    'cpu-build': 'AssertionError: Torch not compiled with CUDA enabled',
    hidden: 'RuntimeError: No CUDA GPUs are available',
  };
  console.error('Traceback (most recent call last):');
  console.error('  File "/ComfyUI/comfy/model_management.py", line 228, in get_torch_device');
  console.error('    return torch.device(torch.cuda.current_device())');
  console.error('  File "/ComfyUI/venv/lib/python3.12/site-packages/torch/cuda/__init__.py", line 372, in _lazy_init');
  console.error(errors[env.FAKE_COMFYUI_NO_GPU] ?? errors['no-driver']);
  process.exit(1);
}
console.log(cpu ? 'Total VRAM 64203 MB, total RAM 64203 MB' : 'Total VRAM 24217 MB, total RAM 64203 MB');
console.log('pytorch version: 2.9.0+cu128');
console.log(cpu ? 'Device: cpu' : 'Device: cuda:0 NVIDIA GeForce RTX 4090 : cudaMallocAsync');
console.log('ComfyUI version: 0.3.64');

await new Promise((resolve) => setTimeout(resolve, number(env.FAKE_COMFYUI_START_DELAY_MS)));
// FAIL_START_WHILE_FILE: a ComfyUI that fails to start until its owner fixes it (the test deletes the file).
if (env.FAKE_COMFYUI_FAIL_START || (env.FAKE_COMFYUI_FAIL_START_WHILE_FILE && existsSync(env.FAKE_COMFYUI_FAIL_START_WHILE_FILE))) {
  console.error('Traceback (most recent call last):');
  console.error('  File "/ComfyUI/main.py", line 147, in <module>');
  console.error('    import comfy.utils');
  console.error("ModuleNotFoundError: No module named 'torch'");
  process.exit(1);
}

try {
  const fake = await startFakeComfyUI({
    host,
    port: number(values.port, 8188),
    outputDirectory: typeof values['output-directory'] === 'string' ? values['output-directory'] : undefined,
    enableCorsHeader: values['enable-cors-header'] !== undefined,
    disableMetadata: values['disable-metadata'] === true,
    stepDelayMs: number(values['fake-step-delay-ms'] ?? env.FAKE_COMFYUI_STEP_DELAY_MS),
    loadDelayMs: number(env.FAKE_COMFYUI_LOAD_DELAY_MS),
    comboFormat: env.FAKE_COMFYUI_COMBO_FORMAT === 'v3' || env.FAKE_COMFYUI_COMBO_FORMAT === 'classic' ? env.FAKE_COMFYUI_COMBO_FORMAT : 'recorded',
    cpu,
    frontendDirectory: typeof values['front-end-root'] === 'string' ? values['front-end-root'] : undefined,
    models: env.FAKE_COMFYUI_MODELS ? JSON.parse(env.FAKE_COMFYUI_MODELS) : undefined,
    log: (line) => console.log(line),
  });
  if (env.FAKE_COMFYUI_JOURNAL) {
    const journal = env.FAKE_COMFYUI_JOURNAL;
    fake.events.on('queued', (id: string) => appendFileSync(journal, `${process.pid} ${id}\n`));
  }
  if (env.FAKE_COMFYUI_TIMELINE) {
    const timeline = env.FAKE_COMFYUI_TIMELINE;
    const starts = new Map<string, number>();
    const now = () => performance.timeOrigin + performance.now();
    fake.events.on('started', (id: string) => starts.set(id, now()));
    fake.events.on('done', (id: string) => appendFileSync(timeline, `${JSON.stringify({ id, start: starts.get(id), end: now() })}\n`));
  }
  if (env.FAKE_COMFYUI_CRASH_ONCE_FILE && !existsSync(env.FAKE_COMFYUI_CRASH_ONCE_FILE)) {
    const marker = env.FAKE_COMFYUI_CRASH_ONCE_FILE;
    fake.events.once('progress', () => {
      writeFileSync(marker, String(process.pid));
      process.kill(process.pid, 'SIGKILL');
    });
  }
  console.log('Starting server\n');
  console.log(`To see the GUI go to: ${fake.url}`);
  const stop = () => void fake.close().then(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
} catch (error) {
  const e = error as NodeJS.ErrnoException;
  if (e.code === 'EADDRINUSE') {
    console.error(`OSError: [Errno 98] error while attempting to bind on address ('${host}', ${values.port}): address already in use`);
  } else {
    console.error(String(error));
  }
  process.exit(1);
}
