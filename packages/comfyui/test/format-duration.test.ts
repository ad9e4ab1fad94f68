import { describe, expect, it } from 'vitest';
import { formatDuration } from '../src/index.js';

describe('formatDuration', () => {
  it('states short deadlines exactly and long ones in minutes, never "1 min 60 s"', () => {
    expect([250, 999.4, 999.6, 1500, 59_940, 59_960, 60_000, 119_600, 125_000, 30 * 60_000].map(formatDuration)).toEqual([
      '250 ms',
      '999 ms',
      '1.0 s',
      '1.5 s',
      '59.9 s',
      '1 min',
      '1 min',
      '2 min',
      '2 min 5 s',
      '30 min',
    ]);
  });
});
