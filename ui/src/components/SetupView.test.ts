import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/svelte';
import { afterEach, describe, expect, it, vi } from 'vitest';
import SetupView from './SetupView.svelte';
import { expectAccessible } from '../test/axe';
import type { ProfileSummary } from '../lib/bindings/ProfileSummary';

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

function fakeApi() {
  const none = async () => ({ ok: true as const, value: null });
  return {
    setupView: vi.fn(none),
    listProfiles: vi.fn(async () => ({ ok: true as const, value: [profile] })),
    listSavedSetups: vi.fn(async () => ({
      ok: true as const,
      value: [{ profile: 'incident-sync', profileName: 'Incident sync', instance: 'https://acme.service-now.com', done: 2, total: 7, updatedAt: '2026-12-01T10:00:00Z' }],
    })),
    parseInstance: vi.fn(async (text: string) => ({
      ok: true as const,
      value: { url: `https://${text}.service-now.com`, host: `${text}.service-now.com`, instanceName: text, notes: [] },
    })),
    resumeSetup: vi.fn(async () => ({ ok: false as const, error: { code: 'not_found', message: 'No saved setup.', hint: 'Start one.', retryable: false, field: null, next: null } })),
  };
}

afterEach(cleanup);

describe('SetupView', () => {
  it('offers each integration and the unfinished setups, and is accessible', async () => {
    const api = fakeApi();
    render(SetupView, { api: api as never });
    const chosen = await screen.findByTestId('profile-incident-sync');
    expect(chosen.textContent).toContain('7 steps, 5 Snowlink can do');
    expect(screen.getByTestId('saved-setups').textContent).toContain('2 of 7 done');
    await expectAccessible();
    await fireEvent.click(screen.getByTestId('resume-incident-sync'));
    await waitFor(() => expect(api.resumeSetup).toHaveBeenCalledWith('incident-sync'));
  });
});
