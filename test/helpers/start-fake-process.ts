import { execa, type ResultPromise } from 'execa';
import { fakeLauncherPath } from './fake-launcher.js';

/**
 * Starts the fake ComfyUI as its own process on port 0 and reads the address it prints, so no other
 * process can take the port between choosing and listening (findFreePort then listen can race).
 */
export async function startFakeProcess(env: Record<string, string> = {}): Promise<{ url: string; stop: () => Promise<void> }> {
  const child = execa(process.execPath, ['--import', 'tsx', fakeLauncherPath, '--port', '0'], { env, buffer: false, reject: false });
  const url = await readFakeUrl(child);
  return {
    url,
    async stop() {
      child.kill('SIGTERM');
      await child;
    },
  };
}

/** The address a fake ComfyUI process prints once it listens (as ComfyUI does); rejects if it exits first. */
export function readFakeUrl(child: ResultPromise): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    let output = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const match = /To see the GUI go to: (http:\/\/\S+)/.exec(output);
      if (match) resolve(match[1]!);
    });
    void child.then((result) => reject(new Error(`the fake ComfyUI exited (${result.exitCode}):\n${output}`)));
  });
}
