import { defineConfig } from 'vitest/config';
import type { Plugin } from 'vite';
import { svelte } from '@sveltejs/vite-plugin-svelte';

/** The app's script blocks the window's first paint until it has run (`blocking="render"`):
 * the connections come with the page (src-tauri/src/window.rs), so the first frame WebKit
 * paints already shows them, rather than an empty page that a second frame replaces. */
const firstFrameWaitsForTheApp: Plugin = {
  name: 'first-frame-waits-for-the-app',
  transformIndexHtml: {
    order: 'post',
    handler: (html) => {
      const entry = '<script type="module" crossorigin';
      if (!html.includes(entry)) throw new Error('index.html has no module entry script to mark');
      return html.replace(entry, '<script type="module" blocking="render" crossorigin');
    },
  },
};

// Tauri serves the built files itself; no dev server is needed for the app or its tests.
export default defineConfig({
  plugins: [svelte(), firstFrameWaitsForTheApp],
  clearScreen: false,
  build: {
    target: 'es2022',
    outDir: 'dist',
    emptyOutDir: true,
  },
  resolve: process.env.VITEST ? { conditions: ['browser'] } : undefined,
  test: {
    environment: 'jsdom',
    include: ['src/**/*.test.ts'],
  },
});
