import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/svelte';
import { afterEach, describe, expect, it, vi } from 'vitest';
import SetupView from './SetupView.svelte';
import { expectAccessible } from '../test/axe';
import type { ProfileSummary } from '../lib/bindings/ProfileSummary';
import type { ProfileProblem } from '../lib/bindings/ProfileProblem';
import type { SetupScreenApi } from '../lib/api';
import type { WizardView } from '../lib/bindings/WizardView';
import { stepView, wizard } from '../test/wizard';

const profile: ProfileSummary = {
  id: 'incident-sync',
  name: 'Incident sync',
  vendor: 'incident.io',
  summary: 'Sync incidents both ways.',
  grant: 'password',
  grantLabel: 'Password grant (OAuth)',
  steps: 7,
  automatedSteps: 5,
  vendorActions: 1,
  source: 'https://docs.incident.io',
  origin: 'built-in',
};

const problem: ProfileProblem = {
  file: '/home/ann/.config/snowlink/profiles/aa.toml',
  field: 'line 2',
  problem: 'string values must be quoted',
  message: '/home/ann/.config/snowlink/profiles/aa.toml: line 2: string values must be quoted',
  hint: 'Fix the field named (see the built-in profiles for the format), or remove the file from the profiles folder.',
};

function fakeApi(problems: ProfileProblem[] = [], unreadable: string[] = [], open: WizardView | null = null) {
  const ok = <T>(value: T) => ({ ok: true as const, value });
  const refused = { code: 'not_found' as const, message: 'No saved setup.', hint: 'Start one.', retryable: false, field: null, next: null };
  return {
    setupView: vi.fn(async () => ok(open)),
    listProfiles: vi.fn(async () => ok({ profiles: [profile], problems })),
    profileRecipe: vi.fn(async (_profile: string, _instance: string) => ok('# Set up Incident sync (incident.io)\n\n## 1. Let Snowlink in\n')),
    listSavedSetups: vi.fn(async () =>
      ok({
        setups: [{ profile: 'incident-sync', profileName: 'Incident sync', instance: 'https://acme.service-now.com', done: 2, total: 7, updatedAt: '2026-12-01T10:00:00Z' }],
        unreadable,
      }),
    ),
    parseInstance: vi.fn(async (text: string) =>
      ok({ url: `https://${text}.service-now.com`, host: `${text}.service-now.com`, instanceName: text, notes: [] }),
    ),
    resumeSetup: vi.fn(async (_profile: string) => ({ ok: false as const, error: refused })),
    startSetup: vi.fn(async () => ({ ok: false as const, error: refused })),
    startDemoInstance: vi.fn(async () => ({ ok: false as const, error: refused })),
    closeSetup: vi.fn(async () => ok(null)),
    planUndo: vi.fn(async () =>
      ok({
        step: 'undo',
        changes: [{ action: 'delete' as const, label: 'Delete', table: 'oauth_entity', what: 'OAuth application incident.io' }],
        changesAnything: true,
        hand: null,
        lands: null,
      }),
    ),
    undo: vi.fn(async () => ok(wizard(stepView()))),
    inputs: vi.fn(async () => ({ ok: false as const, error: refused })),
    admin: vi.fn(async () => ({ ok: false as const, error: refused })),
    adminBrowser: vi.fn(async () => ({ ok: false as const, error: refused })),
    event: vi.fn(async () => ({ ok: false as const, error: refused })),
    verify: vi.fn(async () => ({ ok: false as const, error: refused })),
    plan: vi.fn(async () => ({ ok: false as const, error: refused })),
    doIt: vi.fn(async () => ({ ok: false as const, error: refused })),
    planRest: vi.fn(async () => ({ ok: false as const, error: refused })),
    doRest: vi.fn(async () => ({ ok: false as const, error: refused })),
    stopWaiting: vi.fn(async () => ok(null)),
    handoffText: vi.fn(async () => ({ ok: false as const, error: refused })),
    saveUpdateSet: vi.fn(async () => ({ ok: false as const, error: refused })),
    chooseUpdateSetPath: vi.fn(async () => null),
    copyText: vi.fn(async (_text: string) => true),
    openInBrowser: vi.fn(async () => ok(null)),
  } satisfies SetupScreenApi;
}

afterEach(cleanup);

describe('SetupView', () => {
  it('offers each integration and the unfinished setups, and is accessible', async () => {
    const api = fakeApi();
    render(SetupView, { api });
    const chosen = await screen.findByTestId('profile-incident-sync');
    expect(chosen.textContent).toContain('7 steps, 5 Snowlink can do');
    expect(screen.getByTestId('saved-setups').textContent).toContain('2 of 7 done');
    await expectAccessible();
    await fireEvent.click(screen.getByTestId('resume-incident-sync'));
    await waitFor(() => expect(api.resumeSetup).toHaveBeenCalledWith('incident-sync'));
    expect(screen.queryByTestId('profile-problems')).toBeNull();
  });

  it('reads all steps of the chosen integration and copies them as a change request', async () => {
    const api = fakeApi();
    render(SetupView, { api });
    await fireEvent.click(await screen.findByTestId('profile-incident-sync'));
    await fireEvent.click(screen.getByTestId('read-steps'));
    const shown = await screen.findByTestId('recipe');
    expect(shown.textContent).toContain('## 1. Let Snowlink in');
    expect(api.profileRecipe).toHaveBeenCalledWith('incident-sync', '');
    await expectAccessible();
    await fireEvent.click(screen.getByTestId('copy-recipe'));
    await waitFor(() => expect(api.copyText).toHaveBeenCalledWith(expect.stringContaining('# Set up Incident sync')));
    expect((await screen.findByRole('status')).textContent).toContain('Copied');
  });

  it('undoes what Snowlink did only after showing the plan, then shows the steps to do again', async () => {
    const api = fakeApi([], [], { ...wizard(stepView()), undoable: true });
    render(SetupView, { api });
    await fireEvent.click(await screen.findByTestId('wizard-undo'));
    const plan = await screen.findByTestId('plan');
    expect(plan.textContent).toContain('Delete OAuth application incident.io');
    expect(api.undo).not.toHaveBeenCalled();
    await expectAccessible();
    await fireEvent.click(screen.getByTestId('plan-apply'));
    await waitFor(() => expect(api.undo).toHaveBeenCalledTimes(1));
    await waitFor(() => expect(screen.queryByTestId('wizard-undo')).toBeNull());
    expect(screen.queryByTestId('plan')).toBeNull();
  });

  it('names a profile file that could not be read and a saved setup set aside, and still offers the rest', async () => {
    const kept = 'A saved setup could not be read (not a saved setup at line 1, column 9); it is kept as /tmp/c-1.json.unreadable-1. Start that setup again.';
    render(SetupView, { api: fakeApi([problem], [kept]) });
    const shown = await screen.findByTestId('profile-problems');
    expect(shown.textContent).toContain('aa.toml: line 2');
    expect(shown.textContent).toContain('Fix the field named');
    expect(screen.getByTestId('profile-incident-sync')).toBeTruthy();
    expect(screen.getByTestId('setup-unreadable').textContent).toContain('kept as /tmp/c-1.json.unreadable-1');
    await expectAccessible();
  });
});
