/**
 * `npm run bench [-- pipeline|integration|scan|build|provenance|dev]`: measures what this project adds on top of the GPU, against the
 * fake ComfyUI with a simulated GPU time per image. Not part of `npm test`.
 */
import { cpus, totalmem } from 'node:os';
import { benchBuild } from './bench-build.js';
import { benchDev } from './bench-dev.js';
import { benchDevSave } from './bench-dev-save.js';
import { benchIntegration } from './bench-integration.js';
import { benchPipeline } from './bench-pipeline.js';
import { benchProvenance } from './bench-provenance.js';
import { benchScan } from './bench-scan.js';

const which = new Set(process.argv.slice(2));
const all = which.size === 0;
const rows: string[] = [];
const row = (what: string, figure: string, target: string, met: boolean, command: string) => {
  rows.push(`| ${what} | ${figure} | ${target} | ${met ? 'met' : 'MISSED'} | \`${command}\` |`);
  console.log(`${what}: ${figure} (target ${target}) ${met ? 'met' : 'MISSED'}`);
};

console.log(`Node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB`);

if (all || which.has('pipeline')) {
  for (const endpoints of [1, 4]) {
    const r = await benchPipeline(endpoints, 100);
    const cmd = 'npm run bench -- pipeline';
    row(
      `Pipeline efficiency, ${endpoints} endpoint${endpoints > 1 ? 's' : ''}, 100 images × ${r.gpuMs} ms GPU`,
      `${r.efficiency.toFixed(3)} (ideal ${((r.images * r.gpuMs) / endpoints / 1000).toFixed(2)} s, measured ${(r.wallMs / 1000).toFixed(2)} s)`,
      '≥ 0.98',
      r.efficiency >= 0.98,
      cmd,
    );
    row(
      `GPU utilisation (server busy ÷ wall), ${endpoints} endpoint${endpoints > 1 ? 's' : ''}`,
      `${r.utilization.toFixed(3)} (server busy ${r.busyMs.toFixed(1)} ms per job)`,
      '—',
      true,
      cmd,
    );
    row(
      `Server idle gap between jobs, ${endpoints} endpoint${endpoints > 1 ? 's' : ''}`,
      `median ${r.gapMedianMs.toFixed(2)} ms, p95 ${r.gapP95Ms.toFixed(2)} ms`,
      'median < 5 ms',
      r.gapMedianMs < 5,
      cmd,
    );
  }
}

if (all || which.has('pipeline')) {
  // GPUs of different speeds (or one shared with other people): the fast one should not idle at the end
  // while the slow one still holds a job it has not started.
  const r = await benchPipeline(2, 20, 4, [125, 500]);
  row(
    'Pipeline efficiency, 2 endpoints of 500 ms and 2,000 ms a job, 20 images (ideal: both busy to the end)',
    `${r.efficiency.toFixed(3)} (ideal ${((r.efficiency * r.wallMs) / 1000).toFixed(2)} s, measured ${(r.wallMs / 1000).toFixed(2)} s; ${r.moved} job${r.moved === 1 ? '' : 's'} moved to the idle endpoint)`,
    '—',
    true,
    'npm run bench -- pipeline',
  );
}

if (all || which.has('integration')) {
  for (const committed of [0, 5000, 20_000]) {
    const r = await benchIntegration(committed);
    row(
      `Integration (scan → generate → commit), ${r.images} new images on ${r.endpoints} endpoints, ${committed.toLocaleString('en')} committed`,
      `${r.efficiency.toFixed(3)} (ideal ${((r.images * r.gpuMs) / r.endpoints / 1000).toFixed(2)} s, measured ${(r.spanMs / 1000).toFixed(2)} s; longest GPU gap ${r.maxGapMs.toFixed(0)} ms; servers busy ${r.utilisation.toFixed(3)} of the span, ${r.jobMs.toFixed(1)} ms a job)`,
      '≥ 0.98',
      r.efficiency >= 0.98,
      'npm run bench -- integration',
    );
  }
}

