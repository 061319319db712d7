import { describe, expect, it, vi } from 'vitest';

const invoke = vi.fn();
vi.mock('@tauri-apps/api/core', () => ({
  invoke: (...args: unknown[]) => invoke(...args),
  Channel: class {
    onmessage: (message: unknown) => void = () => undefined;
  },
}));

const { api, firstConnections } = await import('./api');

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
    expect(invoke).toHaveBeenCalledWith('relay', expect.objectContaining({ method: 'link_account', params: { id: 'c-1' } }));
    expect(urls).toEqual(['https://acme.service-now.com/oauth_auth.do?x=1']);
  });

  it('pass the engine\'s error view through as it is', async () => {
    const error = { code: 'not_found', message: 'There is no connection named "x".', hint: 'h', retryable: false, field: null, next: null };
    invoke.mockRejectedValueOnce(error);
    expect(await api.checkConnection('x')).toEqual({ ok: false, error });
  });
});

describe('the connections as the window opened', () => {
  const w = window as { __SNOWLINK_CONNECTIONS__?: unknown };
  const card = { id: 'acme', displayName: '<img src=x onerror=alert(1)>' };

  it('are taken from the shell once, without a request; later ones ask the engine', async () => {
    invoke.mockReset();
    w.__SNOWLINK_CONNECTIONS__ = { ok: [card] };
    expect(await firstConnections()).toEqual({ ok: true, value: [card] });
    expect(invoke).not.toHaveBeenCalled();
    expect(w.__SNOWLINK_CONNECTIONS__).toBeUndefined();
    invoke.mockResolvedValueOnce([]);
    expect(await firstConnections()).toEqual({ ok: true, value: [] });
    expect(invoke).toHaveBeenCalledWith('relay', expect.objectContaining({ method: 'list_connections' }));
  });

  it('carry the engine\'s error when the file could not be read', async () => {
    const error = { code: 'config_error', message: 'm', hint: 'h', retryable: false, field: null, next: null };
    w.__SNOWLINK_CONNECTIONS__ = { error };
    expect(await firstConnections()).toEqual({ ok: false, error });
  });

  it('are asked for again after a reload, when what the shell read may be stale', async () => {
    invoke.mockReset();
    w.__SNOWLINK_CONNECTIONS__ = { ok: [card] };
    const entries = vi.spyOn(performance, 'getEntriesByType').mockReturnValue([{ type: 'reload' } as unknown as PerformanceEntry]);
    invoke.mockResolvedValueOnce([]);
    expect(await firstConnections()).toEqual({ ok: true, value: [] });
    expect(invoke).toHaveBeenCalledTimes(1);
    entries.mockRestore();
  });
});
