#!/usr/bin/env node
// A stand-in for a person at the system browser, used as $BROWSER by the end-to-end tests:
// `sign-in.mjs URL` opens URL in headless Chromium, signs in on the login page, presses Allow
// (or Deny) on the consent page, and waits until the browser has landed on Snowlink's loopback
// callback page. It knows the simulator's pages (`form#login`, `#allow`/`#deny`) and
// oidc-provider's development login and consent forms. Settings come from the environment,
// never argv (where a password would show in `ps`):
//   SNOWLINK_BROWSER_USER, SNOWLINK_BROWSER_PASSWORD, SNOWLINK_BROWSER_ACTION=allow|deny;
//   and, when the sign-in is for Snowlink's own OAuth application (client id
//   SNOWLINK_BROWSER_ADMIN_CLIENT), the admin SNOWLINK_BROWSER_ADMIN_USER /
//   SNOWLINK_BROWSER_ADMIN_PASSWORD instead, as the same person signs in as the admin there.
// What it did goes to the file SNOWLINK_BROWSER_LOG when set, for test failure messages.
import { appendFileSync, writeFileSync } from 'node:fs';
import { launchChromium } from './chromium.mjs';

const url = process.argv[2];
const forAdmin =
  !!process.env.SNOWLINK_BROWSER_ADMIN_CLIENT &&
  !!url &&
  new URL(url).searchParams.get('client_id') === process.env.SNOWLINK_BROWSER_ADMIN_CLIENT;
const user = forAdmin ? process.env.SNOWLINK_BROWSER_ADMIN_USER : process.env.SNOWLINK_BROWSER_USER || 'abel.tuter';
const password = forAdmin
  ? process.env.SNOWLINK_BROWSER_ADMIN_PASSWORD
  : process.env.SNOWLINK_BROWSER_PASSWORD || 'any-password';
const deny = process.env.SNOWLINK_BROWSER_ACTION === 'deny';
const log = (line) => {
  if (process.env.SNOWLINK_BROWSER_LOG) appendFileSync(process.env.SNOWLINK_BROWSER_LOG, `${line}\n`);
};

if (!url) {
  console.error('usage: sign-in.mjs URL');
  process.exit(2);
}

// SNOWLINK_BROWSER_UNREACHABLE=FILE: the loopback port is out of this browser's reach (a
// remote desktop, WSL): the callback request fails, and the address it was for is written to
// FILE for the person to paste.
const unreachable = process.env.SNOWLINK_BROWSER_UNREACHABLE;
let captured = false;

const { page, close } = await launchChromium();
if (unreachable) {
  // Through the DevTools protocol, which (unlike page.route) also sees a redirect's target.
  const cdp = await page.context().newCDPSession(page);
  cdp.on('Fetch.requestPaused', async ({ requestId, request }) => {
    writeFileSync(unreachable, request.url);
    captured = true;
    log('callback blocked; address written for pasting');
    await cdp.send('Fetch.failRequest', { requestId, errorReason: 'ConnectionRefused' });
  });
  await cdp.send('Fetch.enable', {
    patterns: [{ urlPattern: 'http://127.0.0.1:*/callback*' }, { urlPattern: 'http://localhost:*/callback*' }],
  });
}
const atCallback = () => new URL(page.url()).pathname.endsWith('/callback');
/** Clicks and waits for the page the click leads to. */
const submit = (selector) => Promise.all([page.waitForNavigation(), page.click(selector)]);
let status = 0;
try {
  await page.goto(url);
  log(`opened ${new URL(page.url()).pathname}`);
  for (let step = 0; step < 4 && !atCallback() && !captured; step += 1) {
    if (await page.locator('form#login').count()) {
      // The simulator's login page.
      await page.fill('input[name=user_name]', user);
      await page.fill('input[name=user_password]', password);
      await submit('#sysverb_login');
    } else if (await page.locator('#allow').count()) {
      // The simulator's consent page.
      await submit(deny ? '#deny' : '#allow');
    } else if (await page.locator('input[name="login"]').count()) {
      // oidc-provider's development login (any login and password).
      await page.fill('input[name="login"]', user);
      await page.fill('input[name="password"]', password);
      await submit('button[type="submit"]');
    } else {
      // oidc-provider's development consent.
      await submit(deny ? 'text=[ Cancel ]' : 'button[type="submit"]');
    }
    log(`now at ${new URL(page.url()).pathname}`);
  }
  if (captured) {
    // Done: the person pastes the address.
  } else if (!atCallback()) {
    throw new Error(`never reached the callback; stuck at ${page.url()}`);
  } else {
    log(`callback page: ${(await page.textContent('body'))?.trim().slice(0, 200)}`);
  }
} catch (error) {
  // The blocked callback makes the click's navigation fail: expected then.
  if (!captured) {
    log(`failed: ${error.message}`);
    status = 1;
  }
} finally {
  await close();
}
process.exit(status);
