import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/svelte';
import { afterEach, describe, expect, it, vi } from 'vitest';
import ConnectionsView from './ConnectionsView.svelte';
import { expectAccessible } from '../test/axe';
import type { ConnectionView } from '../lib/bindings/ConnectionView';
import type { EditView } from '../lib/bindings/EditView';
import type { TestEvent } from '../lib/bindings/TestEvent';
import type { RememberedAdminView } from '../lib/bindings/RememberedAdminView';

const form: EditView = {
  id: 'c-1',
  name: 'Acme',
  instance: 'https://acme.service-now.com',
  grantLabel: 'Password grant (OAuth)',
  note: 'Save and test signs in with these settings first; if that fails, nothing is changed.',
  fields: [
    { field: 'connection-name', label: 'Connection name', value: 'Acme', secret: false, required: true, stored: false, placeholder: '' },
    { field: 'client-id', label: 'Client ID', value: '0123abcd', secret: false, required: true, stored: false, placeholder: '' },
    { field: 'client-secret', label: 'Client secret', value: '', secret: true, required: true, stored: true, placeholder: 'Kept in the keyring; type a new one to replace it' },
  ],
  steps: (['keyring', 'sign-in', 'identify', 'save', 'count'] as const).map((step) => ({
    step,
    label: `Step ${step}`,
    status: 'pending' as const,
    detail: null,
  })),
};

const linked: ConnectionView = {
  id: 'c-1',
  name: 'Acme',
  instance: 'https://acme.service-now.com',
  profileId: 'custom',
  grant: 'auth-code',
  grantLabel: 'Browser sign-in (OAuth)',
  clientId: '0123abcd',
  username: null,
  state: 'connected',
  badge: { label: 'Connected', tone: 'ok' },
  identity: { userName: 'abel.tuter', sysId: '62826bf03710200044e0bfc8bcbe5df1' },
  summary: 'Signed in as abel.tuter',
  lastChecked: null,
  tokenExpiresAt: null,
  refreshTokenEndsAt: null,
  refreshTokenNote: null,
  actions: ['check', 'unlink', 'edit', 'remove'],
  problem: false,
  linked: { label: 'records created by the connection\'s user', table: 'task', total: 12, byState: [{ state: '1', count: 12 }] },
};

const notLinked: ConnectionView = {
  ...linked,
  state: 'not-linked',
  badge: { label: 'Not linked', tone: 'neutral' },
  identity: null,
  summary: 'No account is linked yet: each person links their own.',
  actions: ['link', 'remove'],
};

function fakeApi() {
  return {
    listConnections: vi.fn(async () => ({ ok: true as const, value: [linked] })),
    checkConnection: vi.fn(),
    linkAccount: vi.fn(),
    cancelSignIn: vi.fn(),
    pasteSignIn: vi.fn(async () => ({ ok: true as const, value: null })),
    unlinkAccount: vi.fn(async () => ({
      ok: true as const,
      value: { connection: notLinked, message: 'Unlinked Acme: its tokens are deleted from the keyring.', warning: null },
    })),
    editForm: vi.fn(async () => ({ ok: true as const, value: form })),
    editConnection: vi.fn(),
    listAdminSignIns: vi.fn(async () => ({ ok: true as const, value: [] as RememberedAdminView[] })),
    forgetAdminSignIn: vi.fn(async (instance: string) => ({
      ok: true as const,
      value: { instance, revoked: true, message: `Forgot the admin sign-in to ${instance}; the instance revoked its token.` },
    })),
    removeConnection: vi.fn(async () => ({
      ok: true as const,
      value: { id: 'c-1', message: 'Removed Acme: its secrets are deleted from the keyring.', warning: null as string | null },
    })),
  };
}

afterEach(cleanup);

