// Typed wrappers over the desktop shell's commands. Every failure arrives as the core's
// ErrorView ({ code, message, hint, retryable, field, next }); anything else is wrapped so the
// UI has one shape to show.
import { Channel, invoke } from '@tauri-apps/api/core';
import type { ConnectionView } from './bindings/ConnectionView';
import type { ErrorView } from './bindings/ErrorView';
import type { Unlinked } from './bindings/Unlinked';
import type { Linked } from './bindings/Linked';
import type { Removed } from './bindings/Removed';
import type { EditView } from './bindings/EditView';
import type { Edited } from './bindings/Edited';
import type { Changes } from './bindings/Changes';
import type { NewSecrets } from './bindings/NewSecrets';
import type { TestEvent } from './bindings/TestEvent';
import type { InstanceUrlView } from './bindings/InstanceUrlView';
import type { DiagnoseRequest } from './bindings/DiagnoseRequest';
import type { DiagnosisEvent } from './bindings/DiagnosisEvent';
import type { Diagnosis } from './bindings/Diagnosis';
import type { RememberedAdminView } from './bindings/RememberedAdminView';
import type { Forgotten } from './bindings/Forgotten';
import type { ProfileList } from './bindings/ProfileList';
import type { SavedSetups } from './bindings/SavedSetups';
import type { WizardView } from './bindings/WizardView';
import type { PersonEvent } from './bindings/PersonEvent';
import type { Plan } from './bindings/Plan';
import type { DemoInstance } from './bindings/DemoInstance';
import type { Request } from './bindings/Request';
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

/** Listeners of a request's named event streams (a sign-in URL, each check, each step). */
type Listeners = Record<string, (data: never) => void>;

/** Asks Snowlink's engine (beside the app) for `request`, one of the engine's typed requests;
 * its events go to `listeners` by name. */
function engine<T>(request: Request, listeners: Listeners = {}): Promise<Result<T>> {
  const events = new Channel<{ channel: string; data: never }>();
  events.onmessage = (event) => listeners[event.channel]?.(event.data);
  return call<T>('relay', { method: request.method, params: request.params, events });
}

/** The connections as the window opened: read by the shell before it made the window and
 * handed over with the page (src-tauri/src/window.rs), so the first frame shows them. Taken
 * once; a reloaded page, or one opened without them, asks the engine. */
export function firstConnections(): Promise<Result<ConnectionView[]>> {
  const w = window as { __SNOWLINK_CONNECTIONS__?: { ok?: ConnectionView[]; error?: unknown } };
  const handed = w.__SNOWLINK_CONNECTIONS__;
  delete w.__SNOWLINK_CONNECTIONS__;
  const reloaded = performance.getEntriesByType('navigation').some(
    (entry) => (entry as PerformanceNavigationTiming).type === 'reload',
  );
  if (handed === undefined || reloaded) return api.listConnections();
  if (Array.isArray(handed.ok)) return Promise.resolve({ ok: true, value: handed.ok });
  return Promise.resolve({ ok: false, error: toUiError(handed.error) });
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
  parseInstance: (text: string) => engine<InstanceUrlView>({ method: 'parse_instance', params: { text } }),
  openInBrowser: (url: string) => engine<null>({ method: 'open_in_browser', params: { url } }),
  listConnections: () => engine<ConnectionView[]>({ method: 'list_connections', params: {} }),
  checkConnection: (id: string) => engine<ConnectionView>({ method: 'check_connection', params: { id } }),
  /** Browser sign-in as the user; `onUrl` receives the sign-in URL to offer for copying. */
  linkAccount: (id: string, onUrl: (url: string) => void) =>
    engine<Linked>({ method: 'link_account', params: { id } }, { url: onUrl }),
  cancelSignIn: () => engine<null>({ method: 'cancel_sign_in', params: {} }),
  /** The address the browser ended on, for a browser that cannot reach this computer. */
  pasteSignIn: (address: string) => engine<null>({ method: 'paste_sign_in', params: { address } }),
  unlinkAccount: (id: string) => engine<Unlinked>({ method: 'unlink_account', params: { id } }),
  /** Revokes the connection's tokens, deletes its secrets and forgets it. */
  removeConnection: (id: string) => engine<Removed>({ method: 'remove_connection', params: { id } }),
  /** The edit form: saved values, which secrets the keyring holds, the steps of a test. */
  editForm: (id: string) => engine<EditView>({ method: 'edit_form', params: { id } }),
  /** Changes the connection and tests it live; `onStep` hears each step start and end. */
  editConnection: (id: string, changes: Changes, secrets: NewSecrets, onStep: (event: TestEvent) => void) =>
    engine<Edited>({ method: 'edit_connection', params: { id, changes, secrets } }, { progress: onStep }),
  /** Runs the checks; `onEvent` hears each one start and finish, `onUrl` an admin's browser
   * sign-in address to offer for copying. */
  runDiagnosis: (
    request: DiagnoseRequest,
    onEvent: (event: DiagnosisEvent) => void,
    onUrl: (url: string) => void = () => undefined,
  ) => engine<Diagnosis>({ method: 'run_diagnosis', params: { request } }, { events: onEvent, url: onUrl }),
  /** The admin sign-ins remembered on this computer (no secret). */
  listAdminSignIns: () => engine<RememberedAdminView[]>({ method: 'list_admin_sign_ins', params: {} }),
  /** Forgets one: the instance is asked to revoke its token, the keyring entries go. */
  forgetAdminSignIn: (instance: string) =>
    engine<Forgotten>({ method: 'forget_admin_sign_in', params: { instance } }),
  diagnosisText: () => engine<string>({ method: 'diagnosis_text', params: {} }),
  exportBundle: (path: string) => engine<null>({ method: 'export_bundle', params: { path } }),
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
  /** What "Do it for me" waits for on the instance, in words, as it changes. */
  onActivity?: (text: string) => void;
}

