// Typed wrappers over the desktop shell's commands. Every failure arrives as the core's
// ErrorView ({ code, message, hint, retryable, field, next }); anything else is wrapped so the
// UI has one shape to show.
import { Channel, invoke } from '@tauri-apps/api/core';
import type { ConnectionView } from './bindings/ConnectionView';
import type { ErrorView } from './bindings/ErrorView';
import type { Unlinked } from './bindings/Unlinked';
import type { Removed } from './bindings/Removed';
import type { EditView } from './bindings/EditView';
import type { Edited } from './bindings/Edited';
import type { Changes } from './bindings/Changes';
import type { NewSecrets } from './bindings/NewSecrets';
import type { TestEvent } from './bindings/TestEvent';
import type { InstanceUrlView } from './bindings/InstanceUrlView';
import type { DiagnoseRequest } from './bindings/DiagnoseRequest';
import type { DiagnosisEvent } from './bindings/DiagnosisEvent';
import type { Report } from './bindings/Report';
import type { ProfileSummary } from './bindings/ProfileSummary';
import type { SavedSetup } from './bindings/SavedSetup';
import type { WizardView } from './bindings/WizardView';
import type { PersonEvent } from './bindings/PersonEvent';
import type { Plan } from './bindings/Plan';
import type { DemoInstance } from './bindings/DemoInstance';
import { save } from '@tauri-apps/plugin-dialog';
import { writeText } from '@tauri-apps/plugin-clipboard-manager';

export type UiError = ErrorView;

export type Result<T> = { ok: true; value: T } | { ok: false; error: UiError };

export function isUiError(value: unknown): value is UiError {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return (
    typeof v.code === 'string' &&
    typeof v.message === 'string' &&
    typeof v.hint === 'string' &&
    typeof v.retryable === 'boolean' &&
    'field' in v &&
    'next' in v
  );
}

export function toUiError(value: unknown): UiError {
  if (isUiError(value)) return value;
  return {
    code: 'internal',
    message: 'Snowlink hit an unexpected problem.',
    hint: 'Try again; if it keeps happening, export a support bundle and send it to us.',
    retryable: true,
    field: null,
    next: { kind: 'retry' },
  };
}

async function call<T>(command: string, args?: Record<string, unknown>): Promise<Result<T>> {
  try {
    return { ok: true, value: await invoke<T>(command, args) };
  } catch (err) {
    return { ok: false, error: toUiError(err) };
  }
}

let firstViewReported = false;

/** Tells the shell, once, that the first screen with data is on view (after the next frame is
 * laid out): the start-up benchmark times the app to here. */
export function firstViewShown(): void {
  if (firstViewReported) return;
  firstViewReported = true;
  requestAnimationFrame(() => void invoke('first_view_shown').catch(() => undefined));
}