describe('ConnectionsView', () => {
  it('edits a connection, shows each step, and keeps what was typed when the test fails', async () => {
    const api = fakeApi();
    const refused = {
      code: 'sign_in_failed',
      message: 'ServiceNow refused the client secret.',
      hint: 'Copy it again from the Application Registry record.',
      retryable: false,
      field: 'client-secret',
      next: null,
    };
    api.editConnection.mockImplementationOnce(async (_id, _changes, _secrets, onStep: (e: TestEvent) => void) => {
      onStep({ step: 'keyring', label: 'Open the OS keyring', status: 'done', detail: null });
      onStep({ step: 'sign-in', label: 'Get a token', status: 'failed', detail: 'refused' });
      return { ok: false as const, error: refused };
    });
    render(ConnectionsView, { api });
    await fireEvent.click(await screen.findByTestId('edit-button'));
    const name = (await screen.findByTestId('edit-connection-name')) as HTMLInputElement;
    expect(name.value).toBe('Acme');
    await waitFor(() => expect(document.activeElement).toBe(name));
    const secret = screen.getByTestId('edit-client-secret') as HTMLInputElement;
    expect(secret.type).toBe('password');
    expect(secret.value).toBe('');
    expect(secret.placeholder).toContain('Kept in the keyring');
    await fireEvent.input(name, { target: { value: 'Acme prod' } });
    await fireEvent.input(secret, { target: { value: 'new-secret' } });
    await fireEvent.click(screen.getByTestId('edit-save'));

    await waitFor(() => expect(screen.getByTestId('edit-step-sign-in').dataset.status).toBe('failed'));
    expect(api.editConnection).toHaveBeenCalledWith(
      'c-1',
      { name: 'Acme prod', clientId: '0123abcd', username: null },
      { clientSecret: 'new-secret', password: null, apiKey: null },
      expect.any(Function),
    );
    expect(screen.getByTestId('edit-step-keyring').dataset.status).toBe('done');
    expect(screen.getByTestId('edit-step-identify').dataset.status).toBe('pending');
    expect(secret.getAttribute('aria-invalid')).toBe('true');
    expect(screen.getByTestId('edit-panel').textContent).toContain('refused the client secret');
    expect((screen.getByTestId('edit-connection-name') as HTMLInputElement).value).toBe('Acme prod');
    expect((screen.getByTestId('edit-client-secret') as HTMLInputElement).value).toBe('new-secret');
    await expectAccessible();

    const renamed = { ...linked, name: 'Acme prod' };
    api.editConnection.mockImplementationOnce(async () => ({
      ok: true as const,
      value: { connection: renamed, message: 'Saved Acme prod: the new settings signed in as abel.tuter.' },
    }));
    await fireEvent.click(screen.getByTestId('edit-save'));
    await waitFor(() => expect(screen.queryByTestId('edit-panel')).toBeNull());
    expect(screen.getByTestId('connections-notice').textContent).toContain('Saved Acme prod');
    expect(screen.getByTestId('connection-card').dataset.name).toBe('Acme prod');
  });

  it('shows when the sign-in ends', async () => {
    const api = fakeApi();
    const ends = new Date(Date.now() + 20 * 86400000).toISOString();
    api.listConnections.mockImplementation(async () => ({ ok: true as const, value: [{ ...linked, refreshTokenEndsAt: ends }] }));
    render(ConnectionsView, { api });
    expect((await screen.findByTestId('connection-refresh-ends')).textContent).toContain('in 20 days');
  });

  it('unlinks only after the user confirms, then offers what the core says', async () => {
    const api = fakeApi();
    render(ConnectionsView, { api });
    await fireEvent.click(await screen.findByTestId('unlink-button'));
    expect(screen.getByTestId('connection-client-id').textContent).toBe('0123abcd');
    expect(screen.queryByTestId('connection-username')).toBeNull();
    expect(screen.getByTestId('unlink-dialog').textContent).toContain('abel.tuter');
    await expectAccessible();
    await fireEvent.click(screen.getByTestId('cancel-unlink'));
    expect(api.unlinkAccount).not.toHaveBeenCalled();
    expect(screen.queryByTestId('unlink-dialog')).toBeNull();

    await fireEvent.click(screen.getByTestId('unlink-button'));
    await fireEvent.click(screen.getByTestId('confirm-unlink'));
    expect(api.unlinkAccount).toHaveBeenCalledWith('c-1');
    await waitFor(() => expect(screen.getByTestId('connection-identity').textContent).toContain('No account linked'));
    expect(screen.getByTestId('connection-state').textContent).toContain('Not linked');
    expect(screen.getByTestId('link-button')).toBeTruthy();
    expect(screen.queryByTestId('check-button')).toBeNull();
  });

  it('removes a connection only after the user confirms, and says what was done', async () => {
    const api = fakeApi();
    render(ConnectionsView, { api });
    await fireEvent.click(await screen.findByTestId('remove-button'));
    expect(screen.getByTestId('remove-dialog').textContent).toContain('Remove Acme?');
    await fireEvent.click(screen.getByTestId('cancel-remove'));
    expect(api.removeConnection).not.toHaveBeenCalled();
    expect(screen.getAllByTestId('connection-card')).toHaveLength(1);

    await fireEvent.click(screen.getByTestId('remove-button'));
    await fireEvent.click(screen.getByTestId('confirm-remove'));
    expect(api.removeConnection).toHaveBeenCalledWith('c-1');
    await waitFor(() => expect(screen.queryAllByTestId('connection-card')).toHaveLength(0));
    expect(document.body.textContent).toContain('Removed Acme: its secrets are deleted from the keyring.');
  });

  it('shows the warning when the instance did not confirm a removal\'s revocation', async () => {
    const api = fakeApi();
    api.removeConnection.mockResolvedValue({
      ok: true,
      value: { id: 'c-1', message: 'Removed Acme.', warning: 'The instance did not confirm that the tokens are revoked.' },
    });
    render(ConnectionsView, { api });
    await fireEvent.click(await screen.findByTestId('remove-button'));
    await fireEvent.click(screen.getByTestId('confirm-remove'));
    await waitFor(() => expect(document.body.textContent).toContain('did not confirm'));
  });

  it('shows a failed link with its reason and fix, and retries when the core says it may help', async () => {
    const api = fakeApi();
    api.listConnections.mockResolvedValue({ ok: true, value: [notLinked] });
    api.linkAccount.mockResolvedValue({
      ok: false,
      error: { code: 'instance_unreachable', message: 'The instance did not answer.', hint: 'Check your network.', retryable: true, field: null, next: { kind: 'retry' } },
    });
    render(ConnectionsView, { api });
    await fireEvent.click(await screen.findByTestId('link-button'));
    const error = await screen.findByTestId('connections-error');
    expect(error.textContent).toContain('The instance did not answer.');
    expect(error.textContent).toContain('Check your network.');
    await fireEvent.click(screen.getByTestId('retry-button'));
    expect(api.linkAccount).toHaveBeenCalledTimes(2);
  });

  it('renders instance-provided names as text', async () => {
    const api = fakeApi();
    const hostile = { ...linked, identity: { userName: '<img src=x onerror=alert(1)>', sysId: linked.identity!.sysId } };
    api.listConnections.mockResolvedValue({ ok: true, value: [hostile] });
    render(ConnectionsView, { api });
    const identity = await screen.findByTestId('connection-identity');
    expect(identity.textContent).toContain('<img src=x onerror=alert(1)>');
    expect(identity.querySelector('img')).toBeNull();
  });

  it('shows why the connections file could not be read, as the app found it at start', async () => {
    const api = fakeApi();
    const initialError = {
      code: 'config_error' as const,
      message: 'The connections file /home/u/.config/snowlink/connections.json could not be read (it ends too early at line 3, column 1); it was moved to /home/u/.config/snowlink/connections.json.corrupt-20261201T100000.000Z.',
      hint: 'Nothing was changed or deleted: repair the copy and move it back, or set the connections up again.',
      retryable: false,
      field: null,
      next: null,
    };
    render(ConnectionsView, { api, initialError });
    const error = await screen.findByTestId('connections-error');
    expect(error.textContent).toContain('connections.json.corrupt-');
    expect(error.textContent).toContain('Nothing was changed');
    expect(api.listConnections).not.toHaveBeenCalled();
  });

  it('shows the linked-record count and offers Diagnose when the core says so', async () => {
    const api = fakeApi();
    const broken = { ...linked, state: 'disconnected' as const, badge: { label: 'Disconnected', tone: 'bad' as const }, actions: ['check' as const, 'diagnose' as const, 'remove' as const], problem: true };
    api.listConnections.mockResolvedValue({ ok: true, value: [broken] });
    const onDiagnose = vi.fn();
    render(ConnectionsView, { api, onDiagnose });
    expect((await screen.findByTestId('connection-linked')).textContent).toContain('12');
    await fireEvent.click(screen.getByTestId('diagnose-button'));
    expect(onDiagnose).toHaveBeenCalledWith('c-1');
  });

  it('lists the remembered admin sign-ins and forgets one after asking', async () => {
    const api = fakeApi();
    const acme: RememberedAdminView = {
      instance: 'https://acme.service-now.com',
      clientId: 'snow123',
      rememberedAt: '2026-12-01T10:00:00Z',
      summary: "Admin sign-in to https://acme.service-now.com through Snowlink's application snow123, remembered on 2026-12-01",
    };
    api.listAdminSignIns.mockResolvedValue({ ok: true, value: [acme] });
    render(ConnectionsView, { api });
    const row = await screen.findByTestId('remembered-admin');
    expect(row.textContent).toContain('snow123');
    await expectAccessible();
    await fireEvent.click(screen.getByTestId('forget-admin'));
    expect(api.forgetAdminSignIn).not.toHaveBeenCalled();
    await fireEvent.click(await screen.findByTestId('confirm-forget-admin'));
    await waitFor(() => expect(api.forgetAdminSignIn).toHaveBeenCalledWith('https://acme.service-now.com'));
    expect((await screen.findByTestId('remembered-notice')).textContent).toContain('revoked');
    expect(screen.queryByTestId('remembered-admin')).toBeNull();
  });

  it('shows no remembered sign-ins section when there are none', async () => {
    render(ConnectionsView, { api: fakeApi() });
    await screen.findByTestId('connections-list');
    expect(screen.queryByTestId('remembered-admins')).toBeNull();
  });
});
