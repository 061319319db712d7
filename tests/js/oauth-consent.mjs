// Signs in on the simulator's OAuth login page and presses Allow (or Deny) on its consent page
// in a real headless Chromium, then prints the URL the browser was sent back to as one JSON
// line: {"callback": "..."}. Usage: node oauth-consent.mjs AUTHORIZE_URL USER PASSWORD
// REDIRECT_PREFIX [allow|deny]. Nothing needs to listen at the callback address.
import { launchChromium } from './chromium.mjs';

const [authorizeUrl, user, password, redirectPrefix, action = 'allow'] = process.argv.slice(2);
if (!authorizeUrl || !user || !password || !redirectPrefix) {
  console.error('usage: oauth-consent.mjs AUTHORIZE_URL USER PASSWORD REDIRECT_PREFIX [allow|deny]');
  process.exit(2);
}

const { page, close } = await launchChromium();
try {
  await page.goto(authorizeUrl);
  await page.fill('#user_name', user);
  await page.fill('#user_password', password);
  await Promise.all([page.waitForSelector('#consent'), page.click('#sysverb_login')]);
  // The consent POST answers with a redirect to the callback; nothing listens there, so the
  // request itself (redirects included) is what we wait for, not a loaded page.
  const [request] = await Promise.all([
    page.waitForRequest((r) => r.url().startsWith(redirectPrefix)),
    page.click(`#${action}`),
  ]);
  const callback = request.url();
  console.log(JSON.stringify({ callback }));
} finally {
  await close();
}