export const api = {
  parseInstance: (text: string) => call<InstanceUrlView>('parse_instance', { text }),
  openInBrowser: (url: string) => call<null>('open_in_browser', { url }),
  listConnections: () => call<ConnectionView[]>('list_connections'),
  checkConnection: (id: string) => call<ConnectionView>('check_connection', { id }),
  /** Browser sign-in as the user; `onUrl` receives the sign-in URL to offer for copying. */
  linkAccount: (id: string, onUrl: (url: string) => void) => {
    const url = new Channel<string>();
    url.onmessage = onUrl;
    return call<ConnectionView>('link_account', { id, url });
  },
  cancelSignIn: () => call<null>('cancel_sign_in'),
  /** The address the browser ended on, for a browser that cannot reach this computer. */
  pasteSignIn: (address: string) => call<null>('paste_sign_in', { address }),
  unlinkAccount: (id: string) => call<Unlinked>('unlink_account', { id }),
  /** Revokes the connection's tokens, deletes its secrets and forgets it. */
  removeConnection: (id: string) => call<Removed>('remove_connection', { id }),
  /** The edit form: saved values, which secrets the keyring holds, the steps of a test. */
  editForm: (id: string) => call<EditView>('edit_form', { id }),
  /** Changes the connection and tests it live; `onStep` hears each step start and end. */
  editConnection: (id: string, changes: Changes, secrets: NewSecrets, onStep: (event: TestEvent) => void) => {
    const progress = new Channel<TestEvent>();
    progress.onmessage = onStep;
    return call<Edited>('edit_connection', { id, changes, secrets, progress });
  },
  /** Runs the checks; `onEvent` hears each one start and finish. */
  runDiagnosis: (request: DiagnoseRequest, onEvent: (event: DiagnosisEvent) => void) => {
    const events = new Channel<DiagnosisEvent>();
    events.onmessage = onEvent;
    return call<Report>('run_diagnosis', { request, events });
  },
  diagnosisText: () => call<string>('diagnosis_text'),
  exportBundle: (path: string) => call<null>('export_bundle', { path }),
  /** The save dialog; `null` when the person cancels. */
  chooseBundlePath: async (): Promise<string | null> =>
    save({
      title: 'Export support bundle',
      defaultPath: 'snowlink-support.zip',
      filters: [{ name: 'Zip archive', extensions: ['zip'] }],
    }),
};

/** A check's progress and a browser sign-in's URL, as a verification streams them. */
export interface StepListeners {
  onCheck: (event: DiagnosisEvent) => void;
  onSignInUrl: (url: string) => void;
}

function channels(listeners: StepListeners) {
  const events = new Channel<DiagnosisEvent>();
  events.onmessage = listeners.onCheck;
  const url = new Channel<string>();
  url.onmessage = listeners.onSignInUrl;
  return { events, url };
}

export const setupApi = {
  /** Starts the simulator shipped with the app; its address and admin account. */
  startDemoInstance: () => call<DemoInstance>('start_demo_instance'),
  listProfiles: () => call<ProfileSummary[]>('list_profiles'),
  listSavedSetups: () => call<SavedSetup[]>('list_saved_setups'),
  startSetup: (profile: string, instance: string) =>
    call<WizardView>('start_setup', { profile, instance, resume: false }),
  resumeSetup: (profile: string) => call<WizardView>('start_setup', { profile, instance: null, resume: true }),
  setupView: () => call<WizardView | null>('setup_view'),
  closeSetup: () => call<null>('close_setup'),
  event: (event: PersonEvent) => call<WizardView>('setup_event', { event }),
  secret: (id: string, value: string) => call<WizardView>('setup_secret', { id, value }),
  admin: (username: string, password: string) => call<WizardView>('setup_admin', { username, password }),
  verify: (listeners: StepListeners) => call<WizardView>('verify_step', channels(listeners)),
  plan: () => call<Plan>('plan_step'),
  doIt: (listeners: StepListeners) => call<WizardView>('do_step', channels(listeners)),
  handoffText: () => call<string>('handoff_text'),
  saveUpdateSet: (path: string) => call<null>('save_update_set', { path }),
  /** The save dialog for the update set; `null` when the person cancels. */
  chooseUpdateSetPath: async (name: string): Promise<string | null> =>
    save({
      title: 'Save update set',
      defaultPath: `${name.replace(/[^A-Za-z0-9 _-]/g, '').trim() || 'update-set'}.xml`,
      filters: [{ name: 'Update set (XML)', extensions: ['xml'] }],
    }),
  copyText,
  openInBrowser: (url: string) => call<null>('open_in_browser', { url }),
  parseInstance: (text: string) => call<InstanceUrlView>('parse_instance', { text }),
};

/** Puts `text` on the clipboard; false when the system refused. */
export async function copyText(text: string): Promise<boolean> {
  try {
    await writeText(text);
    return true;
  } catch {
    return false;
  }
}

export type Api = typeof api;
export type SetupApi = typeof setupApi;
