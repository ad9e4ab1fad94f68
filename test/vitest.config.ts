import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BaseSequencer, type TestSpecification } from 'vitest/node';
import { defineConfig } from 'vitest/config';

const root = fileURLToPath(new URL('..', import.meta.url));

/**
 * Starts the files that run real builds, dev servers and browsers first. Vitest orders files by their
 * last duration, which a fresh clone (CI) does not have; it then orders them by size, and a short file
 * with one long test (the README's quick start, ~70 s) started last would leave one worker idle.
 */
class SubprocessFilesFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const heavy = (spec: TestSpecification) => /^test\/(integration|browser)\//.test(path.relative(root, spec.moduleId).split(path.sep).join('/'));
    return [...sorted.filter(heavy), ...sorted.filter((spec) => !heavy(spec))];
  }
}

export default defineConfig({
  // The config lives in test/ (the top level is fixed by the design); paths are from the repository root.
  root,
  test: {
    include: ['test/**/*.test.ts', 'packages/*/test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Astro builds and subprocess tests are heavy; two cores run two files at a time.
    maxWorkers: 2,
    sequence: { sequencer: SubprocessFilesFirst },
  },
});
