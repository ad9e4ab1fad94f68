import { ComfyUIError } from './comfyui-error.js';
import { findSameKindFiles } from './find-same-kind-files.js';
import { folderForModelInput } from './model-folders.js';
import { comboOptionsOf } from './read-combo-options.js';
import { serverSpellingOf } from './respell-for-server.js';
import type { ApiWorkflow, NodeInfo, ObjectInfo } from './types.js';

export interface MissingRequirements {
  nodeTypes: Array<{ nodeId: string; classType: string }>;
  /** `sameKind`: files of that kind the folder has (another SD3 checkpoint, another t5xxl), to use instead. */
  modelFiles: Array<{ nodeId: string; classType: string; input: string; file: string; folder: string; sameKind: string[] }>;
  values: Array<{ nodeId: string; classType: string; input: string; value: unknown; allowed: string[] }>;
}

/** Lists every node type the workflow uses that ComfyUI lacks, and every model file that is not installed. */
export function findMissingRequirements(workflow: ApiWorkflow, objectInfo: ObjectInfo): MissingRequirements {
  const missing: MissingRequirements = { nodeTypes: [], modelFiles: [], values: [] };
  for (const [nodeId, node] of Object.entries(workflow)) {
    // Own entries only: a class_type such as "constructor" is a missing node, not what objects inherit.
    const info: NodeInfo | undefined = Object.hasOwn(objectInfo, node.class_type) ? objectInfo[node.class_type] : undefined;
    if (!info) {
      missing.nodeTypes.push({ nodeId, classType: node.class_type });
      continue;
    }
    for (const [input, value] of Object.entries(node.inputs)) {
      if (Array.isArray(value)) continue; // a link, checked by ComfyUI itself
      const allowed = comboOptionsOf(objectInfo, node.class_type, input);
      // A file in a subfolder may be written with either separator: the pool sends the server's own.
      if (!allowed || serverSpellingOf(String(value), allowed) !== undefined) continue;
      const folder = folderForModelInput(input, node.class_type);
      if (folder)
        missing.modelFiles.push({
          nodeId,
          classType: node.class_type,
          input,
          file: String(value),
          folder,
          sameKind: findSameKindFiles(String(value), allowed),
        });
      else missing.values.push({ nodeId, classType: node.class_type, input, value, allowed });
    }
  }
  return missing;
}

/**
 * What is missing, one line each and what to do about it: a model file once however many nodes use it.
 * The build's error, `astro-comfyui status` and the dev toolbar all say it in these words.
 */
export function describeMissingRequirements(missing: MissingRequirements): string[] {
  return [
    ...missing.nodeTypes.map(
      (m) => `node type ${m.classType} (node ${m.nodeId}) is not available: install the custom node that provides it or update ComfyUI.`,
    ),
    ...uniqueBy(missing.modelFiles, (m) => `${m.folder}/${m.file}`).map(
      (m) => `${m.file} is missing: put it in ComfyUI/models/${m.folder}/ (used by ${m.classType} ${m.input})${describeSameKind(m.sameKind)}.`,
    ),
    ...missing.values.map(
      (m) => `${m.classType} ${m.input} "${String(m.value)}" is not one of: ${m.allowed.slice(0, 12).join(', ')}${m.allowed.length > 12 ? ', …' : ''}.`,
    ),
  ];
}

/** Checks a workflow against `/object_info` before the first job; one error lists every missing piece. */
export function assertWorkflowRequirements(workflow: ApiWorkflow, objectInfo: ObjectInfo, url: string): void {
  const missing = findMissingRequirements(workflow, objectInfo);
  const lines = describeMissingRequirements(missing);
  if (lines.length === 0) return;
  throw new ComfyUIError(
    'MISSING_NODES_OR_MODELS',
    `ComfyUI at ${url} cannot run this workflow:\n${lines.map((line) => `- ${line}`).join('\n')}\nComfyUI sees files added to its model folders without a restart.`,
    {
      url,
      details: { ...missing },
    },
  );
}

/** `; that folder has a, b, c and 2 more of its kind`: what could be used instead, three names at most. */
function describeSameKind(files: string[]): string {
  if (files.length === 0) return '';
  const shown = files.slice(0, 3).join(', ');
  return `; that folder has ${shown}${files.length > 3 ? ` and ${files.length - 3} more of its kind` : ''}`;
}

function uniqueBy<T>(items: T[], key: (item: T) => string): T[] {
  const seen = new Set<string>();
  return items.filter((item) => !seen.has(key(item)) && seen.add(key(item)));
}