function channels(listeners: StepListeners): Listeners {
  const all: Listeners = { events: listeners.onCheck, url: listeners.onSignInUrl };
  if (listeners.onActivity) all.activity = listeners.onActivity;
  return all;
}

export const setupApi = {
  /** Starts the simulator shipped with the app; its address and admin account. */
  startDemoInstance: () => engine<DemoInstance>({ method: 'start_demo_instance', params: {} }),
  listProfiles: () => engine<ProfileList>({ method: 'list_profiles', params: {} }),
  /** Every step of `profile` as a change request (Markdown), for `instance` when typed. */
  profileRecipe: (profile: string, instance: string) =>
    engine<string>({ method: 'profile_recipe', params: { profile, instance: instance.trim() || null } }),
  listSavedSetups: () => engine<SavedSetups>({ method: 'list_saved_setups', params: {} }),
  startSetup: (profile: string, instance: string) =>
    engine<WizardView>({ method: 'start_setup', params: { profile, instance, resume: false } }),
  resumeSetup: (profile: string) =>
    engine<WizardView>({ method: 'start_setup', params: { profile, instance: null, resume: true } }),
  setupView: () => engine<WizardView | null>({ method: 'setup_view', params: {} }),
  closeSetup: () => engine<null>({ method: 'close_setup', params: {} }),
  /** What "Undo what Snowlink did" would delete and put back on the instance. */
  planUndo: () => engine<Plan>({ method: 'plan_undo', params: {} }),
  /** Does it, reads it back, and puts the steps that change the instance back to do. */
  undo: () => engine<WizardView>({ method: 'undo', params: {} }),
  event: (event: PersonEvent) => engine<WizardView>({ method: 'setup_event', params: { event } }),
  /** What was typed on the current step, by input id; the core tells values from secrets. */
  inputs: (values: Record<string, string>) => engine<WizardView>({ method: 'setup_inputs', params: { values } }),
  /** The admin's Basic auth account; `code` is an MFA one-time code ('' when none). */
  admin: (username: string, password: string, code: string) =>
    engine<WizardView>({ method: 'setup_admin', params: { username, password, code } }),
  /** Signs the admin in through the browser with Snowlink's own application (or the sign-in
   * remembered for the instance), then verifies; `remember` keeps it for the next time. */
  adminBrowser: (remember: boolean, listeners: StepListeners) =>
    engine<WizardView>({ method: 'setup_admin_browser', params: { remember } }, channels(listeners)),
  verify: (listeners: StepListeners) => engine<WizardView>({ method: 'verify_step', params: {} }, channels(listeners)),
  plan: () => engine<Plan>({ method: 'plan_step', params: {} }),
  doIt: (listeners: StepListeners) => engine<WizardView>({ method: 'do_step', params: {} }, channels(listeners)),
  /** Stops "Do it for me" waiting on the instance (which goes on with what it started). */
  stopWaiting: () => engine<null>({ method: 'stop_waiting', params: {} }),
  /** One plan for this step and the automatable ones after it ("Do the rest for me"). */
  planRest: () => engine<Plan>({ method: 'plan_rest', params: {} }),
  /** Does them in order; the view shows the step where it stopped, and why. */
  doRest: (listeners: StepListeners) => engine<WizardView>({ method: 'do_rest', params: {} }, channels(listeners)),
  handoffText: () => engine<string>({ method: 'handoff_text', params: {} }),
  /** Writes the update set to `path`; what to tell the admin about importing it. */
  saveUpdateSet: (path: string) => engine<string>({ method: 'save_update_set', params: { path } }),
  /** The save dialog for the update set; `null` when the person cancels. */
  chooseUpdateSetPath: async (name: string): Promise<string | null> =>
    save({
      title: 'Save update set',
      defaultPath: `${name.replace(/[^A-Za-z0-9 _-]/g, '').trim() || 'update-set'}.xml`,
      filters: [{ name: 'Update set (XML)', extensions: ['xml'] }],
    }),
  copyText,
  openInBrowser: api.openInBrowser,
  parseInstance: api.parseInstance,
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
/** What one wizard step asks of the engine. */
export type StepApi = Pick<
  SetupApi,
  'inputs' | 'admin' | 'adminBrowser' | 'event' | 'verify' | 'plan' | 'doIt' | 'planRest' | 'doRest' | 'stopWaiting' | 'handoffText' | 'saveUpdateSet' | 'chooseUpdateSetPath' | 'copyText' | 'openInBrowser'
>;
/** What the setup screen asks of the engine: its own requests, a step's and the instance field's. */
export type SetupScreenApi = Pick<
  SetupApi,
  'setupView' | 'listProfiles' | 'profileRecipe' | 'listSavedSetups' | 'startSetup' | 'startDemoInstance' | 'resumeSetup' | 'closeSetup' | 'planUndo' | 'undo' | 'parseInstance'
> &
  StepApi;
