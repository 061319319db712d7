// Starts Debian's Chromium headless for the end-to-end tests, with the flags verified on this
// kind of machine (without the background-networking ones it keeps trying to reach Google's
// hosts, which the closed network refuses) and a fresh profile that `close()` removes.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

export async function launchChromium() {
  const profile = await mkdtemp(join(tmpdir(), 'snowlink-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.SNOWLINK_CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: [
      '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
    ],
  });
  const page = context.pages()[0] ?? (await context.newPage());
  page.setDefaultTimeout(15000);
  const close = async () => {
    await context.close();
    await rm(profile, { recursive: true, force: true });
  };
  return { page, close };
}
