import { describe, expect, it } from 'vitest';
import { relativeTime } from './format';

describe('relativeTime', () => {
  const now = new Date('2026-11-23T12:00:00Z');
  it('says how far a time is, forwards and backwards', () => {
    expect(relativeTime('2026-11-23T12:29:40Z', now)).toBe('in 30 min');
    expect(relativeTime('2026-11-23T15:00:00Z', now)).toBe('in 3 h');
    expect(relativeTime('2026-11-20T12:00:00Z', now)).toBe('3 days ago');
    expect(relativeTime('2026-11-23T12:00:10Z', now)).toBe('just now');
    expect(relativeTime('2026-11-23T11:59:50Z', now)).toBe('just now');
  });
  it('does not invent a time for garbage', () => {
    expect(relativeTime('not a date', now)).toBe('unknown');
  });
});
