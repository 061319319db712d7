// A wizard's views as the core sends them, for the components' tests.
import type { WizardView } from '../lib/bindings/WizardView';
import type { StepView } from '../lib/bindings/StepView';

export function stepView(extra: Partial<StepView> = {}): StepView {
  return {
    id: 'oauth-app',
    number: 3,
    title: 'Create the OAuth application',
    kind: 'oauth-app',
    status: 'todo',
    instructions: 'Go to System OAuth > Application Registry.',
    menu: 'System OAuth > Application Registry',
    values: [{ label: 'Name', value: 'incident.io' }],
    links: [{ label: 'Application Registry', url: 'https://acme.service-now.com/nav_to.do?uri=oauth_entity_list.do' }],
    inputs: [
      { id: 'client_id', label: 'Client ID', secret: false, required: true, value: null, given: false, help: null, envVar: null },
      { id: 'client_secret', label: 'Client Secret', secret: true, required: true, value: null, given: false, help: null, envVar: 'SNOWLINK_CLIENT_SECRET' },
    ],
    mandatory: true,
    actions: ['verify', 'do-it-for-me', 'hand-off', 'back'],
    last: null,
    lockedBy: null,
    asksAdmin: false,
    adminRemembered: false,
    byHand: true,
    updateSetName: null,
    ...extra,
  };
}

export function wizard(current: StepView): WizardView {
  return {
    draft: 'c-1',
    profile: 'incident-sync',
    profileName: 'Incident sync',
    vendor: 'incident.io',
    instance: 'https://acme.service-now.com',
    connectionName: 'incident.io',
    done: 2,
    total: 7,
    steps: [],
    current,
    finished: null,
    notice: null,
    undoable: false,
  };
}
