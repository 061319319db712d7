// An automated accessibility audit (axe-core) of what a test rendered. jsdom lays nothing out,
// so colour contrast is left to the screenshots; landmarks are the app shell's (App.svelte),
// not each screen's.
import axe from 'axe-core';
import { expect } from 'vitest';

export async function expectAccessible(root: Element = document.body): Promise<void> {
  const result = await axe.run(root, {
    resultTypes: ['violations'],
    rules: { 'color-contrast': { enabled: false }, region: { enabled: false } },
  });
  const found = result.violations.map(
    (v) => `${v.id} (${v.help}): ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`,
  );
  expect(found).toEqual([]);
}
