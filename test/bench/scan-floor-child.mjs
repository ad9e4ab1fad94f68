// Child process for the scan benchmark's floor: the file system work that no scan of a cached site can
// skip (list the posts, read each one, read and parse the manifest, list the images), nothing else. The
// scan's time over this one, measured in the same minutes, says what the code adds on any machine.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

const root = process.argv[2];
const content = path.join(root, 'src/content');
const outDir = path.join(root, 'src/assets/generated');
const started = performance.now();
const cpuBefore = process.cpuUsage();
// The cheapest listing: the directory entries' own types, no stat (readdirSync's `recursive` takes 5× as long).
const posts = [];
const walk = (dir) => {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const file = path.join(dir, entry.name);
    if (entry.isDirectory()) walk(file);
    else if (/\.mdx?$/.test(entry.name)) posts.push(file);
  }
};
walk(content);
posts.sort();
let characters = 0;
for (const post of posts) characters += readFileSync(post, 'utf8').length;
const entries = Object.keys(JSON.parse(readFileSync(path.join(outDir, 'images.lock.json'), 'utf8')).images).length;
const files = readdirSync(outDir).length;
const ms = performance.now() - started;
const cpu = process.cpuUsage(cpuBefore);
process.stdout.write(
  JSON.stringify({
    ms,
    cpuMs: (cpu.user + cpu.system) / 1000,
    maxRssMb: process.resourceUsage().maxRSS / 1024,
    posts: posts.length,
    characters,
    entries,
    files,
  }),
);
