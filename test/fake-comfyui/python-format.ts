/** Formats values the way ComfyUI's Python code prints them into error messages. */
export function formatPython(value: unknown, type?: string): string {
  if (typeof value === 'number') {
    if (type === 'FLOAT' && Number.isInteger(value)) return `${value}.0`;
    return String(value);
  }
  if (typeof value === 'string') return value;
  if (value === null || value === undefined) return 'None';
  if (typeof value === 'boolean') return value ? 'True' : 'False';
  if (Array.isArray(value)) return `[${value.map(reprPython).join(', ')}]`;
  return JSON.stringify(value);
}

/** Python's `repr()` for the JSON values that appear in ComfyUI errors. */
export function reprPython(value: unknown): string {
  if (typeof value === 'string') return value.includes("'") && !value.includes('"') ? `"${value}"` : `'${value.replaceAll("'", "\\'")}'`;
  return formatPython(value);
}

/** `json.dumps` with its default `ensure_ascii=True` and separators, as ComfyUI writes PNG text chunks. */
export function dumpJsonLikePython(value: unknown): string {
  const dump = (v: unknown): string => {
    if (Array.isArray(v)) return `[${v.map(dump).join(', ')}]`;
    if (v !== null && typeof v === 'object') {
      return `{${Object.entries(v)
        .filter(([, item]) => item !== undefined)
        .map(([k, item]) => `${dump(k)}: ${dump(item)}`)
        .join(', ')}}`;
    }
    return JSON.stringify(v ?? null);
  };
  return dump(value).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
