import type { ComfyUISupervisor } from '@astro-comfyui/comfyui';

/** What one `astro dev` of a project runs besides Vite. */
export interface DevSession {
  /** The ComfyUI supervisor of the session, and the endpoint and start command it was made for. */
  supervisor: ComfyUISupervisor | undefined;
  startKey: string;
  /** Stops background generation and the toolbar's server side; ComfyUI is left to the caller. */
  stopWork: () => Promise<void>;
}

/**
 * The dev session of each project root in this process. Astro restarts dev in place when astro.config
 * (or a watched file) is saved: it runs the integration anew, without `astro:server:done` for the old
 * one. The new one takes over here, so the old generation and toolbar stop, and a ComfyUI that dev
 * started keeps running (with its models loaded) and stays the new session's to stop.
 */
const sessions = new Map<string, DevSession>();

/**
 * Ends the previous session of `root`, if any, and returns its supervisor when `startKey` is unchanged
 * (the same endpoint and start command); a changed one is disposed, which stops its ComfyUI.
 */
export async function takeOverDevSession(root: string, startKey: string): Promise<ComfyUISupervisor | undefined> {
  const previous = sessions.get(root);
  if (!previous) return undefined;
  sessions.delete(root);
  await previous.stopWork();
  if (previous.startKey === startKey) return previous.supervisor;
  await previous.supervisor?.dispose();
  return undefined;
}

export function keepDevSession(root: string, session: DevSession): void {
  sessions.set(root, session);
}

/**
 * The session ended (`astro:server:done`): nothing is left to take over. False when a newer session
 * took it over already: its supervisor is the newer one's now, and its work was stopped then.
 */
export function endDevSession(root: string, session: DevSession): boolean {
  if (sessions.get(root) !== session) return false;
  sessions.delete(root);
  return true;
}
