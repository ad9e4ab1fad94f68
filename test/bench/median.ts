/** The middle value of a benchmark's runs (the upper middle for an even count); the runs are left as they are. */
export function median(values: number[]): number {
  return values.toSorted((a, b) => a - b)[Math.floor(values.length / 2)]!;
}
