import { describe, expect, it, vi } from 'vitest';

const invoke = vi.fn();
vi.mock('@tauri-apps/api/core', () => ({
  invoke: (...args: unknown[]) => invoke(...args),
  Channel: class {
    onmessage: (message: unknown) => void = () => undefined;
  },
}));

const { api } = await import('./api');

describe('requests to the engine', () => {
  it('name the method, carry the parameters and hand each event to its listener', async () => {
    invoke.mockImplementationOnce(async (_command: string, args: { events: { onmessage: (m: unknown) => void } }) => {
      args.events.onmessage({ channel: 'url', data: 'https://acme.service-now.com/oauth_auth.do?x=1' });
      args.events.onmessage({ channel: 'unknown', data: 'ignored' });
      return { id: 'c-1' };
    });
    const urls: string[] = [];
    const answer = await api.linkAccount('c-1', (url) => urls.push(url));
    expect(answer).toEqual({ ok: true, value: { id: 'c-1' } });
    expect(invoke).toHaveBeenCalledWith('engine', expect.objectContaining({ method: 'link_account', params: { id: 'c-1' } }));
    expect(urls).toEqual(['https://acme.service-now.com/oauth_auth.do?x=1']);
  });

  it('pass the engine\'s error view through as it is', async () => {
    const error = { code: 'not_found', message: 'There is no connection named "x".', hint: 'h', retryable: false, field: null, next: null };
    invoke.mockRejectedValueOnce(error);
    expect(await api.checkConnection('x')).toEqual({ ok: false, error });
  });
});
