import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveOptions } from '../src/options.js';

describe('resolveOptions', () => {
  it('fills every default', () => {
    const o = resolveOptions(undefined, '/site', {});
    expect(o).toMatchObject({
      endpoints: ['http://127.0.0.1:8188'],
      queueAhead: 1,
      content: ['src/content/**/*.{md,mdx}'],
      field: 'image',
      listField: 'images',
      model: { preset: 'large-turbo', checkpoint: 'sd3.5_large_turbo.safetensors' },
      defaultFormat: 'hero',
      outDir: '/site/src/assets/generated',
      manifestFile: '/site/src/assets/generated/images.lock.json',
      mode: 'generate',
      onMissing: 'error',
      concurrency: 2,
    });
    expect(o.formats.hero).toEqual({ width: 1344, height: 768 });
  });

  it('reads COMFYUI_URL (comma-separated) and defaults to frozen mode on CI', () => {
    const o = resolveOptions({}, '/site', { COMFYUI_URL: 'http://gpu1:8188, http://gpu2:8188', CI: 'true' });
    expect(o.endpoints).toEqual(['http://gpu1:8188', 'http://gpu2:8188']);
    expect(o.mode).toBe('frozen');
    expect(o.concurrency).toBe(4);
    expect(resolveOptions({ mode: 'generate' }, '/site', { CI: '1' }).mode).toBe('generate');
    // Left empty (a .env made from a template): the default, not a pool of no endpoint.
    expect(resolveOptions({}, '/site', { COMFYUI_URL: '' }).endpoints).toEqual(['http://127.0.0.1:8188']);
    expect(resolveOptions({}, '/site', { COMFYUI_URL: ' , ' }).endpoints).toEqual(['http://127.0.0.1:8188']);
  });

  it("puts the default posts and images folders in Astro's srcDir, and leaves written ones as they are", () => {
    const moved = resolveOptions({}, '/site', {}, '/site/public', '/site/website');
    expect(moved.content).toEqual(['website/content/**/*.{md,mdx}']);
    expect(moved.outDir).toBe(path.resolve('/site/website/assets/generated'));
    const atRoot = resolveOptions({}, '/site', {}, '/site/public', '/site');
    expect(atRoot.content).toEqual(['content/**/*.{md,mdx}']);
    expect(atRoot.outDir).toBe(path.resolve('/site/assets/generated'));
    const written = resolveOptions({ content: ['posts/*.md'], outDir: 'images' }, '/site', {}, '/site/public', '/site/website');
    expect([written.content, written.outDir]).toEqual([['posts/*.md'], path.resolve('/site/images')]);
    expect(resolveOptions({}, '/site', {}).content).toEqual(['src/content/**/*.{md,mdx}']);
  });

  it('takes the ComfyUI folder of start relative to the project root, not to where astro runs', () => {
    expect(resolveOptions({ start: { cwd: '../ComfyUI', python: 'venv/bin/python' } }, '/work/site', {}).start).toEqual({
      cwd: '/work/ComfyUI',
      python: 'venv/bin/python',
    });
    expect(resolveOptions({ start: { cwd: '/opt/ComfyUI' } }, '/work/site', {}).start?.cwd).toBe('/opt/ComfyUI');
  });

  it("sets a shared config's start aside when this machine's COMFYUI_URL points elsewhere, and refuses the two together in the options", () => {
    const start = { cwd: '/opt/ComfyUI' };
    // A local address, from the options or from COMFYUI_URL: started there.
    for (const url of ['http://127.0.0.1:8189', 'http://localhost:8188', 'http://[::1]:8188', 'http://0.0.0.0:8188']) {
      expect(resolveOptions({ start }, '/s', { COMFYUI_URL: url }), url).toMatchObject({ start, startNotUsed: undefined });
      expect(resolveOptions({ endpoints: url, start }, '/s', {}), url).toMatchObject({ start, startNotUsed: undefined });
    }
    const remote = resolveOptions({ start }, '/s', { COMFYUI_URL: 'https://ann:s3cret@gpu-box.lan/comfyui' });
    expect(remote).toMatchObject({ endpoints: ['https://ann:s3cret@gpu-box.lan/comfyui'], start: undefined });
    expect(remote.startNotUsed).toBe(
      'COMFYUI_URL points at https://gpu-box.lan/comfyui, another machine: the start command in astro.config, which starts ComfyUI on this machine, is not used.',
    );
    const several = resolveOptions({ start }, '/s', { COMFYUI_URL: 'http://127.0.0.1:8188,http://gpu2:8188' });
    expect(several.start).toBeUndefined();
    expect(several.startNotUsed).toMatch(/^COMFYUI_URL points at http:\/\/127\.0\.0\.1:8188, http:\/\/gpu2:8188, several ComfyUIs: /);
    // Written in the options, the endpoint wins over COMFYUI_URL, and a remote one with start is the config's mistake.
    expect(() => resolveOptions({ endpoints: 'http://gpu-box.lan:8188', start }, '/s', { COMFYUI_URL: 'http://127.0.0.1:8188' })).toThrow(
      '"start" starts ComfyUI on this machine, but endpoints is http://gpu-box.lan:8188, another machine.',
    );
    expect(resolveOptions({ endpoints: 'http://127.0.0.1:8188', start }, '/s', { COMFYUI_URL: 'http://gpu-box.lan:8188' }).start).toEqual(start);
  });

  it("refuses an outDir inside Astro's public folder, which would publish every full-size PNG and prompt", () => {
    // Folders whose names start with two dots are still inside.
    for (const outDir of ['public', 'public/generated', './public/ai/images', 'public/..drafts', 'public/...'])
      expect(() => resolveOptions({ outDir }, '/site', {})).toThrow(/inside Astro's public folder, which is published as it is/);
    expect(() => resolveOptions({ outDir: 'static/ai' }, '/site', {}, '/site/static')).toThrow(/inside Astro's public folder/);
    for (const outDir of ['publications/ai', 'src/assets/public', 'public/ai'])
      expect(resolveOptions({ outDir }, '/site', {}, '/site/static').outDir).toBe(path.join('/site', outDir));
    expect(resolveOptions({ outDir: 'public/../src/ai' }, '/site', {}).outDir).toBe(path.join('/site', 'src/ai'));
  });

  it('refuses an outDir outside the project that does not exist, and says to drop a leading "/"', () => {
    const root = mkdtempSync(path.join(tmpdir(), 'options-'));
    try {
      expect(() => resolveOptions({ outDir: '/src/assets/generated' }, root, {})).toThrow(
        expect.objectContaining({
          message: `astro-comfyui: outDir "/src/assets/generated" is outside the project (${root}) and does not exist; images there would not be committed with the site.`,
          hint: expect.stringContaining('write "src/assets/generated", without the leading "/"'),
        }),
      );
      expect(() => resolveOptions({ outDir: '../generated' }, root, {})).toThrow(/outside the project .* and does not exist/);
      // A folder outside that exists is meant (a site in a subfolder of its repository, say).
      const shared = mkdtempSync(path.join(tmpdir(), 'shared-'));
      expect(resolveOptions({ outDir: shared }, root, {}).outDir).toBe(shared);
      rmSync(shared, { recursive: true });
      expect(resolveOptions({ outDir: 'src/assets/generated' }, root, {}).outDir).toBe(path.join(root, 'src/assets/generated'));
    } finally {
      rmSync(root, { recursive: true });
    }
  });

  it('reports every invalid option with its path', () => {
    expect(() => resolveOptions({ queueAhead: -1, formats: { hero: { width: 1000, height: 768 } } } as never, '/s', {})).toThrow(
      'Invalid astro-comfyui options in astro.config:\n- queueAhead must be at least 0.\n- formats.hero.width must be a multiple of 16.',
    );
    expect(() => resolveOptions({ colour: 'red' } as never, '/s', {})).toThrow(/- unknown option "colour"; the options are endpoints, start, .*toolbar\./);
    expect(() => resolveOptions({ mode: 'fast', queueAhead: 'two' } as never, '/s', {})).toThrow(
      /- queueAhead must be a number, got the text "two"\.\n- mode must be one of: "generate", "frozen", "force"; got the text "fast"\./,
    );
    expect(() => resolveOptions({ endpoints: 'gpu:8188' }, '/s', {})).toThrow(/Invalid ComfyUI endpoint "gpu:8188"/);
    // One ComfyUI listed twice, however it is written: named once, without its password, and what to do instead.
    expect(() => resolveOptions({}, '/s', { COMFYUI_URL: 'http://GPU-box:8188/,http://ann:s3cret@gpu-box:8188' })).toThrow(
      'COMFYUI_URL lists http://gpu-box:8188 twice; each endpoint is one ComfyUI.',
    );
    expect(() => resolveOptions({ endpoints: ['http://a:1', 'http://b:1', 'http://a:1/'], queueAhead: 2 }, '/s', {})).toThrow(
      expect.objectContaining({
        message: expect.stringContaining('endpoints lists http://a:1 twice'),
        hint: expect.stringContaining('raise queueAhead (2 now)'),
      }),
    );
    expect(() => resolveOptions({ defaultFormat: 'toString' }, '/s', {})).toThrow('defaultFormat uses unknown format "toString"');
    expect(() => resolveOptions({ presets: { cover: { style: 'nope' } } }, '/s', {})).toThrow(/preset "cover" uses unknown style "nope"/);
    expect(() => resolveOptions({ defaultFormat: 'huge' }, '/s', {})).toThrow(/unknown format "huge"/);
    expect(() => resolveOptions({ outDir: 'node_modules/x' }, '/s', {})).toThrow(/inside node_modules/);
    expect(() => resolveOptions({ endpoints: ['http://a:1', 'http://b:1'], start: { cwd: '/c' } }, '/s', {})).toThrow(/single endpoint/);
  });
});
