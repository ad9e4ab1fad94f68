import type { ObjectInfo } from './types.js';

/** The allowed values of a combo input in either `/object_info` format, or undefined for other inputs. */
export function readComboOptions(spec: unknown): string[] | undefined {
  if (!Array.isArray(spec)) return undefined;
  if (Array.isArray(spec[0])) return spec[0].map(String);
  if (spec[0] === 'COMBO' && Array.isArray((spec[1] as { options?: unknown })?.options)) {
    return (spec[1] as { options: unknown[] }).options.map(String);
  }
  return undefined;
}

/**
 * The allowed values of a node type's input on a server, or undefined when it is no combo there (or the
 * server lacks the node type). A malformed description (a broken or hostile server) reads as no combo.
 */
export function comboOptionsOf(objectInfo: ObjectInfo, classType: string, input: string): string[] | undefined {
  // Own entries only: a class_type such as "constructor" is a missing node, not what objects inherit.
  const info = Object.hasOwn(objectInfo, classType) ? objectInfo[classType] : undefined;
  const specs = { ...info?.input?.required, ...info?.input?.optional };
  return Object.hasOwn(specs, input) ? readComboOptions(specs[input]) : undefined;
}
