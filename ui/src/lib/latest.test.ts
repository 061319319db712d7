import { describe, expect, it } from 'vitest';
import { latestOnly } from './latest';

function deferred<T>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

describe('latestOnly', () => {
  it('drops an answer that arrives after a newer one', async () => {
    const slow = deferred<string>();
    const fast = deferred<string>();
    const seen: string[] = [];
    const run = latestOnly((input: string) => (input === 'a' ? slow.promise : fast.promise), (o) => seen.push(o));
    const first = run('a');
    const second = run('ab');
    fast.resolve('answer for ab');
    await second;
    slow.resolve('answer for a');
    await first;
    expect(seen).toEqual(['answer for ab']);
  });

  it('applies every answer when they arrive in order', async () => {
    const seen: number[] = [];
    const run = latestOnly(async (n: number) => n * 2, (o) => seen.push(o));
    await run(1);
    await run(2);
    expect(seen).toEqual([2, 4]);
  });
});
