import { type ApiWorkflow, type ComfyUIPool, type EndpointReport, silentLogger } from '@astro-comfyui/comfyui';
import { createPool } from '../create-pool.js';
import { collectPostImages, loadTemplate } from '../collect-post-images.js';
import { adoptImages } from '../adopt-images.js';
import { findLfsPointer, LFS_FIX, lfsPointerMessage } from '../assert-images-fetched.js';
import { explainNoPosts } from '../explain-no-posts.js';
import { findCutShortImages } from '../find-cut-short-images.js';
import { listedWithoutFile, listedWithoutFileHint, noteOfMissingImage } from '../listed-without-file.js';
import { explainNoPrompts, findOrphans } from '../find-orphans.js';
import { findImagesElsewhere } from '../find-images-elsewhere.js';
import { findUnboundValues } from '../find-unbound-values.js';
import { EarlierImages } from '../earlier-images.js';
import { buildSiteGraph, checkRequirements } from '../preflight-images.js';
import { readManifest } from '../manifest.js';
import type { ResolvedOptions } from '../options.js';
import { classifyImages, listImageFiles } from '../classify-images.js';
import { suggestComfyUIDesktop } from '../suggest-comfyui-desktop.js';

/** `astro-comfyui status`: endpoints, versions, VRAM, missing models, and the state of every image. */
export async function runStatus(options: ResolvedOptions, out: (line: string) => void = (l) => process.stdout.write(`${l}\n`)): Promise<number> {
  const template = await loadTemplate(options);
  const { posts, images, problems } = await collectPostImages(options, template);
  out(`Mode: ${options.mode}${options.mode === 'frozen' ? ' (CI: ComfyUI is never contacted during builds)' : ''}`);
  out('ComfyUI endpoints:');
  const pool = await createPool(options, { logger: silentLogger, timeoutMs: 5000 });
  const graph = buildSiteGraph(options, template);
  try {
    // Every machine is checked at once: a slow one does not hold up the report of the others.
    const reports = await pool.describe();
    const sections = await Promise.all(reports.map((report) => describeEndpoint(pool, report, graph, options)));
    for (const line of sections.flat()) out(line);
    const desktop = reports.some((report) => report.up) ? undefined : await suggestComfyUIDesktop(options);
    if (desktop) out(`  ${desktop}`);
  } finally {
    await pool.close();
  }
  // Read-only: images that lost their entry count as generated and are re-adopted by the next build.
  const files = await listImageFiles(options.outDir);
  const { manifest, adopted, madeReal } = await adoptImages(images, options, await readManifest(options.manifestFile), { write: false, files });
  const states = await classifyImages(images, options, manifest, files);
  const count = (state: string) => [...states.values()].filter((s) => s === state).length;
  const pointer = await findLfsPointer(images, states, manifest, options);
  const orphans = await findOrphans(images, manifest, options, files);
  out(`Posts: ${posts}, images: ${states.size} (${count('ready')} generated, ${count('placeholder')} placeholders, ${count('missing')} missing)`);
  if (pointer !== undefined) out(`  Not fetched: ${lfsPointerMessage(pointer, options)} ${LFS_FIX}`);
  const elsewhere = await findImagesElsewhere(count('missing'), options, files);
  if (elsewhere) out(`  Elsewhere: ${elsewhere.message} ${elsewhere.hint}`);
  const missing = images.filter((image) => states.get(image.key) === 'missing');
  const earlier = new EarlierImages(manifest, missing);
  const uncommitted = listedWithoutFile(missing, new Set(missing.map((image) => image.key)), manifest);
  for (const image of images) {
    const state = states.get(image.key);
    const note = state === 'missing' ? noteOfMissingImage(image, uncommitted, earlier) : '';
    if (state !== 'ready') out(`  ${state}: ${image.request.post} › ${image.request.field} → ${image.fileName}${note}`);
  }
  if (uncommitted.size > 0) out(`  ${listedWithoutFileHint(uncommitted.size, options)}`);
  // Git LFS pointers are not PNGs at all: "Not fetched" above says what to do.
  const cutShort =
    pointer === undefined
      ? await findCutShortImages(
          images.filter((image) => states.get(image.key) !== 'missing'),
          manifest,
          options,
        )
      : [];
  for (const image of cutShort) {
    const file = manifest.images[image.key]!.file;
    out(`  cut short: ${image.request.post} › ${image.request.field} → ${file} (a copy or a merge tool stopped midway: git checkout -- '*/${file}')`);
  }
  if (adopted.length > 0) out(`Re-adoptable (their manifest entries are missing; the next build or generate restores them): ${adopted.length}`);
  if (madeReal.length > 0) out(`Real images listed as placeholders (the next build or generate records them as real): ${madeReal.length}`);
  const unused = orphans.entries.length + orphans.strayFiles.length;
  if (posts === 0 && unused === 0) out(explainNoPosts(options));
  if (unused > 0 && images.length === 0) {
    out(`Not used by any post found: ${unused}. ${explainNoPrompts(posts, unused, options)}`);
  } else if (unused > 0) {
    out(`Orphaned (no post uses them; remove with \`astro-comfyui prune\`): ${unused}`);
    for (const o of orphans.entries) out(`  ${o.file}`);
    for (const f of orphans.strayFiles) out(`  ${f} (not in the manifest)`);
  }
  if (orphans.unread.length > 0) {
    out(`Of posts outside the "content" globs (prune keeps them): ${orphans.unread.length}`);
    for (const { file, post } of orphans.unread) out(`  ${file} (${post})`);
  }
  const unbound = template ? findUnboundValues(template, images, options.root) : [];
  if (unbound.length > 0) {
    out(`Workflow bindings missing: ${unbound.length}`);
    for (const { message } of unbound) out(`  ${message}`);
  }
  if (problems.length > 0) {
    out(`Invalid prompts: ${problems.length}`);
    for (const p of problems) out(`  ${p.post} › ${p.field} ${p.message}`);
  }
  return count('missing') + count('placeholder') > 0 || cutShort.length > 0 || problems.length > 0 || pointer !== undefined ? 3 : 0;
}

/** An endpoint's lines: up or down, its versions and GPUs, and what it lacks to make the site's images. */
async function describeEndpoint(pool: ComfyUIPool, report: EndpointReport, graph: ApiWorkflow | undefined, options: ResolvedOptions): Promise<string[]> {
  if (!report.up) return [`  ${report.url}: down — ${report.error?.split('\n')[0]}`];
  const devices = report.devices.map((d) => `${d.name} (${formatBytes(d.vramFree)} free of ${formatBytes(d.vramTotal)})`).join(', ');
  const lines = [`  ${report.url}: up — ComfyUI ${report.comfyuiVersion ?? '?'}, PyTorch ${report.pytorchVersion ?? '?'}; ${devices || 'no GPU'}`];
  if (!graph) return lines;
  const { missing, unchecked, suggestion } = await checkRequirements(pool, report.url, graph, options);
  for (const line of missing) lines.push(`    - ${line}`);
  if (suggestion) lines.push(`    ${suggestion}`);
  if (unchecked) lines.push(`    ? not checked whether it has what this site's images need: ${unchecked} Run status again.`);
  return lines;
}

function formatBytes(bytes: number): string {
  return `${(bytes / 1024 ** 3).toFixed(1)} GiB`;
}
