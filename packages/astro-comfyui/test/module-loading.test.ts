import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

const dist = fileURLToPath(new URL('../dist/', import.meta.url));
const comfyuiDist = fileURLToPath(new URL('../../comfyui/dist/', import.meta.url));

/** Runs Node with `args` in a new process; what it printed, with a line for each undici, execa or vite module loaded. */
async function runWatchingLoads(args: string[]): Promise<{ stdout: string; stderr: string; status: number | null }> {
  const dir = await mkdtemp(path.join(tmpdir(), 'loading-'));
  try {
    // Synchronous hooks on the main thread (module.register() is deprecated from Node 26 and says so on stderr).
    await writeFile(
      path.join(dir, 'register.mjs'),
      `import { registerHooks } from 'node:module';
registerHooks({
  resolve(specifier, context, next) {
    const resolved = next(specifier, context);
    if (/node_modules\\/(undici|execa|vite)\\//.test(resolved.url)) process.stderr.write(\`loaded \${resolved.url} from \${context.parentURL}\\n\`);
    return resolved;
  },
});
`,
    );
    const result = spawnSync(process.execPath, ['--import', path.join(dir, 'register.mjs'), ...args], { encoding: 'utf8', cwd: dir });
    return { stdout: result.stdout, stderr: result.stderr, status: result.status };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

// Every Astro command loads the integration (astro check, astro sync, a CI build that never calls ComfyUI):
// the HTTP client and the process supervisor are loaded only when ComfyUI is to be reached.
it('loads neither undici, execa nor Vite when astro.config imports the integration', async () => {
  const script = `const { default: comfyui } = await import(${JSON.stringify(path.join(dist, 'index.js'))}); comfyui({}); process.stderr.write('imported\\n');`;
  const result = await runWatchingLoads(['--input-type=module', '-e', script]);
  expect(result.stderr).toBe('imported\n');
  expect(result.status).toBe(0);
});

// Most runs that reach ComfyUI never start one (a GPU machine on the network, a ComfyUI already running):
// they load the HTTP client, and execa only once a start command is run.
it('loads execa only when it starts ComfyUI, not to reach one', async () => {
  const script = `const { ensureComfyUI } = await import(${JSON.stringify(path.join(comfyuiDist, 'index.js'))});
const tryIt = (options) => ensureComfyUI({ url: 'http://127.0.0.1:9', ...options }).then((s) => s.dispose(), (error) => process.stderr.write(error.code + '\\n'));
await tryIt({});
process.stderr.write('reached\\n');
await tryIt({ start: { cwd: process.cwd(), python: process.execPath, args: ['-e', 'process.exit(3)'] } });`;
  const result = await runWatchingLoads(['--input-type=module', '-e', script]);
  const [reaching = '', starting = ''] = result.stderr.split('reached\n');
  expect(reaching).toMatch(/^loaded \S+\/node_modules\/undici\//);
  expect(reaching).toContain('UNREACHABLE\n');
  expect(reaching).not.toContain('/execa/');
  expect(starting).toMatch(/^loaded \S+\/node_modules\/execa\/index\.js from \S+\/comfyui-supervisor\.js$/m);
  expect(result.status).toBe(0);
});

// Scripts ask `npx astro-comfyui --version`, and a mistyped flag should answer at once.
it('answers --help, --version and a usage error without loading Vite, the HTTP client or execa', async () => {
  const bin = fileURLToPath(new URL('../bin/astro-comfyui.js', import.meta.url));
  const version = await runWatchingLoads([bin, '--version']);
  expect(version.stderr).toBe('');
  expect(version.stdout).toMatch(/^\d+\.\d+\.\d+\n$/);
  const help = await runWatchingLoads([bin, '--help']);
  expect(help.stderr).toBe('');
  expect(help.stdout).toContain('Usage:');
  const mistyped = await runWatchingLoads([bin, 'generate', '--frce']);
  expect(mistyped.stderr).toMatch(/^error: .*--frce/);
  expect(mistyped.stderr).not.toMatch(/^loaded /m);
  expect(mistyped.status).toBe(2);
});
