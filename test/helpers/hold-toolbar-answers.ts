import type { Page } from 'playwright-core';

/** An answer of the dev server held back: its data, and the call that delivers it to the page. */
export interface HeldAnswer<T> {
  data: T;
  deliver(): void;
}

/**
 * Passes the page's HMR WebSocket to the dev server at `devUrl` through the test. While `holding` is set,
 * the server's messages of `event` are kept in `held` instead of reaching the page, so the test delivers
 * them when and in the order it chooses (answers overtaking each other on a busy machine). Call before
 * the page opens the dev server.
 */
export async function holdToolbarAnswers<T>(page: Page, devUrl: string, event: string) {
  const control = { holding: false, held: [] as Array<HeldAnswer<T>> };
  await page.routeWebSocket(
    (url) => url.port === new URL(devUrl).port,
    (ws) => {
      const upstream = ws.connectToServer();
      ws.onMessage((message) => upstream.send(message));
      upstream.onMessage((message) => {
        const parsed = JSON.parse(String(message)) as { event?: string; data?: T };
        if (!control.holding || parsed.event !== event) return ws.send(message);
        control.held.push({ data: parsed.data as T, deliver: () => ws.send(message) });
      });
    },
  );
  return control;
}
