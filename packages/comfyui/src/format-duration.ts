/** A duration as a message shows it: `450 ms`, `1.5 s`, `2 min 5 s`, `30 min`. Rounding 1.5 s to "2 s" misstates a short deadline. */
export function formatDuration(ms: number): string {
  if (ms < 999.5) return `${Math.round(ms)} ms`;
  if (ms < 59_950) return `${(ms / 1000).toFixed(1)} s`;
  // Whole seconds first, so 119.6 s is "2 min", never "1 min 60 s".
  const seconds = Math.round(ms / 1000);
  const rest = seconds % 60;
  return `${Math.floor(seconds / 60)} min${rest ? ` ${rest} s` : ''}`;
}
