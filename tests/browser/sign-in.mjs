#!/usr/bin/env node
// A stand-in for a person at a real browser, used as $BROWSER by the end-to-end tests:
// `sign-in.mjs URL` opens URL in headless Chromium, logs in on the instance's login form if it
// appears, presses Allow (or Deny) on the consent page, and waits until the browser has landed
// on Snowlink's loopback callback page. Credentials come from the environment, never argv:
//   SNOWLINK_BROWSER_USER, SNOWLINK_BROWSER_PASSWORD, SNOWLINK_BROWSER_ACTION=allow|deny
// It logs what it did to SNOWLINK_BROWSER_LOG (a file) when set, for test failure messages.
import { appendFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const url = process.argv[2];
const user = process.env.SNOWLINK_BROWSER_USER ?? '';
const password = process.env.SNOWLINK_BROWSER_PASSWORD ?? '';
const action = process.env.SNOWLINK_BROWSER_ACTION ?? 'allow';
const log = (line) => {
  if (process.env.SNOWLINK_BROWSER_LOG) appendFileSync(process.env.SNOWLINK_BROWSER_LOG, `${line}\n`);
};

if (!url) {
  console.error('usage: sign-in.mjs URL');
  process.exit(2);
}

// Flags verified on this kind of machine: without the background-networking ones Chromium
// keeps trying to reach Google's hosts, which the closed network refuses.
const profile = mkdtempSync(join(tmpdir(), 'snowlink-chromium-'));
const browser = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.SNOWLINK_CHROMIUM ?? '/usr/bin/chromium',
  headless: true,
  args: [
    '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
  ],
});
let status = 0;
try {
  const page = browser.pages()[0] ?? (await browser.newPage());
  page.setDefaultTimeout(15000);
  await page.goto(url);
  log(`opened ${new URL(page.url()).pathname}`);
  if (await page.locator('form#login').count()) {
    await page.fill('input[name=user_name]', user);
    await page.fill('input[name=user_password]', password);
    await Promise.all([page.waitForLoadState(), page.click('#sysverb_login')]);
    log(`logged in, now at ${new URL(page.url()).pathname}`);
  }
  await page.click(action === 'deny' ? '#deny' : '#allow');
  await page.waitForURL((u) => u.pathname === '/callback', { timeout: 15000 });
  await page.waitForLoadState();
  log(`callback page: ${(await page.textContent('body'))?.trim().slice(0, 200)}`);
} catch (error) {
  log(`failed: ${error.message}`);
  status = 1;
} finally {
  await browser.close();
  rmSync(profile, { recursive: true, force: true });
}
process.exit(status);
