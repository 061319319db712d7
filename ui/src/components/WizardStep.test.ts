import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/svelte';
import { afterEach, describe, expect, it, vi } from 'vitest';
import WizardStep from './WizardStep.svelte';
import { expectAccessible } from '../test/axe';
import type { WizardView } from '../lib/bindings/WizardView';
import { stepView, wizard } from '../test/wizard';
import type { Plan } from '../lib/bindings/Plan';
import type { StepApi, StepListeners } from '../lib/api';

function fakeApi(view: WizardView, hand: string | null = null, lands: string | null = null) {
  const ok = <T>(value: T) => ({ ok: true as const, value });
  const plan: Plan = {
    step: 'oauth-app',
    changes: [{ action: 'create', label: 'Create', table: 'oauth_entity', what: 'OAuth application incident.io' }],
    changesAnything: true,
    hand,
    lands,
  };
  return {
    event: vi.fn(async () => ok(view)),
    inputs: vi.fn(async (_values: Record<string, string>) => ok(view)),
    admin: vi.fn(async () => ok(view)),
    adminBrowser: vi.fn(async (_remember: boolean, _listeners: StepListeners) => ok(view)),
    verify: vi.fn(async () =>
      ok(wizard(stepView({ status: 'failed', last: { passed: false, message: 'No OAuth application has client ID abc.', checks: [], at: '' } }))),
    ),
    plan: vi.fn(async () => ok(plan)),
    doIt: vi.fn(async (_listeners: StepListeners) => ok(view)),
    planRest: vi.fn(async () => ok({ ...plan, changes: [...plan.changes, { action: 'create' as const, label: 'Create', table: 'sys_user', what: 'User incident.io' }] })),
    doRest: vi.fn(async () => ok(view)),
    stopWaiting: vi.fn(async () => ok(null)),
    handoffText: vi.fn(async () => ok('Hello')),
    saveUpdateSet: vi.fn(async () => ok('Wrote the update set.')),
    chooseUpdateSetPath: vi.fn(async (_name: string) => null),
    copyText: vi.fn(async () => true),
    openInBrowser: vi.fn(async () => ok(null)),
  } satisfies StepApi;
}

afterEach(cleanup);

