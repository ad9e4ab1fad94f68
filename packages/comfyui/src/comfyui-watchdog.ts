/**
 * A tiny Node program that runs ComfyUI for the supervisor (`node -e <script>`, the script made by
 * `watchdogScript(python, ['main.py', …])`) so that ComfyUI never outlives the process that started it,
 * however that process dies. The supervisor holds the write end of the watchdog's stdin; the kernel closes
 * it when the supervisor exits, even by SIGKILL or the OOM killer, which run no handler. On that end of
 * input the watchdog stops its process group (it is the group leader; ComfyUI and its workers are
 * members): SIGTERM, then SIGKILL after 5 s. Windows has no process groups (`process.kill(-pid)` throws
 * there): it ends ComfyUI's process tree with System32's `taskkill /T /F` instead (a console program gets
 * no gentler request there). It reports ComfyUI's pid on fd 3 and exits with ComfyUI's exit code or signal.
 * Inline rather than a file so it runs the same from the sources and from the published package. The
 * command is written into the script, not read from `process.argv`, whose layout after `-e` differs
 * between runtimes (Deno puts a script name first).
 */
export function watchdogScript(command: string, args: readonly string[]): string {
  return `
const { spawn, spawnSync } = require('node:child_process');
const { writeSync } = require('node:fs');
const { join } = require('node:path');
const [command, ...args] = ${JSON.stringify([command, ...args])};
// Hidden: this watchdog has no console on Windows, where ComfyUI would otherwise open a window of its own.
const child = spawn(command, args, { stdio: ['ignore', 'inherit', 'inherit'], windowsHide: true });
child.on('error', (error) => { process.stderr.write(error.message + '\\n'); process.exit(127); });
if (child.pid) try { writeSync(3, child.pid + '\\n'); } catch {}
let stopping = false;
const stopGroup = () => {
  if (stopping) return;
  stopping = true;
  if (process.platform === 'win32') {
    // By its full path, not PATH's first taskkill; ComfyUI's exit then ends this watchdog.
    const taskkill = join(process.env.SystemRoot || 'C:\\\\Windows', 'System32', 'taskkill.exe');
    const ended = child.pid && spawnSync(taskkill, ['/pid', String(child.pid), '/T', '/F'], { stdio: 'ignore', windowsHide: true, timeout: 10000 });
    if (!ended || ended.status !== 0) child.kill();
    return;
  }
  try { process.kill(-process.pid, 'SIGTERM'); } catch {}
  setTimeout(() => { try { process.kill(-process.pid, 'SIGKILL'); } catch {} }, 5000).unref();
};
process.stdin.on('end', stopGroup);
process.stdin.on('error', stopGroup);
process.stdin.resume();
for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP']) process.on(signal, stopGroup);
child.on('exit', (code, signal) => {
  if (!signal) process.exit(code ?? 1);
  process.removeAllListeners(signal);
  process.kill(process.pid, signal);
});
`;
}
