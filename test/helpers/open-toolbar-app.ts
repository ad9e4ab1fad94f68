import type { Locator, Page } from 'playwright-core';

/**
 * The astro-comfyui app's button in Astro's dev toolbar, once the app is set up. Astro sets its apps up
 * when the page is first idle and ignores a press on one still loading (the panel then never opens, so
 * a test pressing too early on a busy machine waits in vain); the panel's fields exist once it is set up.
 */
export async function findAppButton(tab: Page): Promise<Locator> {
  await tab.getByTestId('prompt').waitFor({ state: 'attached' });
  return tab.locator('astro-dev-toolbar [data-app-id="astro-comfyui"]').first();
}

/** Opens the app's panel with the pointer, as an author does. */
export async function openToolbarApp(tab: Page): Promise<void> {
  const button = await findAppButton(tab);
  // The toolbar is collapsed until the pointer is over it.
  await tab.locator('astro-dev-toolbar #dev-bar').first().hover();
  await button.click();
  await tab.getByTestId('prompt').waitFor({ state: 'visible' });
}