if (all || which.has('scan')) {
  const targets: Record<number, [number, number]> = { 10000: [1000, 150], 50000: [1000, 250] };
  for (const posts of [1000, 10_000, 50_000]) {
    const r = await benchScan(posts);
    const target = targets[posts];
    row(
      `Cache-hit scan + key + manifest check, ${posts.toLocaleString('en')} posts`,
      `${r.ms.toFixed(0)} ms (median of 5 processes; ${r.msRange.map((ms) => ms.toFixed(0)).join('–')} ms), peak RSS ${r.maxRssMb.toFixed(0)} MB; ${(r.ms / r.floorMs).toFixed(2)}× the file system work alone (${r.floorMs.toFixed(0)} ms, alternate processes); CPU time of all threads ${r.cpuMs.toFixed(0)} ms (floor ${r.floorCpuMs.toFixed(0)} ms), so at least ${(r.cpuMs / cpus().length).toFixed(0)} ms on ${cpus().length} cores${r.mainCpuMs === undefined ? '' : `; main thread ${r.mainCpuMs.toFixed(0)} ms, which more cores would not shorten`}`,
      target ? `< ${target[0] / 1000} s, < ${target[1]} MB` : '—',
      !target || (r.ms < target[0] && r.maxRssMb < target[1]),
      'npm run bench -- scan',
    );
  }
}

if (all || which.has('build')) {
  const r = await benchBuild(500, 7);
  row(
    'astro build, 500 cached posts, with ÷ without astro-comfyui (wall)',
    `${r.ratio.toFixed(3)} of medians (${(r.withMs / 1000).toFixed(2)} s vs ${(r.withoutMs / 1000).toFixed(2)} s, 7 runs each); ${r.minRatio.toFixed(3)} of fastest runs`,
    '< 1.05',
    r.ratio < 1.05,
    'npm run bench -- build',
  );
  row(
    'astro build, 500 cached posts, with ÷ without astro-comfyui (CPU time)',
    `${r.cpuRatio.toFixed(3)} of medians`,
    '< 1.05',
    r.cpuRatio < 1.05,
    'npm run bench -- build',
  );
}

if (all || which.has('provenance')) {
  const r = await benchProvenance(500, 5);
  const cmd = 'npm run bench -- provenance';
  row(
    'astro build, 500 posts with a WebP each, cached (derivatives in astro:assets cache), disclosure (XMP + mark) on ÷ off',
    `${(r.warmOnMs / r.warmOffMs).toFixed(3)} (${(r.warmOnMs / 1000).toFixed(2)} s vs ${(r.warmOffMs / 1000).toFixed(2)} s, medians of 5)`,
    '< 1.05',
    r.warmOnMs / r.warmOffMs < 1.05,
    cmd,
  );
  row(
    'astro build, 500 posts with a WebP each, every derivative made (cold cache), disclosure on ÷ off',
    `${(r.coldOnMs / r.coldOffMs).toFixed(3)} (${(r.coldOnMs / 1000).toFixed(2)} s vs ${(r.coldOffMs / 1000).toFixed(2)} s, medians of 5)`,
    '—',
    true,
    cmd,
  );
}

if (all || which.has('dev')) {
  for (const posts of [2000, 20_000]) {
    const r = await benchDev(posts);
    const cmd = 'npm run bench -- dev';
    const site = `astro dev, ${posts.toLocaleString('en')} posts each showing its committed image`;
    row(`${site}: the first page once the server answers`, `${r.firstPageMs.toFixed(0)} ms`, '—', true, cmd);
    row(`${site}: a page, nothing changed`, `${r.pageMs.toFixed(1)} ms (median of 9)`, '—', true, cmd);
    row(
      `${site}: the slowest load of the edited post's page in the 5 s after a save of its text only`,
      `${r.textSaveMs.toFixed(0)} ms (median of 3)`,
      '—',
      true,
      cmd,
    );
    row(`${site}: CPU of the dev server in the 3 s after a save of a post's text only`, `${r.textSaveCpuMs.toFixed(0)} ms (median of 3)`, '—', true, cmd);
    row(`${site}: from a save of a post's alt text until its page shows it`, `${r.altShownMs.toFixed(0)} ms (median of 3)`, '—', true, cmd);
  }
}

if (all || which.has('dev')) {
  const r = await benchDevSave(50_000);
  row(
    `Dev generation alone (stand-in Vite server), ${r.posts.toLocaleString('en')} posts, all images committed: CPU after a save of one post's text / of its alt`,
    `${r.textCpuMs.toFixed(0)} ms / ${r.altCpuMs.toFixed(0)} ms (medians of 3)`,
    '—',
    true,
    'npm run bench -- dev',
  );
}

console.log('\n| measure | result | target | | reproduce |\n|---|---|---|---|---|');
console.log(rows.join('\n'));
