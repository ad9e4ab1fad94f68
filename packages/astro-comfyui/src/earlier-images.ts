import { canonicalJson } from './canonical-json.js';
import type { Manifest, ManifestEntry } from './manifest.js';
import type { ResolvedImage } from './resolve-image.js';

/** A generated file's name without its key: `<slug>[-<index>]-`, the same for every image of one place in a post. */
const placeOf = (file: string) => /^(.+-)[0-9a-f]{12}\.png$/.exec(file)?.[1];

/**
 * The committed images that a post had at each place before (`image:`, `images[2]`…), to say why an image
 * is to be made again: a change of the options (a style, the model's steps, the workflow) makes every
 * image of a site again, hours of GPU time, and without a reason given it looks like the cache failed.
 */
export class EarlierImages {
  readonly #byPlace = new Map<string, ManifestEntry>();

  /** `images`: the only images that will be asked about (a site's manifest may list 50,000). */
  constructor(manifest: Manifest, images?: readonly ResolvedImage[]) {
    const posts = images && new Set(images.map((image) => image.request.post));
    for (const entry of Object.values(manifest.images)) {
      // A placeholder is made again anyway, whatever changed.
      if (entry.placeholder || (posts && !entry.posts.some((post) => posts.has(post)))) continue;
      const place = placeOf(entry.file);
      if (place === undefined) continue;
      for (const post of entry.posts) {
        const at = `${post}\0${place}`;
        const known = this.#byPlace.get(at);
        if (!known || known.created < entry.created) this.#byPlace.set(at, entry);
      }
    }
  }

  /**
   * What differs between the newest committed image of the image's place and the image, e.g.
   * `["steps 4 → 6"]`; undefined when that place had none, or one the same as this image.
   */
  changesOf(image: ResolvedImage): string[] | undefined {
    const place = placeOf(image.fileName);
    const before = place === undefined ? undefined : this.#byPlace.get(`${image.request.post}\0${place}`);
    if (!before) return undefined;
    const changes: string[] = [];
    if (before.workflow !== image.workflowId) {
      changes.push(describeWorkflowChange(before.workflow, image.workflowId));
    } else {
      for (const name of [...new Set([...Object.keys(before.model), ...Object.keys(image.model)])].sort()) {
        const [was, now] = [before.model[name], image.model[name]];
        if (canonicalJson(was) !== canonicalJson(now)) changes.push(`${name} ${show(was)} → ${show(now)}`);
      }
    }
    // The author's own workflow may scale its image: its recorded size is the one it had, not the format's.
    if (image.madeSize && (before.width !== image.width || before.height !== image.height)) {
      changes.push(`size ${before.width}×${before.height} → ${image.width}×${image.height}`);
    }
    const promptChanged = before.prompt !== image.positive;
    if (promptChanged) changes.push(`the prompt: ${describeEdit(before.prompt, image.positive)}`);
    if (before.negative !== image.negative) changes.push(`the negative prompt: ${describeEdit(before.negative, image.negative)}`);
    // A seed derived from the prompt changes with it: the prompt says it all.
    if (before.seed !== image.seed && !(promptChanged && image.request.seed === undefined)) changes.push(`seed ${before.seed} → ${image.seed}`);
    return changes.length > 0 ? changes : undefined;
  }

  /** For a line that names the image: ` (changed since its committed image: steps 4 → 6)`, or nothing. */
  noteOf(image: ResolvedImage): string {
    const changes = this.changesOf(image);
    return changes ? ` (changed since its committed image: ${changes.join(', ')})` : '';
  }

  /**
   * One sentence for the log before images are made: how many of them replace committed ones, and the
   * most common changes; undefined when none does.
   */
  summarise(images: ResolvedImage[]): string | undefined {
    const counts = new Map<string, number>();
    let replacing = 0;
    for (const image of images) {
      const changes = this.changesOf(image);
      if (!changes) continue;
      replacing++;
      for (const change of changes) counts.set(change, (counts.get(change) ?? 0) + 1);
    }
    if (replacing === 0) return undefined;
    const shown = [...counts].sort((a, b) => b[1] - a[1]).slice(0, 5);
    const list = shown.map(([change, n]) => `${change} (${n} image${n === 1 ? '' : 's'})`).join('; ');
    const one = replacing === 1;
    const who = replacing === images.length ? (one ? 'It' : 'They') : `${replacing} of them`;
    return `${who} ${one ? 'replaces a committed image' : 'replace committed images'} that other settings made: ${list}${counts.size > shown.length ? '; …' : ''}. The committed files stay until \`npx astro-comfyui prune\`.`;
  }
}

/**
 * Another graph, in the author's words: another `model.preset`, a new version of this package's SD3.5
 * graph (an upgrade that draws differently), an edited workflow file, or a switch between the two.
 */
function describeWorkflowChange(was: string, now: string): string {
  const [a, b] = [SD35_WORKFLOW.exec(was), SD35_WORKFLOW.exec(now)];
  if (a && b) return a[1] === b[1] ? `astro-comfyui's SD3.5 graph, version ${a[2]} → ${b[2]}` : `model preset ${a[1]} → ${b[1]}`;
  if (!a && !b) return 'the workflow file';
  return a ? `model preset ${a[1]} → the workflow file` : `the workflow file → model preset ${b![1]}`;
}

/** A built-in graph's id (resolve-image.ts): `sd35:<preset>@<version>`; anything else is the author's workflow. */
const SD35_WORKFLOW = /^sd35:([\w-]+)@(\d+)$/;

/** A model setting as the author writes it: a list of files joined, a long value cut. */
function show(value: unknown): string {
  if (value === undefined || value === null) return 'none';
  return cut(Array.isArray(value) ? value.join(', ') : typeof value === 'string' ? value : canonicalJson(value));
}

/**
 * The words that differ between two prompts, without those they share at both ends: a style's new prefix
 * reads `"watercolor painting" → "loose watercolour"`, the same for every post that uses the style.
 */
function describeEdit(was: string, now: string): string {
  const [a, b] = [was.split(' '), now.split(' ')];
  let start = 0;
  while (start < a.length && start < b.length && a[start] === b[start]) start++;
  let end = 0;
  while (end < a.length - start && end < b.length - start && a[a.length - 1 - end] === b[b.length - 1 - end]) end++;
  const [removed, added] = [a.slice(start, a.length - end).join(' '), b.slice(start, b.length - end).join(' ')];
  if (removed === '') return `added "${cut(added)}"`;
  if (added === '') return `removed "${cut(removed)}"`;
  return `"${cut(removed)}" → "${cut(added)}"`;
}

const cut = (text: string) => (text.length > 60 ? `${text.slice(0, 59)}…` : text);
