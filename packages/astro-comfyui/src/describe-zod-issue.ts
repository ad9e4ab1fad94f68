/** The fields of a zod 4 issue that the sentences need. */
export interface ZodIssueLike {
  code: string;
  message: string;
  path: PropertyKey[];
  expected?: string;
  minimum?: number | bigint;
  maximum?: number | bigint;
  origin?: string;
  values?: unknown[];
  keys?: string[];
}

/** zod's own wording starts like this; a message written in a schema is already a sentence. */
const ZOD_WORDING = /^(Too (small|big)|Invalid (input|option)|Unrecognized keys?)\b/;

/**
 * What is wrong with a value, as the rest of a sentence that starts with its name: "must be at least 0",
 * "is missing", "must be one of: hero, square". `value` is the value that failed, for "got …".
 */
export function describeZodIssue(issue: ZodIssueLike, value: unknown): string {
  if (!ZOD_WORDING.test(issue.message)) return issue.message;
  const plural = (n: number | bigint, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
  switch (issue.code) {
    case 'too_small':
      if (issue.origin === 'string') return issue.minimum === 1 ? 'must not be empty' : `must have at least ${plural(issue.minimum!, 'character')}`;
      if (issue.origin === 'array') return `needs at least ${plural(issue.minimum!, 'item')}`;
      return `must be at least ${issue.minimum}`;
    case 'too_big':
      if (issue.origin === 'string') return `must have at most ${plural(issue.maximum!, 'character')}`;
      if (issue.origin === 'array') return `can have at most ${plural(issue.maximum!, 'item')}`;
      return `must be at most ${issue.maximum}`;
    case 'invalid_type':
      if (value === undefined) return 'is missing';
      if (issue.expected === 'int') return `must be a whole number, got ${describeValue(value)}`;
      return `must be ${article(issue.expected ?? 'value')}, got ${describeValue(value)}`;
    case 'invalid_value':
      return `must be one of: ${(issue.values ?? []).map((v) => JSON.stringify(v)).join(', ')}; got ${describeValue(value)}`;
    case 'unrecognized_keys':
      return `has unknown key${(issue.keys?.length ?? 0) > 1 ? 's' : ''} ${(issue.keys ?? []).map((k) => `"${k}"`).join(', ')}`;
    default:
      return `is not valid (${describeValue(value)})`;
  }
}

/** "a number", "an object", "a list", "true or false". */
function article(type: string): string {
  const words: Record<string, string> = { array: 'a list', boolean: 'true or false', object: 'an object', string: 'a text', number: 'a number' };
  return words[type] ?? `a ${type}`;
}

/** A short description of a value for messages: `the text "abc…"`, `a list`, `number 7`. */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'string') return `the text "${value.length > 40 ? `${value.slice(0, 40)}…` : value}"`;
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${String(value)}`;
}