describe('WizardStep', () => {
  it('sends what was typed to the core in one go, empties the secret field, then shows why verification failed', async () => {
    const view = wizard(stepView());
    const api = fakeApi(view);
    const onView = vi.fn();
    render(WizardStep, { api, view, onView, onError: vi.fn(), onFinished: vi.fn() });
    const secret = screen.getByTestId('input-client_secret') as HTMLInputElement;
    expect(secret.type).toBe('password');
    await expectAccessible();
    await fireEvent.input(screen.getByTestId('input-client_id'), { target: { value: 'abc' } });
    await fireEvent.input(secret, { target: { value: 's3cret' } });
    await fireEvent.click(screen.getByTestId('action-verify'));
    await waitFor(() => expect(api.verify).toHaveBeenCalled());
    expect(api.inputs).toHaveBeenCalledWith({ client_id: 'abc', client_secret: 's3cret' });
    // The secret never travels as an event, and the field forgets it once sent.
    expect(JSON.stringify(api.event.mock.calls)).not.toContain('s3cret');
    expect(secret.value).toBe('');
    const failed = onView.mock.calls.at(-1)![0] as WizardView;
    expect(failed.current.last?.message).toContain('No OAuth application');
  });

  it('shows the plan and changes nothing until it is accepted', async () => {
    const view = wizard(stepView());
    const api = fakeApi(view);
    render(WizardStep, { api, view, onView: vi.fn(), onError: vi.fn(), onFinished: vi.fn() });
    await fireEvent.click(screen.getByTestId('action-do-it'));
    const plan = await screen.findByTestId('plan');
    expect(plan.textContent).toContain('Create OAuth application incident.io');
    await expectAccessible();
    expect(api.doIt).not.toHaveBeenCalled();
    expect(screen.queryByTestId('plan-hand')).toBeNull();
    expect(screen.queryByTestId('plan-lands')).toBeNull();
    await fireEvent.click(screen.getByTestId('plan-apply'));
    await waitFor(() => expect(api.doIt).toHaveBeenCalledTimes(1));
  });

  it('says what in the plan needs the admin in the browser, and why', async () => {
    const view = wizard(stepView());
    const api = fakeApi(view, 'ACLs need security_admin elevated in the browser; no REST call can create them.');
    render(WizardStep, { api, view, onView: vi.fn(), onError: vi.fn(), onFinished: vi.fn() });
    await fireEvent.click(screen.getByTestId('action-do-it'));
    const hand = await screen.findByTestId('plan-hand');
    expect(hand.textContent).toContain('elevated in the browser');
    await expectAccessible();
  });

  it('does the rest after one plan for every step it covers', async () => {
    const view = wizard(stepView({ actions: ['verify', 'do-it-for-me', 'do-the-rest'] }));
    const api = fakeApi(view);
    render(WizardStep, { api, view, onView: vi.fn(), onError: vi.fn(), onFinished: vi.fn() });
    await fireEvent.click(screen.getByTestId('action-do-rest'));
    const plan = await screen.findByTestId('plan');
    expect(plan.textContent).toContain('Create OAuth application incident.io');
    expect(plan.textContent).toContain('Create User incident.io');
    expect(api.plan).not.toHaveBeenCalled();
    await fireEvent.click(screen.getByTestId('plan-apply'));
    await waitFor(() => expect(api.doRest).toHaveBeenCalledTimes(1));
    expect(api.doIt).not.toHaveBeenCalled();
  });

  it('shows what Do it for me waits for on the instance, and stops the wait on request', async () => {
    const view = wizard(stepView());
    const api = fakeApi(view);
    type Done = { ok: true; value: WizardView };
    let finish: (value: Done) => void = () => {};
    const ok = (value: WizardView): Done => ({ ok: true, value });
    api.doIt.mockImplementation(
      (listeners: StepListeners) =>
        new Promise<Done>((resolve) => {
          listeners.onActivity?.('Waiting for the instance to commit the update set "incident.io ACLs": Running, 50%');
          finish = resolve;
        }),
    );
    render(WizardStep, { api, view, onView: vi.fn(), onError: vi.fn(), onFinished: vi.fn() });
    await fireEvent.click(screen.getByTestId('action-do-it'));
    await fireEvent.click(await screen.findByTestId('plan-apply'));
    const waiting = await screen.findByTestId('step-activity');
    expect(waiting.textContent).toContain('Running, 50%');
    await expectAccessible();
    await fireEvent.click(screen.getByTestId('action-stop-waiting'));
    expect(api.stopWaiting).toHaveBeenCalledTimes(1);
    finish(ok(view));
    await waitFor(() => expect(screen.queryByTestId('step-activity')).toBeNull());
  });

  it('proposes to save the update set under its own name', async () => {
    const view = wizard(stepView({ actions: ['verify', 'download-update-set'], updateSetName: 'Atlan Update Set' }));
    const api = fakeApi(view);
    render(WizardStep, { api, view, onView: vi.fn(), onError: vi.fn(), onFinished: vi.fn() });
    await fireEvent.click(screen.getByTestId('action-download'));
    await waitFor(() => expect(api.chooseUpdateSetPath).toHaveBeenCalledWith('Atlan Update Set'));
  });

  it('offers the rest only when the core does', () => {
    const view = wizard(stepView());
    render(WizardStep, { api: fakeApi(view), view, onView: vi.fn(), onError: vi.fn(), onFinished: vi.fn() });
    expect(screen.queryByTestId('action-do-rest')).toBeNull();
  });

  it('says where the changes land', async () => {
    const view = wizard(stepView());
    const api = fakeApi(view, null, 'The registry entry goes into the update set "Snowlink: Incident sync".');
    render(WizardStep, { api, view, onView: vi.fn(), onError: vi.fn(), onFinished: vi.fn() });
    await fireEvent.click(screen.getByTestId('action-do-it'));
    const lands = await screen.findByTestId('plan-lands');
    expect(lands.textContent).toContain('Snowlink: Incident sync');
    await expectAccessible();
  });

  it('signs the admin in through the browser, sending the Client ID typed first', async () => {
    const view = wizard(
      stepView({
        actions: ['verify', 'sign-in-admin'],
        asksAdmin: true,
        inputs: [
          { id: 'snowlink_client_id', label: "Client ID of Snowlink's application", secret: false, required: false, value: null, given: false, help: null, envVar: null },
        ],
      }),
    );
    const api = fakeApi(view);
    render(WizardStep, { api, view, onView: vi.fn(), onError: vi.fn(), onFinished: vi.fn() });
    await fireEvent.input(screen.getByTestId('input-snowlink_client_id'), { target: { value: 'abc123' } });
    expect(screen.getByTestId('admin-code')).toBeTruthy();
    await fireEvent.click(screen.getByTestId('remember-admin'));
    await fireEvent.click(screen.getByTestId('action-sign-in-admin'));
    await waitFor(() => expect(api.adminBrowser).toHaveBeenCalledTimes(1));
    expect(api.adminBrowser.mock.calls[0]![0]).toBe(true);
    expect(api.inputs).toHaveBeenCalledWith({ snowlink_client_id: 'abc123' });
    await expectAccessible();
  });

  it('offers only the actions the core lists, and renders instance text as text', async () => {
    const view = wizard(
      stepView({ actions: ['acknowledge'], inputs: [], instructions: '<img src=x onerror="window.hacked=1">' }),
    );
    render(WizardStep, { api: fakeApi(view), view, onView: vi.fn(), onError: vi.fn(), onFinished: vi.fn() });
    expect(screen.queryByTestId('action-verify')).toBeNull();
    expect(screen.queryByTestId('action-do-it')).toBeNull();
    expect(screen.getByTestId('action-acknowledge')).toBeTruthy();
    expect(screen.getByTestId('step-instructions').textContent).toContain('<img');
    expect(document.querySelector('img')).toBeNull();
  });
});
