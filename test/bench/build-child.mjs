// Child process for the build benchmark: one programmatic `astro build`, then its wall and CPU time
// (process-wide, worker threads included). CPU time is far less disturbed by other work on the machine.
import { build } from 'astro';

const root = process.argv[2];
const cpu = process.cpuUsage();
const started = performance.now();
await build({ root, logLevel: 'error' });
const used = process.cpuUsage(cpu);
process.stdout.write(`\n${JSON.stringify({ wallMs: performance.now() - started, cpuMs: (used.user + used.system) / 1000 })}\n`);
