import { mkdir, mkdtemp, readFile, readdir, rename, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { useCleanups } from '../helpers/cleanups.js';
import { fakeStartCommand, isProcessAlive } from '../helpers/fake-launcher.js';
import { childEnv, cliBin, copyFixture, replaceInFile, runAstro, runCli, setupBlogWithFake, waitForOutput, waitUntil } from '../helpers/fixture-site.js';
import { buildTestGraph } from '../helpers/sd35-graph.js';
import { readPngInfo } from '../fake-comfyui/encode-png.js';
import { findFreePort } from '../helpers/find-free-port.js';
import { TINY_PNG } from '../helpers/tiny-png.js';
import { deadPid } from '../helpers/dead-pid.js';

const cleanups = useCleanups();

const setup = () => setupBlogWithFake(cleanups);

const manifestKeys = async (root: string) => Object.keys(JSON.parse(await readFile(path.join(root, 'src/assets/generated/images.lock.json'), 'utf8')).images);

describe('astro-comfyui CLI', () => {
  it('generates with --dry-run, --only and --force, and reports status with exit codes', async () => {
    const { fake, root, env } = await setup();
    const dry = await runCli(root, ['generate', '--dry-run'], env);
    expect(dry.exitCode, dry.all as string).toBe(0);
    expect(dry.stdout).toContain('Would generate 4 of 4 images:');
    expect(dry.stdout).toContain('src/content/blog/lighthouse.md › image → lighthouse-');
    expect(fake.stats.promptsQueued).toBe(0);

    const missing = await runCli(root, ['status'], env);
    expect(missing.exitCode).toBe(3);
    expect(missing.stdout).toContain(`${fake.url}: up — ComfyUI 0.3.64`);
    expect(missing.stdout).toContain('images: 4 (0 generated, 0 placeholders, 4 missing)');

    const bare = await runCli(root, ['generate', '--only', 'harbour.md'], env);
    expect(bare.exitCode, bare.all as string).toBe(0);
    expect(bare.stderr).toContain(
      'No post with an image prompt matches --only "harbour.md" (matched against paths such as src/content/blog/gallery.md). For that name in any folder: --only "**/harbour.md".',
    );
    expect(fake.stats.promptsQueued).toBe(0);
    const only = await runCli(root, ['generate', '--only', 'src/content/blog/harbour.md'], env);
    expect(only.exitCode, only.all as string).toBe(0);
    expect(fake.stats.promptsQueued).toBe(1);
    expect(only.stdout).toContain('1 image: 0 already generated, 1 generated now');

    const rest = await runCli(root, ['generate'], { ...env, CI: '1' });
    expect(rest.exitCode, rest.all as string).toBe(0);
    expect(fake.stats.promptsQueued).toBe(4);

    const ok = await runCli(root, ['status'], env);
    expect(ok.exitCode, ok.all as string).toBe(0);
    expect(ok.stdout).toContain('images: 4 (4 generated, 0 placeholders, 0 missing)');

    const forced = await runCli(root, ['generate', '--force'], env);
    expect(forced.exitCode, forced.all as string).toBe(0);
    expect(fake.stats.promptsQueued).toBe(8);
  });

  it("generates with the author's own workflow file: each post's values and the options' fill its bindings, and CI builds keep the images", async () => {
    const { fake, root, env } = await setup();
    const graph = buildTestGraph({ text: 'unbound text', steps: 3 });
    await mkdir(path.join(root, 'flows'));
    const writeFlow = () => writeFile(path.join(root, 'flows/my-flow.json'), JSON.stringify(graph));
    await writeFlow();
    const bindings = {
      prompt: '3.inputs.text',
      negative: '4.inputs.text',
      seed: '7.inputs.seed',
      width: '5.inputs.width',
      height: '5.inputs.height',
      steps: '7.inputs.steps',
    };
    const withFlow = { ...env, ASTRO_COMFYUI_TEST_OPTIONS: JSON.stringify({ workflow: { file: 'flows/my-flow.json', bindings }, model: { steps: 2 } }) };

    const generated = await runCli(root, ['generate'], withFlow);
    expect(generated.exitCode, generated.all as string).toBe(0);
    expect(generated.all).not.toContain('binds no');
    // What ran is what ComfyUI stores in each image's "prompt" text, as the committed files keep it.
    const dir = path.join(root, 'src/assets/generated');
    const files = (await readdir(dir)).filter((name) => name.endsWith('.png'));
    const ran = await Promise.all(files.map(async (name) => JSON.parse(readPngInfo(await readFile(path.join(dir, name))).text.prompt!) as typeof graph));
    expect(ran).toHaveLength(4);
    const lighthouse = ran.find((g) => g['3']!.inputs.text === 'a watercolor painting of a lighthouse at dusk')!;
    expect(lighthouse['4']!.inputs.text).toBe('photo, text');
    expect(lighthouse['7']!.inputs).toMatchObject({ seed: 7, steps: 2, sampler_name: 'euler' });
    expect(lighthouse['5']!.inputs).toMatchObject({ width: 256, height: 144 });
    expect(String(lighthouse['9']!.inputs.filename_prefix)).toMatch(/^astro-comfyui\/[0-9a-f]{12}$/);

    const manifest = JSON.parse(await readFile(path.join(root, 'src/assets/generated/images.lock.json'), 'utf8'));
    const models = manifest.models as Record<string, unknown>;
    const entries = Object.values(manifest.images) as Array<{ file: string; workflow: string; model: string; width: number; height: number }>;
    expect(entries).toHaveLength(4);
    for (const entry of entries) {
      expect(entry.workflow).toMatch(/^custom:[0-9a-f]{16}$/);
      expect(models[entry.model]).toMatchObject({
        workflowFile: 'my-flow.json',
        bindings: { prompt: [{ nodeId: '3', input: 'text' }], steps: [{ nodeId: '7', input: 'steps' }] },
      });
      const png = await readFile(path.join(root, 'src/assets/generated', entry.file));
      expect([png.readUInt32BE(16), png.readUInt32BE(20)]).toEqual([entry.width, entry.height]);
    }

    const frozen = await runAstro(root, ['build'], { ...withFlow, CI: '1' });
    expect(frozen.exitCode, frozen.all as string).toBe(0);
    expect(fake.stats.promptsQueued).toBe(4);

    // An input the bindings leave alone changes the pixels: every image is missing again.
    graph['7']!.inputs.sampler_name = 'dpmpp_2m';
    await writeFlow();
    const status = await runCli(root, ['status'], withFlow);
    expect(status.exitCode, status.all as string).toBe(3);
    expect(status.stdout).toContain('images: 4 (0 generated, 0 placeholders, 4 missing)');
  });

  it("commits the images of an author's workflow that upscales at the size it makes, checked whole, and recorded as such", async () => {
    const { fake, root, env } = await setup();
    const graph = buildTestGraph();
    graph['10'] = { class_type: 'ImageScaleBy', inputs: { image: ['8', 0], upscale_method: 'lanczos', scale_by: 1.5 } };
    graph['9']!.inputs.images = ['10', 0];
    await mkdir(path.join(root, 'flows'));
    await writeFile(path.join(root, 'flows/hires.json'), JSON.stringify(graph));
    const bindings = { prompt: '3.inputs.text', seed: '7.inputs.seed', width: '5.inputs.width', height: '5.inputs.height' };
    const withFlow = { ...env, ASTRO_COMFYUI_TEST_OPTIONS: JSON.stringify({ workflow: { file: 'flows/hires.json', bindings } }) };

    const generated = await runCli(root, ['generate'], withFlow);
    expect(generated.exitCode, generated.all as string).toBe(0);
    expect(fake.stats.promptsQueued).toBe(4);
    // The fixture's watercolor style has a negative prompt, which this workflow does not bind.
    expect(generated.stderr).toContain(
      'flows/hires.json binds no "negative", so negative prompts are ignored (src/content/blog/lighthouse.md › image has "photo, text"). Bind the negative prompt\'s text',
    );
    expect(generated.all).not.toMatch(/binds no "(seed|width)/);
    const dir = path.join(root, 'src/assets/generated');
    const manifest = JSON.parse(await readFile(path.join(dir, 'images.lock.json'), 'utf8'));
    const entries = Object.values(manifest.images) as Array<{ file: string; width: number; height: number; posts: string[] }>;
    const sizes = await Promise.all(entries.map(async (entry) => [entry, readPngInfo(await readFile(path.join(dir, entry.file)))] as const));
    for (const [entry, png] of sizes) expect([entry.width, entry.height]).toEqual([png.width, png.height]);
    // hero is 256x144 and square 128x128 in the fixture: the workflow makes them 1.5 times as large.
    const lighthouse = sizes.find(([entry]) => entry.posts.includes('src/content/blog/lighthouse.md'))!;
    expect([lighthouse[1].width, lighthouse[1].height]).toEqual([384, 216]);

    // Entries lost in a merge come back from the files, at their own size.
    await writeFile(path.join(dir, 'images.lock.json'), JSON.stringify({ version: 2, models: {}, images: {} }));
    const adopted = await runCli(root, ['generate'], withFlow);
    expect(adopted.exitCode, adopted.all as string).toBe(0);
    expect(adopted.all).toContain('Re-adopted 4 images');
    expect(fake.stats.promptsQueued).toBe(4);
    const built = await runAstro(root, ['build'], { ...withFlow, CI: '1' });
    expect(built.exitCode, built.all as string).toBe(0);

    // Without seed and size bindings, a seed or a format changes the key but never the picture: said once each.
    const promptOnly = {
      ...env,
      ASTRO_COMFYUI_TEST_OPTIONS: JSON.stringify({ workflow: { file: 'flows/hires.json', bindings: { prompt: '3.inputs.text' } } }),
    };
    const dry = await runCli(root, ['generate', '--dry-run'], promptOnly);
    expect(dry.exitCode, dry.all as string).toBe(0);
    expect(dry.stderr).toContain(
      'flows/hires.json binds no "seed": every image of a prompt is the same picture, whatever its seed, and regenerate: true cannot change it.',
    );
    expect(dry.stderr).toContain('flows/hires.json binds no "width" and "height", so every format (128x128, 256x144) makes the size the workflow has.');
    expect(String(dry.stderr).match(/binds no "seed"/g)).toHaveLength(1);
    const status = await runCli(root, ['status'], promptOnly);
    expect(status.stdout).toMatch(/Workflow bindings missing: 3\n {2}flows\/hires\.json binds no "seed"/);
  });

  it('lists and prunes images no post uses, never one a post still uses', async () => {
    const { root, env } = await setup();
    expect((await runCli(root, ['generate'], env)).exitCode).toBe(0);
    const post = path.join(root, 'src/content/blog/harbour.md');
    await replaceInFile(post, 'fishing boats', 'rowing boats');
    expect((await runCli(root, ['generate'], env)).exitCode).toBe(0);
    expect(await manifestKeys(root)).toHaveLength(5);

    const status = await runCli(root, ['status'], env);
    expect(status.stdout).toMatch(/Orphaned .*: 1\n\s+harbour-[0-9a-f]{12}\.png/);

    const dry = await runCli(root, ['prune', '--dry-run'], env);
    expect(dry.exitCode).toBe(0);
    expect(dry.stdout).toMatch(/Would remove 1 unused image:\n\s+src\/assets\/generated\/harbour-/);
    expect(await manifestKeys(root)).toHaveLength(5);

    const pruned = await runCli(root, ['prune'], env);
    expect(pruned.exitCode, pruned.all as string).toBe(0);
    expect(await manifestKeys(root)).toHaveLength(4);
    const files = (await readdir(path.join(root, 'src/assets/generated'))).filter((f) => f.endsWith('.png'));
    expect(files).toHaveLength(4);
    expect((await runCli(root, ['prune'], env)).stdout).toContain('Nothing to prune');
  });

  it('never prunes against posts it did not read: posts a glob leaves out, a moved folder, another field', async () => {
    const { root, env } = await setup();
    expect((await runCli(root, ['generate'], env)).exitCode).toBe(0);
    const dir = path.join(root, 'src/assets/generated');
    const pngs = async () => (await readdir(dir)).filter((f) => f.endsWith('.png')).sort();
    const before = await pngs();
    expect(before).toHaveLength(4);

    // An `!` glob leaves a post out: its image is not shown to be unused, so it stays.
    const narrowed = { ...env, ASTRO_COMFYUI_TEST_OPTIONS: JSON.stringify({ content: ['src/content/**/*.{md,mdx}', '!src/content/blog/harbour.md'] }) };
    const kept = await runCli(root, ['prune'], narrowed);
    expect(kept.exitCode, kept.all as string).toBe(0);
    expect(kept.stdout).toMatch(
      /Keeping 1 image of posts that are still there but outside the "content" globs .*\n\s+src\/assets\/generated\/harbour-[0-9a-f]{12}\.png \(src\/content\/blog\/harbour\.md\)/,
    );
    expect(kept.stdout).toContain('Nothing to prune');
    expect((await runCli(root, ['status'], narrowed)).stdout).toMatch(/Of posts outside the "content" globs \(prune keeps them\): 1\n\s+harbour-/);

    // No prompt read at all: far more likely posts not found than every image unused. Nothing goes.
    const otherField = await runCli(root, ['prune'], { ...env, ASTRO_COMFYUI_TEST_OPTIONS: JSON.stringify({ field: 'cover' }) });
    expect(otherField.exitCode).toBe(1);
    expect(otherField.stderr).toContain(
      'None of the 4 posts that the "content" globs (src/content/**/*.{md,mdx}) match asks for an image in "cover" or "covers"',
    );

    await rename(path.join(root, 'src/content/blog'), path.join(root, 'src/posts'));
    for (const args of [['prune', '--dry-run'], ['prune']]) {
      const refused = await runCli(root, args, env);
      expect(refused.exitCode, refused.all as string).toBe(1);
      expect(refused.stderr).toContain('No file matches the "content" globs (src/content/**/*.{md,mdx}), so no post asks for any of the 4 generated images.');
      expect(refused.stderr).toContain('Nothing was removed. To remove every generated image on purpose, delete src/assets/generated yourself.');
    }
    expect(await pngs()).toEqual(before);
    expect(await manifestKeys(root)).toHaveLength(4);
    const status = await runCli(root, ['status'], env);
    expect(status.stdout).toContain('Not used by any post found: 4. No file matches the "content" globs');
    expect(status.stdout).not.toContain('Orphaned');
    // A build says why, instead of offering prune.
    const built = await runAstro(root, ['build'], { ...env, CI: '1' });
    expect(built.exitCode, built.all as string).toBe(0);
    expect(built.all).toContain('No file matches the "content" globs (src/content/**/*.{md,mdx}), so no post asks for any of the 4 generated images.');
    expect(built.all).not.toContain('prune');
  });

  it('stops before generating every image again when outDir changed without the images, and says where they are', async () => {
    const { fake, root, env } = await setup();
    expect((await runCli(root, ['generate'], env)).exitCode).toBe(0);
    expect(fake.stats.promptsQueued).toBe(4);
    const moved = { ...env, ASTRO_COMFYUI_TEST_OPTIONS: JSON.stringify({ outDir: 'src/images' }) };
    const message = 'src/images (the images folder, outDir) has no images.lock.json, but src/assets/generated/images.lock.json lists 4 images';
    const hint = 'move the images and images.lock.json of src/assets/generated into src/images (git mv), or set outDir back to "src/assets/generated"';

    const generate = await runCli(root, ['generate'], moved);
    expect(generate.exitCode, generate.all as string).toBe(1);
    expect(generate.stderr).toContain(`${message}: 4 images would be made again instead of using them. Nothing was generated.`);
    expect(generate.stderr).toContain(hint);
    expect(fake.stats.promptsQueued).toBe(4);
    const status = await runCli(root, ['status'], moved);
    expect(status.stdout).toContain(`  Elsewhere: ${message}`);
    const built = await runAstro(root, ['build'], { ...moved, CI: '1' });
    expect(built.exitCode).not.toBe(0);
    expect(built.all).toContain(message);
    expect(built.all).not.toContain('not generated yet');
    await expect(readdir(path.join(root, 'src/images'))).rejects.toMatchObject({ code: 'ENOENT' });

    // Moved along with outDir, they are used as they are.
    await rename(path.join(root, 'src/assets/generated'), path.join(root, 'src/images'));
    const again = await runCli(root, ['generate'], moved);
    expect(again.exitCode, again.all as string).toBe(0);
    expect(again.stdout).toContain('4 images: 4 already generated, 0 generated now.');
    expect(fake.stats.promptsQueued).toBe(4);
  });

  it('names a folder-style post\'s image after its folder, and keeps using one an older version named "index-…"', async () => {
    const { root, env } = await setup();
    const trip = path.join(root, 'src/content/blog/trip');
    await mkdir(trip);
    await writeFile(path.join(trip, 'index.md'), '---\ntitle: Trip\nimage: "a ferry at dawn"\n---\n');
    expect((await runCli(root, ['generate'], env)).exitCode).toBe(0);
    const folder = path.join(root, 'src/assets/generated');
    const made = (await readdir(folder)).find((f) => f.startsWith('trip-'));
    expect(made).toMatch(/^trip-[0-9a-f]{12}\.png$/);
    // As committed by a version that named it after the file, not the folder.
    const old = made!.replace('trip-', 'index-');
    await rename(path.join(folder, made!), path.join(folder, old));
    const manifestFile = path.join(folder, 'images.lock.json');
    await replaceInFile(manifestFile, made!, old);

    const status = await runCli(root, ['status'], env);
    expect(status.exitCode, status.all as string).toBe(0);
    expect(status.stdout).toContain('images: 5 (5 generated, 0 placeholders, 0 missing)');
    expect((await runCli(root, ['prune'], env)).stdout).toContain('Nothing to prune');
    expect(await readdir(folder)).toContain(old);
  });

  it("prunes only images it made: the author's own pictures in the same folder stay, whatever their names", async () => {
    const { root, env: fakeEnv } = await setup();
    const env = { ...fakeEnv, ASTRO_COMFYUI_TEST_OPTIONS: JSON.stringify({ outDir: 'src/assets' }) };
    const folder = path.join(root, 'src/assets');
    await mkdir(folder, { recursive: true });
    const own = ['logo.png', 'photo-0123456789ab.png'];
    for (const name of own) await writeFile(path.join(folder, name), TINY_PNG);
    expect((await runCli(root, ['generate'], env)).exitCode).toBe(0);
    const post = path.join(root, 'src/content/blog/harbour.md');
    await replaceInFile(post, 'fishing boats', 'rowing boats');
    expect((await runCli(root, ['generate'], env)).exitCode).toBe(0);
    // The old harbour image, taken out of the manifest by hand: only its file says it was made here.
    const manifestFile = path.join(folder, 'images.lock.json');
    const manifest = JSON.parse(await readFile(manifestFile, 'utf8'));
    const [oldKey] = Object.entries(manifest.images as Record<string, { posts: string[]; file: string }>).find(
      ([, entry]) => entry.posts[0] === 'src/content/blog/harbour.md' && !/rowing/.test(JSON.stringify(entry)),
    )!;
    const oldFile = manifest.images[oldKey].file as string;
    delete manifest.images[oldKey];
    await writeFile(manifestFile, JSON.stringify(manifest));

    const status = await runCli(root, ['status'], env);
    expect(status.stdout).toContain(`Orphaned (no post uses them; remove with \`astro-comfyui prune\`): 1\n  ${oldFile} (not in the manifest)`);
    const pruned = await runCli(root, ['prune'], env);
    expect(pruned.exitCode, pruned.all as string).toBe(0);
    expect(pruned.stdout).toContain(`Removing 1 unused image:\n  src/assets/${oldFile}`);
    const left = (await readdir(folder)).filter((f) => f.endsWith('.png'));
    expect(left).toHaveLength(4 + own.length);
    expect(left).toEqual(expect.arrayContaining(own));
    expect(left).not.toContain(oldFile);
  });

  it('never deletes a file that an unused manifest entry names but astro-comfyui did not make: the entry goes, the file stays', async () => {
    const { root, env } = await setup();
    expect((await runCli(root, ['generate'], env)).exitCode).toBe(0);
    const folder = path.join(root, 'src/assets/generated');
    const manifestFile = path.join(folder, 'images.lock.json');
    const manifest = JSON.parse(await readFile(manifestFile, 'utf8'));
    const [usedKey, used] = Object.entries(manifest.images as Record<string, Record<string, unknown>>)[0]!;
    // The author's own photo, whose name ends like a generated one (a date is 12 hex digits), and a used image.
    const photo = 'photo-202401011200.png';
    await writeFile(path.join(folder, photo), TINY_PNG);
    // Entries no post uses, added by hand or by a hostile pull request: one names the photo, one the used
    // image's file (its key shares that image's first 12 digits, as a file name must).
    const forPhoto = `202401011200${'a'.repeat(52)}`;
    const forUsed = `${usedKey.slice(0, 12)}${'f'.repeat(52)}`;
    manifest.images[forPhoto] = { ...used, file: photo };
    manifest.images[forUsed] = { ...used };
    await writeFile(manifestFile, JSON.stringify(manifest));

    const dry = await runCli(root, ['prune', '--dry-run'], env);
    expect(dry.exitCode, dry.all as string).toBe(0);
    expect(dry.stdout).toContain('Would keep 2 files that unused manifest entries name but astro-comfyui did not make for them:');
    expect(String(dry.stdout).split('\n')).toEqual(expect.arrayContaining([`  src/assets/generated/${photo}`, `  src/assets/generated/${used.file}`]));
    expect(dry.stdout).not.toContain('Would remove');
    expect(dry.stdout).toContain('No file to delete; would remove 2 unused manifest entries.');
    const pruned = await runCli(root, ['prune'], env);
    expect(pruned.exitCode, pruned.all as string).toBe(0);
    expect(pruned.stdout).toContain('No file to delete; removing 2 unused manifest entries.');
    const left = await readdir(folder);
    expect(left).toContain(photo);
    expect(left).toContain(used.file);
    const after = JSON.parse(await readFile(manifestFile, 'utf8'));
    expect(Object.keys(after.images)).toHaveLength(4);
    expect(after.images[forPhoto]).toBeUndefined();
    expect(after.images[forUsed]).toBeUndefined();
    expect((await runCli(root, ['status'], env)).exitCode).toBe(0);
  });

  it('rejects bad arguments with exit code 2 and a readable message; --help, --version and no command', async () => {
    const { root, env } = await setup();
    const cases: Array<[string[], string]> = [
      [['generate', '--bogus'], 'error: Unknown option --bogus.'],
      [['status', '--force'], 'error: --force does not apply to "status".'],
      [['frobnicate'], 'error: Unknown command "frobnicate". Commands: generate, status, prune, start.'],
      [['constructor'], 'error: Unknown command "constructor". Commands: generate, status, prune, start.'],
      [['generate', '--only', ''], 'error: --only needs a glob'],
      [['generate', '--only'], 'error: --only needs a value, e.g. --only "src/content/blog/*.md".'],
      [['prune', 'extra'], 'error: Unexpected argument "extra".'],
      [
        ['generate', 'src/content/blog/harbour.md'],
        'error: Unexpected argument "src/content/blog/harbour.md". To generate the images of some posts only: --only "src/content/blog/harbour.md".',
      ],
    ];
    for (const [args, message] of cases) {
      const result = await runCli(root, args, env);
      expect(result.exitCode, args.join(' ')).toBe(2);
      expect(result.stderr, args.join(' ')).toContain(message);
      expect(result.stderr, args.join(' ')).toContain('Run astro-comfyui --help for the usage.');
      expect(result.stderr).not.toMatch(/ERR_PARSE_ARGS|TypeError|at .*\.js:\d+/);
    }
    const none = await runCli(root, [], env);
    expect(none.exitCode).toBe(2);
    expect(none.stderr).toContain('Usage: astro-comfyui <command>');
    const help = await runCli(root, ['--help'], env);
    expect(help.exitCode).toBe(0);
    expect(help.stdout).toContain('Usage: astro-comfyui <command>');
    const version = await runCli(root, ['--version'], env);
    expect(version.exitCode).toBe(0);
    expect(String(version.stdout).trim()).toBe(
      JSON.parse(await readFile(new URL('../../packages/astro-comfyui/package.json', import.meta.url), 'utf8')).version,
    );
    // On a Node older than Astro 7 needs (it says 20.19.0 here), the reason, not a dependency's stack trace.
    const older = "data:text/javascript,Object.defineProperty(process.versions, 'node', { value: '20.19.0' });";
    for (const args of [['status'], ['--version']]) {
      const old = await execa(process.execPath, ['--import', older, cliBin, ...args], { cwd: root, env: childEnv(env), extendEnv: false, reject: false });
      expect(old.exitCode, args.join(' ')).toBe(1);
      expect(old.stderr).toBe(
        'error: astro-comfyui needs Node.js 22.12 or newer, as Astro 7 does; this is Node.js 20.19.0.\nhint: install Node.js 22 or newer (e.g. `nvm install 22`) and run it again.',
      );
      expect(old.stdout).toBe('');
    }
  });

  it("keeps V8's compiled code of its modules for the next run, as Astro's command does, except in CI", async () => {
    for (const ci of [undefined, 'true']) {
      const tmp = await mkdtemp(path.join(tmpdir(), 'compile-cache-'));
      try {
        const run = await runCli(tmp, ['--version'], { TMPDIR: tmp, NODE_COMPILE_CACHE: undefined, CI: ci });
        expect(run.exitCode).toBe(0);
        // Node writes it into the temporary folder, one file per compiled module.
        const cached = await readdir(path.join(tmp, 'node-compile-cache'), { recursive: true }).catch(() => []);
        if (ci) expect(cached).toEqual([]);
        else expect(cached.length).toBeGreaterThan(0);
      } finally {
        await rm(tmp, { recursive: true, force: true });
      }
    }
  });

  it('fails with exit code 1 and a hint when ComfyUI is down, and writes no placeholder even where builds would', async () => {
    const { root } = await setup();
    const down = { COMFYUI_URL: `http://127.0.0.1:${await findFreePort()}` };
    const result = await runCli(root, ['generate'], down);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain('no ComfyUI answers');
    expect(
      String(result.stderr)
        .split('\n')
        .map((line) => line.trim()),
    ).toContain('hint: Start ComfyUI (or set start: { cwd } so it is started for you), check COMFYUI_URL / endpoints.');
    // "generate && git commit" must not commit placeholders as if they were the images asked for.
    const placeholders = await runCli(root, ['generate'], { ...down, ASTRO_COMFYUI_TEST_OPTIONS: '{"onMissing":"placeholder"}' });
    expect(placeholders.exitCode).toBe(1);
    expect(placeholders.stderr).toContain('4 images are not generated yet and no ComfyUI answers');
    expect(placeholders.all).not.toContain('PLACEHOLDER IMAGES');
    expect(await readdir(path.join(root, 'src/assets/generated')).catch(() => [])).toEqual([]);
  });

  it("reads COMFYUI_URL from the site's .env files as Astro does (production mode), the environment first", async () => {
    const { fake, root } = await setup();
    const down = `http://127.0.0.1:${await findFreePort()}`;
    // Astro's order: .env.production over .env.local over .env; .env.development is dev's alone.
    await writeFile(path.join(root, '.env'), `COMFYUI_URL=${down}\n`);
    await writeFile(path.join(root, '.env.local'), `# this machine's GPU box\nCOMFYUI_URL=${down}\n`);
    await writeFile(path.join(root, '.env.production'), `COMFYUI_URL=${fake.url}\n`);
    await writeFile(path.join(root, '.env.development'), `COMFYUI_URL=${down}\n`);
    const generated = await runCli(root, ['generate', '--only', 'src/content/blog/harbour.md'], { COMFYUI_URL: undefined });
    expect(generated.exitCode, generated.all as string).toBe(0);
    expect(fake.stats.promptsQueued).toBe(1);

    const status = await runCli(root, ['status'], { COMFYUI_URL: down });
    expect(status.stdout).toContain(`${down}: down`);
    expect(status.stdout).not.toContain(fake.url);

    await rm(path.join(root, '.env.production'));
    await writeFile(path.join(root, '.env.local'), 'COMFYUI_URL=gpu-box:8188\n');
    const bad = await runCli(root, ['status'], { COMFYUI_URL: undefined });
    expect(bad.exitCode).toBe(1);
    expect(bad.stderr).toContain('Invalid ComfyUI endpoint "gpu-box:8188" in COMFYUI_URL (the environment or a .env file)');
    expect(bad.stderr).toContain('hint: Set COMFYUI_URL to the address ComfyUI prints at start');
  });

  it('carries on and exits with its code when the reader of its output stops early (| head, a pager quit)', async () => {
    const { fake, root, env } = await setup();
    // `true` exits before the command writes its first line: every write meets a closed pipe.
    const piped = (command: string) =>
      execa('bash', ['-o', 'pipefail', '-c', `"$NODE" "$CLI" ${command} | true`], {
        cwd: root,
        env: childEnv({ ...env, NODE: process.execPath, CLI: cliBin }),
        extendEnv: false,
        reject: false,
      });
    const status = await piped('status');
    // A crash on the closed pipe prints Node's "Error: write EPIPE" and its stack.
    expect(status.stderr).not.toMatch(/EPIPE|Error/);
    expect(status.exitCode).toBe(3);
    const generated = await piped('generate');
    expect(generated.stderr).not.toMatch(/EPIPE|Error/);
    expect(generated.exitCode).toBe(0);
    expect(fake.stats.promptsQueued).toBe(4);
    expect(await manifestKeys(root)).toHaveLength(4);
  });

  it('on Ctrl-C takes its waiting jobs back from ComfyUI, keeps what it made and exits with 130; the next run collects the image that was being made', async () => {
    const { fake, root, env } = await setupBlogWithFake(cleanups, { stepDelayMs: 300 });
    const run = runCli(root, ['generate'], env);
    // The first image made: the second is being made and the third waits in ComfyUI's queue (queueAhead 1).
    await waitForOutput(run, /\[1\/4\][^\n]*→/, 'the first image');
    run.kill('SIGINT');
    const stopped = await run;
    expect(stopped.exitCode, String(stopped.all)).toBe(130);
    expect(stopped.stderr).toContain("Stopping: taking back the jobs still waiting in ComfyUI's queue");
    expect(stopped.stderr).toContain(
      "Stopped before every image was made: 1 of 4 generated and kept. The jobs still waiting in ComfyUI's queue were taken back; an image it was making finishes there, and the next run collects it.",
    );
    expect(stopped.stderr).not.toContain('could not be generated');
    expect(await manifestKeys(root)).toHaveLength(1);
    const queue = async () => (await (await fetch(`${fake.url}/queue`)).json()) as { queue_running: unknown[]; queue_pending: unknown[] };
    expect((await queue()).queue_pending).toEqual([]);
    await waitUntil(async () => ((await queue()).queue_running.length === 0 ? true : undefined), 10_000, 'the image being made to finish');
    expect(fake.stats.samplerRuns).toBe(2);

    const next = await runCli(root, ['generate'], env);
    expect(next.exitCode, String(next.all)).toBe(0);
    expect(next.stdout).toContain('4 images: 1 already generated, 3 generated now');
    // Of those three, the one that finished after Ctrl-C is collected, not made again.
    expect(fake.stats.samplerRuns).toBe(4);

    // A forced run's jobs have ids of their own that no later run asks for: Ctrl-C interrupts them.
    const forced = runCli(root, ['generate', '--force'], env);
    await waitForOutput(forced, /: step \d/, 'a forced image being made');
    forced.kill('SIGINT');
    expect((await forced).exitCode).toBe(130);
    await waitUntil(async () => ((await queue()).queue_running.length === 0 ? true : undefined), 1000, 'the forced job to stop');
    const history = (await (await fetch(`${fake.url}/history`)).json()) as Record<string, { status: { messages: Array<[string]> } }>;
    expect(Object.values(history).filter((entry) => entry.status.messages.some(([type]) => type === 'execution_interrupted'))).toHaveLength(1);
  });

  it("refuses an outDir inside the site's publicDir, read from astro.config, before touching anything", async () => {
    const site = await copyFixture('blog');
    cleanups.push(site.cleanup);
    const config = path.join(site.root, 'astro.config.mjs');
    await replaceInFile(config, 'export default defineConfig({', "export default defineConfig({\n  publicDir: './static',");
    const result = await runCli(site.root, ['generate'], { ASTRO_COMFYUI_TEST_OPTIONS: '{"outDir":"static/ai"}' });
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain(`outDir "static/ai" is inside Astro's public folder, which is published as it is`);
    expect(await readdir(site.root)).not.toContain('static');
    // The same folder is fine where it is not the public one.
    const status = await runCli(site.root, ['status'], { ASTRO_COMFYUI_TEST_OPTIONS: '{"outDir":"public/ai","mode":"frozen"}' });
    expect(status.stderr).not.toContain('public folder');
    expect(status.stdout).toContain('Posts: 4, images: 4');
  });

  it('warns where an author makes images that a .gitignore rule leaves them out, and not once a "!" rule takes them back, nor in CI', async () => {
    const { root, env } = await setupBlogWithFake(cleanups);
    const git = (...args: string[]) => execa('git', args, { cwd: root, reject: false });
    await git('init', '-q');
    const rules = (...lines: string[]) => writeFile(path.join(root, '.gitignore'), ['node_modules/', '.astro/', ...lines, ''].join('\n'));
    await rules('generated/');
    const ignored = await runCli(root, ['generate', '--only', 'src/content/blog/harbour.md'], env);
    expect(ignored.exitCode, String(ignored.all)).toBe(0);
    expect(ignored.stderr).toMatch(
      /Git ignores src\/assets\/generated\/images\.lock\.json \(\.gitignore:3: generated\/\) and src\/assets\/generated\/harbour-[0-9a-f]{12}\.png \(\.gitignore:3: generated\/\): the images and images\.lock\.json are meant to be committed/,
    );
    expect(ignored.stderr).toContain('add these two lines below it: !src/assets/generated/ and !src/assets/generated/**');
    // Following the advice, for this rule and for one on file names.
    for (const rule of ['generated/', '*.png']) {
      await rules(rule, '!src/assets/generated/', '!src/assets/generated/**');
      await rm(path.join(root, 'src/assets/generated'), { recursive: true, force: true });
      const kept = await runCli(root, ['generate', '--only', 'src/content/blog/harbour.md'], env);
      expect(kept.exitCode, String(kept.all)).toBe(0);
      expect(kept.all).toContain('1 generated now');
      expect(kept.all, rule).not.toContain('Git ignores');
    }
    await rules('*.png');
    await rm(path.join(root, 'src/assets/generated'), { recursive: true, force: true });
    const png = await runCli(root, ['generate', '--only', 'src/content/blog/harbour.md'], env);
    expect(png.stderr).toMatch(/Git ignores src\/assets\/generated\/harbour-[0-9a-f]{12}\.png \(\.gitignore:3: \*\.png\):/);
    expect((await git('status', '--porcelain', '--untracked-files=all')).stdout).not.toContain('.png');
    // A CI machine with a GPU commits nothing: no warning there.
    await rm(path.join(root, 'src/assets/generated'), { recursive: true, force: true });
    const ci = await runCli(root, ['generate', '--only', 'src/content/blog/harbour.md'], { ...env, CI: 'true' });
    expect(ci.all).toContain('1 generated now');
    expect(ci.all).not.toContain('Git ignores');
  });

  it('in a monorepo, gives "!" lines from the .gitignore\'s own folder, and says to change a rule that leaves out a folder above the images', async () => {
    const { root: repository, env } = await setup();
    // The repository holds the site in apps/blog; its .gitignore is at the top.
    const root = path.join(repository, 'apps/blog');
    await mkdir(root, { recursive: true });
    for (const entry of await readdir(repository)) if (entry !== 'apps') await rename(path.join(repository, entry), path.join(root, entry));
    const git = (...args: string[]) => execa('git', args, { cwd: repository, reject: false });
    await git('init', '-q');
    const rules = (...lines: string[]) => writeFile(path.join(repository, '.gitignore'), ['node_modules/', '.astro/', ...lines, ''].join('\n'));
    const generate = async () => {
      await rm(path.join(root, 'src/assets/generated'), { recursive: true, force: true });
      const run = await runCli(root, ['generate', '--only', 'src/content/blog/harbour.md'], env);
      expect(run.exitCode, String(run.all)).toBe(0);
      return String(run.stderr);
    };

    await rules('*.png');
    const png = await generate();
    expect(png).toMatch(/Git ignores src\/assets\/generated\/harbour-[0-9a-f]{12}\.png \(\.\.\/\.\.\/\.gitignore:3: \*\.png\):/);
    expect(png).toContain('add these two lines below it: !apps/blog/src/assets/generated/ and !apps/blog/src/assets/generated/**');
    // Following the advice keeps the images.
    await rules('*.png', '!apps/blog/src/assets/generated/', '!apps/blog/src/assets/generated/**');
    expect(await generate()).not.toContain('Git ignores');
    expect((await git('status', '--porcelain', '--untracked-files=all')).stdout).toMatch(/apps\/blog\/src\/assets\/generated\/harbour-[0-9a-f]{12}\.png/);

    // A folder above the images left out: "!" lines would not take them back, so none are offered.
    await rules('assets/', '!apps/blog/src/assets/generated/', '!apps/blog/src/assets/generated/**');
    const folder = await generate();
    expect(folder).toMatch(
      /Git ignores src\/assets\/generated\/images\.lock\.json and src\/assets\/generated\/harbour-[0-9a-f]{12}\.png: they are in src\/assets\/, a folder git leaves out \(\.\.\/\.\.\/\.gitignore:3: assets\/\)\./,
    );
    expect(folder).toContain('A "!" line cannot take back a file in a folder that git leaves out: change that rule, or set outDir to a folder that git keeps.');
    expect(folder).not.toContain('add these two lines');
    expect((await git('status', '--porcelain', '--untracked-files=all')).stdout).not.toContain('generated');
    // The whole site left out: the folder is named from the disk, not as "./".
    await rules('apps/blog/');
    expect(await generate()).toContain(`they are in ${root}/, a folder git leaves out (../../.gitignore:3: apps/blog/).`);
  });

  it('removes the temp file a killed run left beside a post, and no other', async () => {
    const { root, env } = await setupBlogWithFake(cleanups);
    const blog = path.join(root, 'src/content/blog');
    const dead = await deadPid();
    const fiveMinutesAgo = new Date(Date.now() - 5 * 60_000);
    const left = `harbour.md.${dead}.0a0b0c0d.tmp`;
    // A live writer's (this process), and one whose target is no post: both stay.
    const kept = [`lighthouse.md.${process.pid}.0a0b0c0d.tmp`, `notes.txt.${dead}.0a0b0c0d.tmp`];
    for (const name of [left, ...kept]) {
      await writeFile(path.join(blog, name), 'half a post');
      await utimes(path.join(blog, name), fiveMinutesAgo, fiveMinutesAgo);
    }
    const run = await runCli(root, ['generate'], env);
    expect(run.exitCode, String(run.all)).toBe(0);
    expect(run.all).toContain(`Removed 1 temp file that a run killed while writing a post left in src/content/blog:\n- ${left}`);
    const names = await readdir(blog);
    expect(names).not.toContain(left);
    for (const name of kept) expect(names).toContain(name);
  });

  it('says when no file matches the "content" globs, and that a glob starting with "/" looks at the root of the disk', async () => {
    const site = await copyFixture('blog');
    cleanups.push(site.cleanup);
    const rooted = { ASTRO_COMFYUI_TEST_OPTIONS: JSON.stringify({ content: ['/src/content/**/*.md'], mode: 'frozen' }) };
    const status = await runCli(site.root, ['status'], rooted);
    expect(status.stdout).toContain('Posts: 0, images: 0');
    expect(status.stdout).toContain(
      'No file matches the "content" globs (/src/content/**/*.md), so astro-comfyui has no post to read. "content" globs are relative to the project root: write "src/content/**/*.md", without the leading "/".',
    );
    const moved = await runCli(site.root, ['status'], { ASTRO_COMFYUI_TEST_OPTIONS: JSON.stringify({ content: ['src/posts/*.md'], mode: 'frozen' }) });
    expect(moved.stdout).toContain(
      'No file matches the "content" globs (src/posts/*.md), so astro-comfyui has no post to read. If the posts are elsewhere, set "content"',
    );
    expect((await runCli(site.root, ['status'], { ASTRO_COMFYUI_TEST_OPTIONS: '{"mode":"frozen"}' })).stdout).not.toContain('No file matches');
  });

  it.each([
    ['a terminal of 50 columns', 'stty cols 50 rows 20; ', 49],
    ['a terminal whose size was never set (0 columns)', '', 99],
  ])('generate on %s keeps one progress line that fits, cleared before each log line', async (_, setSize, fits) => {
    const { root, env } = await setupBlogWithFake(cleanups, { stepDelayMs: 30 });
    // `script` gives the command a pseudo-terminal, as a user's shell does; its output is what they see.
    const command = [process.execPath, cliBin, 'generate'].map((word) => `'${word.replaceAll("'", `'\\''`)}'`).join(' ');
    const result = await execa('script', ['-qefc', `${setSize}${command}`, '/dev/null'], {
      cwd: root,
      env: childEnv(env),
      extendEnv: false,
      reject: false,
      timeout: 120_000,
    });
    expect(result.exitCode, result.stdout).toBe(0);
    const screen = result.stdout.replaceAll('\r\n', '\n');
    // What follows each erase of the line (carriage return, then ESC [2K) up to the next one or a line end.
    const bars = screen
      .split('\r\u001b[2K')
      .slice(1)
      .map((drawn) => drawn.split(/[\r\n]/)[0]!)
      .filter((drawn) => /^\[[#-]{24}\]/.test(drawn));
    expect(bars.length).toBeGreaterThan(3);
    expect(Math.max(...bars.map((bar) => bar.length))).toBeLessThanOrEqual(fits);
    if (fits > 80) {
      expect(bars).toContainEqual(expect.stringMatching(/^\[[#-]{24}\] [0-3]\/4 src\/content\/blog\/[a-z]+\.md step [1-4]\/4$/));
      // Before its first step, the first image waits for ComfyUI to load the model files: the line says so.
      expect(bars).toContainEqual(expect.stringMatching(/^\[-{24}\] 0\/4 src\/content\/blog\/[a-z]+\.md loading the model files$/));
    }
    // A bar is never left in front of a log line: each one is erased first.
    for (const line of screen.split('\n')) expect(line, JSON.stringify(line)).not.toMatch(/\[[#-]{24}\] \d\/4 [^\r]*$/);
    expect(screen.trimEnd().split('\n').at(-1)).toBe('4 images: 0 already generated, 4 generated now.');
  });

  it('reads an astro.config.ts that imports a TypeScript module, as Astro does', async () => {
    const { root, env } = await setup();
    const config = path.join(root, 'astro.config.mjs');
    // TypeScript only (types, `satisfies`), and options from a .ts module beside it.
    await writeFile(
      path.join(root, 'image-formats.ts'),
      'export const formats: Record<string, { width: number; height: number }> = { hero: { width: 192, height: 96 } };\n',
    );
    await replaceInFile(config, "import comfyui from 'astro-comfyui';", "import comfyui from 'astro-comfyui';\nimport { formats } from './image-formats.ts';");
    await replaceInFile(
      config,
      /formats: \{[\s\S]*?\n {6}\},\n/,
      'formats: { ...formats, square: { width: 128, height: 128 } } satisfies Record<string, { width: number; height: number }>,\n',
    );
    await rename(config, path.join(root, 'astro.config.ts'));
    const generated = await runCli(root, ['generate', '--only', 'src/content/blog/harbour.md'], env);
    expect(generated.exitCode, String(generated.all)).toBe(0);
    expect(generated.stdout).toContain('1 generated now');
    const [harbour] = (await readdir(path.join(root, 'src/assets/generated'))).filter((f) => f.startsWith('harbour-'));
    expect(readPngInfo(await readFile(path.join(root, 'src/assets/generated', harbour!)))).toMatchObject({ width: 192, height: 96 });
    // The build reads the same file: the image it finds committed is the one it would make.
    const built = await runAstro(root, ['build'], { ...env, CI: '1', ASTRO_COMFYUI_TEST_OPTIONS: '{"onMissing":"placeholder"}' });
    expect(built.exitCode, String(built.all)).toBe(0);
    expect(built.all).toContain('4 images: 1 committed, 0 generated, 3 PLACEHOLDERS');
  });

  it('run outside the project, or in one without the integration, says where it looked and what to do', async () => {
    const { root, env } = await setup();
    const inside = path.join(root, 'src');
    const lost = await runCli(inside, ['status'], env);
    expect(lost.exitCode).toBe(1);
    expect(lost.stderr).toBe(`error: No astro.config file in ${inside}.\nhint: Run the command in the root of an Astro project, or pass --root <dir>.`);
    // The advice, followed, from the same folder.
    const found = await runCli(inside, ['status', '--root', '..'], env);
    expect(found.stdout).toContain('src/content/blog/lighthouse.md');

    await writeFile(path.join(root, 'astro.config.mjs'), "import { defineConfig } from 'astro/config';\nexport default defineConfig({});\n");
    const without = await runCli(root, ['status'], env);
    expect(without.exitCode).toBe(1);
    expect(without.stderr).toBe(
      'error: astro.config.mjs does not use the astro-comfyui integration.\nhint: Add comfyui() to integrations in astro.config (see the README).',
    );
  });

  it('start: leaves a ComfyUI that already answers alone, and without a start command says how to add one', async () => {
    const { fake, root, env } = await setup();
    const options = JSON.stringify({ start: fakeStartCommand() });
    const running = await runCli(root, ['start'], { ...env, ASTRO_COMFYUI_TEST_OPTIONS: options });
    expect(running.exitCode, String(running.all)).toBe(0);
    expect(running.stdout).toContain(`ComfyUI was already running at ${fake.url}; leaving it alone.`);
    expect(running.stdout).not.toContain('[comfyui]');
    expect((await fetch(`${fake.url}/system_stats`)).status).toBe(200);

    const none = await runCli(root, ['start'], env);
    expect(none.exitCode).toBe(1);
    expect(none.stderr).toContain('No start command is configured.');
    expect(none.stderr).toContain('Add start: { cwd: "/path/to/ComfyUI", python: "/path/to/venv/bin/python" } to the astro-comfyui options.');
  });

  it('start: supervises ComfyUI in the foreground and stops it on Ctrl-C', async () => {
    const site = await copyFixture('blog');
    cleanups.push(site.cleanup);
    const url = `http://127.0.0.1:${await findFreePort()}`;
    const child = runCli(
      site.root,
      ['start'],
      {
        COMFYUI_URL: url,
        ASTRO_COMFYUI_TEST_OPTIONS: JSON.stringify({ start: fakeStartCommand() }),
      },
      { buffer: false },
    );
    const pid = await new Promise<number>((resolve, reject) => {
      child.stdout!.on('data', (chunk: Buffer) => {
        const match = /\(pid (\d+)\)/.exec(chunk.toString());
        if (match) resolve(Number(match[1]));
      });
      child.then((r) => reject(new Error(`exited early: ${r.exitCode}`)), reject);
    });
    expect((await fetch(`${url}/system_stats`)).status).toBe(200);
    child.kill('SIGINT');
    const result = await child;
    expect(result.exitCode).toBe(0);
    expect(isProcessAlive(pid)).toBe(false);
  });
});
