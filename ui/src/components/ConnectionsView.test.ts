import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/svelte';
import { afterEach, describe, expect, it, vi } from 'vitest';
import ConnectionsView from './ConnectionsView.svelte';
import type { Connection } from '../lib/bindings/Connection';

const linked: Connection = {
  id: 'c-1',
  displayName: 'Acme',
  instance: 'https://acme.service-now.com',
  profileId: 'custom',
  grant: 'auth-code',
  clientId: 'abc',
  username: null,
  linkedIdentity: { userName: 'abel.tuter', sysId: '62826bf03710200044e0bfc8bcbe5df1' },
  status: { state: 'connected', lastChecked: null, tokenExpiresAt: null, reason: null },
};

function fakeApi() {
  const unlinked: Connection = { ...linked, linkedIdentity: null, status: { ...linked.status, state: 'disconnected' } };
  return {
    listConnections: vi.fn(async () => ({ ok: true as const, value: [linked] })),
    checkConnection: vi.fn(),
    linkAccount: vi.fn(),
    cancelSignIn: vi.fn(),
    unlinkAccount: vi.fn(async () => ({ ok: true as const, value: { connection: unlinked, warning: null } })),
  };
}

afterEach(cleanup);

describe('ConnectionsView', () => {
  it('unlinks only after the user confirms', async () => {
    const api = fakeApi();
    render(ConnectionsView, { api });
    await fireEvent.click(await screen.findByTestId('unlink-button'));
    expect(screen.getByTestId('unlink-dialog').textContent).toContain('abel.tuter');
    await fireEvent.click(screen.getByTestId('cancel-unlink'));
    expect(api.unlinkAccount).not.toHaveBeenCalled();
    expect(screen.queryByTestId('unlink-dialog')).toBeNull();

    await fireEvent.click(screen.getByTestId('unlink-button'));
    await fireEvent.click(screen.getByTestId('confirm-unlink'));
    expect(api.unlinkAccount).toHaveBeenCalledWith('c-1');
    await waitFor(() => expect(screen.getByTestId('connection-identity').textContent).toContain('No account linked'));
    expect(screen.getByTestId('link-button')).toBeTruthy();
  });

  it('shows a failed link with its reason and fix', async () => {
    const api = fakeApi();
    api.listConnections.mockResolvedValue({ ok: true, value: [{ ...linked, linkedIdentity: null }] });
    api.linkAccount.mockResolvedValue({
      ok: false,
      error: { code: 'sign_in_failed', message: 'You pressed Deny.', hint: 'Link again and press Allow.', retryable: false },
    });
    render(ConnectionsView, { api });
    await fireEvent.click(await screen.findByTestId('link-button'));
    const error = await screen.findByTestId('connections-error');
    expect(error.textContent).toContain('You pressed Deny.');
    expect(error.textContent).toContain('press Allow');
  });
});
