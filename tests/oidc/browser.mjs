#!/usr/bin/env node
// A "system browser" for end-to-end tests, used through $BROWSER: `node browser.mjs URL`
// opens URL in headless Chromium (Debian's /usr/bin/chromium, or $SNOWLINK_CHROMIUM), signs in
// on the page it lands on and presses Allow (or Deny with SNOWLINK_BROWSER_CHOICE=deny), then
// waits until the browser reaches the loopback callback page and prints that page's title.
// It understands oidc-provider's development login and consent forms.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const url = process.argv[2];
if (!url) {
  console.error('usage: browser.mjs URL');
  process.exit(2);
}
const deny = process.env.SNOWLINK_BROWSER_CHOICE === 'deny';
const profile = mkdtempSync(join(tmpdir(), 'snowlink-chromium-'));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.SNOWLINK_CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: [
    '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
  ],
});
try {
  const page = context.pages()[0] ?? (await context.newPage());
  await page.goto(url);
  for (let step = 0; step < 4 && !new URL(page.url()).pathname.endsWith('/callback'); step += 1) {
    if (await page.locator('input[name="login"]').count()) {
      await page.fill('input[name="login"]', 'abel.tuter');
      await page.fill('input[name="password"]', 'any-password');
      await Promise.all([page.waitForNavigation(), page.click('button[type="submit"]')]);
    } else if (deny) {
      await Promise.all([page.waitForNavigation(), page.click('text=[ Cancel ]')]);
    } else {
      await Promise.all([page.waitForNavigation(), page.click('button[type="submit"]')]);
    }
  }
  console.log(await page.title());
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}
