import { createComfyUIClient, findMissingRequirements } from '@astro-comfyui/comfyui';
import { collectPostImages, loadTemplate } from '../collect-post-images.js';
import { adoptImages } from '../adopt-images.js';
import { findOrphans } from '../find-orphans.js';
import { readManifest } from '../manifest.js';
import type { ResolvedOptions } from '../options.js';
import { classifyImages } from '../sync-images.js';

/** `astro-comfyui status`: endpoints, versions, VRAM, missing models, and the state of every image. */
export async function runStatus(options: ResolvedOptions, out: (line: string) => void = (l) => process.stdout.write(`${l}\n`)): Promise<number> {
  const { posts, images, problems } = await collectPostImages(options, await loadTemplate(options));
  out(`Mode: ${options.mode}${options.mode === 'frozen' ? ' (CI: ComfyUI is never contacted during builds)' : ''}`);
  out('ComfyUI endpoints:');
  for (const url of options.endpoints) {
    const client = createComfyUIClient({ url, timeoutMs: 5000 });
    try {
      const stats = await client.getSystemStats();
      const devices = stats.devices.map((d) => `${d.name} (${formatBytes(d.vram_free)} free of ${formatBytes(d.vram_total)})`).join(', ');
      out(`  ${url}: up — ComfyUI ${stats.system.comfyui_version ?? '?'}, PyTorch ${stats.system.pytorch_version ?? '?'}; ${devices || 'no GPU'}`);
      const info = await client.getObjectInfo();
      const seen = new Set<string>();
      for (const image of images) {
        if (seen.has(image.workflowId)) continue;
        seen.add(image.workflowId);
        const missing = findMissingRequirements(image.buildWorkflow(), info);
        for (const m of missing.nodeTypes) out(`    missing node type ${m.classType}`);
        for (const m of missing.modelFiles) out(`    missing model ${m.file} → put it in ComfyUI/models/${m.folder}/`);
      }
    } catch (error) {
      out(`  ${url}: down — ${(error as Error).message.split('\n')[0]}`);
    } finally {
      await client.close();
    }
  }
  // Read-only: images that lost their entry count as generated and are re-adopted by the next build.
  const { manifest, adopted } = await adoptImages(images, options, await readManifest(options.manifestFile), { write: false });
  const states = await classifyImages(images, options, manifest);
  const count = (state: string) => [...states.values()].filter((s) => s === state).length;
  const orphans = await findOrphans(images, manifest, options);
  out(`Posts: ${posts}, images: ${states.size} (${count('ready')} generated, ${count('placeholder')} placeholders, ${count('missing')} missing)`);
  for (const image of images) {
    const state = states.get(image.key);
    if (state !== 'ready') out(`  ${state}: ${image.request.post} › ${image.request.field} → ${image.fileName}`);
  }
  if (adopted.length > 0) out(`Re-adoptable (their manifest entries are missing; the next build or generate restores them): ${adopted.length}`);
  if (orphans.entries.length + orphans.strayFiles.length > 0) {
    out(`Orphaned (no post uses them; remove with \`astro-comfyui prune\`): ${orphans.entries.length + orphans.strayFiles.length}`);
    for (const o of orphans.entries) out(`  ${o.file}`);
    for (const f of orphans.strayFiles) out(`  ${f} (not in the manifest)`);
  }
  if (problems.length > 0) {
    out(`Invalid prompts: ${problems.length}`);
    for (const p of problems) out(`  ${p.post} › ${p.field} ${p.message}`);
  }
  return count('missing') + count('placeholder') > 0 || problems.length > 0 ? 3 : 0;
}

function formatBytes(bytes: number): string {
  return `${(bytes / 1024 ** 3).toFixed(1)} GiB`;
}
