/** A duration as a message shows it: `450 ms`, `1.5 s`, `30 min 0 s`. Rounding 1.5 s to "2 s" misstates a short deadline. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
}
