import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/svelte';
import { afterEach, describe, expect, it, vi } from 'vitest';
import DiagnoseView from './DiagnoseView.svelte';
import { expectAccessible } from '../test/axe';
import type { Check } from '../lib/bindings/Check';
import type { DiagnosisEvent } from '../lib/bindings/DiagnosisEvent';
import type { Report } from '../lib/bindings/Report';

function check(id: Check['id'], status: Check['status'], summary: string, extra: Partial<Check> = {}): Check {
  return { id, title: id, status, summary, detail: null, remedyUser: null, remedyAdmin: null, links: [], next: null, elapsedMs: 1, skippedBecause: null, expanded: status === 'fail' || status === 'warn', ...extra };
}

const awake = check('instance.awake', 'fail', 'The instance is hibernating.', {
  remedyUser: 'Ask your ServiceNow admin to wake the developer instance.',
  remedyAdmin: 'Sign in at developer.servicenow.com and wake the instance.',
  next: { kind: 'retry' },
});
const report: Report = {
  instance: 'https://dev1.service-now.com',
  profile: 'custom',
  verdict: 'disconnected',
  checks: [check('url.parse', 'pass', 'The instance is https://dev1.service-now.com.'), awake],
  elapsedMs: 120,
  summary: '1 problem found in 2 checks (0.1 s)',
};

function fakeApi() {
  return {
    listConnections: vi.fn(async () => ({ ok: true as const, value: [] })),
    runDiagnosis: vi.fn(
      async (_request: unknown, onEvent: (event: DiagnosisEvent) => void, _onUrl?: (url: string) => void) => {
        onEvent({ id: 'url.parse', title: 'Instance address', check: null });
        onEvent({ id: 'url.parse', title: 'Instance address', check: report.checks[0]! });
        onEvent({ id: 'instance.awake', title: 'Instance is awake', check: null });
        return { ok: true as const, value: { report, notice: null as string | null } };
      },
    ),
    diagnosisText: vi.fn(async () => ({ ok: true as const, value: 'text' })),
    exportBundle: vi.fn(async () => ({ ok: true as const, value: null })),
    chooseBundlePath: vi.fn(async () => '/tmp/bundle.zip'),
    openInBrowser: vi.fn(),
  };
}

afterEach(cleanup);

describe('DiagnoseView', () => {
  it('shows each check with both remedies and the next step, then exports the bundle', async () => {
    const api = fakeApi();
    render(DiagnoseView, { api });
    await fireEvent.input(await screen.findByTestId('diagnose-instance'), { target: { value: 'dev1' } });
    await fireEvent.click(screen.getByTestId('diagnose-run'));
    const failed = await screen.findByTestId('check-instance.awake');
    await waitFor(() => expect(failed.dataset.status).toBe('fail'));
    expect(failed.textContent).toContain('wake the developer instance');
    expect(failed.textContent).toContain('developer.servicenow.com');
    expect(failed.textContent).toContain('Run the diagnosis again.');
    expect(api.runDiagnosis.mock.calls[0]![0]).toMatchObject({ connectionId: null, instance: 'dev1' });
    expect(screen.getByTestId('diagnose-summary').textContent).toContain('1 problem found');
    await expectAccessible();
    await fireEvent.click(screen.getByTestId('export-bundle'));
    await waitFor(() => expect(api.exportBundle).toHaveBeenCalledWith('/tmp/bundle.zip'));
    expect((await screen.findByTestId('diagnose-notice')).textContent).toContain('/tmp/bundle.zip');
  });

  it('signs the admin in through the browser with the application typed, showing the address while it waits', async () => {
    const api = fakeApi();
    let release: () => void = () => undefined;
    api.runDiagnosis.mockImplementationOnce(async (_request, _onEvent, onUrl) => {
      onUrl?.('https://dev1.service-now.com/oauth_auth.do?client_id=snow');
      await new Promise<void>((resolve) => (release = resolve));
      return { ok: true as const, value: { report, notice: 'This admin sign-in is remembered in the OS keyring for the next time.' } };
    });
    render(DiagnoseView, { api });
    await fireEvent.input(await screen.findByTestId('diagnose-instance'), { target: { value: 'dev1' } });
    await fireEvent.input(screen.getByTestId('diagnose-admin-client-id'), { target: { value: 'snow' } });
    await fireEvent.input(screen.getByTestId('diagnose-admin-client-secret'), { target: { value: 's3cret' } });
    await fireEvent.click(screen.getByTestId('diagnose-remember-admin'));
    await fireEvent.click(screen.getByTestId('diagnose-run'));
    expect((await screen.findByTestId('diagnose-sign-in')).textContent).toContain('Sign in to ServiceNow in your browser');
    expect(api.runDiagnosis.mock.calls[0]![0]).toMatchObject({
      adminClientId: 'snow',
      adminClientSecret: 's3cret',
      rememberAdmin: true,
      adminUsername: null,
      adminPassword: null,
    });
    release();
    expect((await screen.findByTestId('diagnose-notice')).textContent).toContain('remembered');
    expect(screen.queryByTestId('diagnose-sign-in')).toBeNull();
    await expectAccessible();
  });

  it('sends a password and one-time code only when the admin chose the password', async () => {
    const api = fakeApi();
    render(DiagnoseView, { api });
    await fireEvent.input(await screen.findByTestId('diagnose-instance'), { target: { value: 'dev1' } });
    await fireEvent.input(screen.getByTestId('diagnose-admin-client-id'), { target: { value: 'snow' } });
    await fireEvent.click(screen.getByTestId('diagnose-admin-basic'));
    await fireEvent.input(screen.getByTestId('diagnose-admin-user'), { target: { value: 'admin' } });
    await fireEvent.input(screen.getByTestId('diagnose-admin-password'), { target: { value: 'pw' } });
    await fireEvent.input(screen.getByTestId('diagnose-admin-code'), { target: { value: '123456' } });
    await fireEvent.click(screen.getByTestId('diagnose-run'));
    await waitFor(() => expect(api.runDiagnosis).toHaveBeenCalledTimes(1));
    expect(api.runDiagnosis.mock.calls[0]![0]).toMatchObject({
      adminUsername: 'admin',
      adminPassword: 'pw',
      adminCode: '123456',
      adminClientId: null,
      rememberAdmin: false,
    });
  });

  it('does not export when the save dialog is cancelled', async () => {
    const api = fakeApi();
    api.chooseBundlePath.mockResolvedValue(null as unknown as string);
    render(DiagnoseView, { api });
    await fireEvent.click(await screen.findByTestId('diagnose-run'));
    await fireEvent.click(await screen.findByTestId('export-bundle'));
    expect(api.exportBundle).not.toHaveBeenCalled();
  });
});
