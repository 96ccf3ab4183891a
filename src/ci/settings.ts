/**
 * The settings of a run, parsed once into one typed object whether they come from the action's
 * inputs or the CLI's flags (the same kebab-case words): a value that cannot be used becomes a
 * problem that names the input or flag, and the workflow decides when it stops the run (max-deletes
 * matters only to an apply).
 */
import { audienceWarning } from '../azure/credential.js';
import type { TargetSettings } from '../azure/target.js';
import type { SettingSource } from '../model/ci-host.js';
import { DEFAULT_MAX_DELETES } from '../plan/apply.js';

/** What a run does: `auto` picks by the event (see ci/mode.ts). */
export type ModeSetting = 'auto' | 'plan' | 'apply' | 'lint' | 'drift';
const MODES: readonly ModeSetting[] = ['auto', 'plan', 'apply', 'lint', 'drift'];

/** The workflow's limits on role assignments (flags and inputs, never the manifest). */
export interface GuardrailSettings {
  allowPrivilegedRoles: boolean;
  /** Empty: the instance's subscription. */
  allowedScopes: string[];
}

export interface ApplySettings {
  allowDeletes: boolean;
  /** Most deletes one apply makes; -1 for no limit. */
  maxDeletes: number;
  allowDestructiveIdentityChanges: boolean;
}

export interface Settings {
  mode: ModeSetting;
  policiesPath: string;
  environment?: string;
  liveSnapshot?: string;
  /** The pull request's base checkout: plan only what differs from it. */
  basePoliciesPath?: string;
  /** A saved plan to apply. */
  planFile?: string;
  sarifFile?: string;
  target: TargetSettings;
  guardrails: GuardrailSettings;
  apply: ApplySettings;
  failOnDrift: boolean;
}

export interface SettingProblem {
  setting: 'mode' | 'max-deletes';
  message: string;
}

/** A setting the user must fix; the message names the input or flag. */
export class SettingError extends Error {
  override readonly name = 'SettingError';
}

/** Allowed scopes as given: one per line (action input) or word (CLI), commas and spaces separate too. */
export function parseAllowedScopes(values: string[]): string[] {
  return values.flatMap((s) => s.split(/[\s,]+/)).filter(Boolean);
}

/** max-deletes: a whole number, -1 for no limit; unset means the default. */
export function parseMaxDeletes(text: string | undefined, label: string): number {
  if (text === undefined) return DEFAULT_MAX_DELETES;
  const n = Number(text.trim());
  if (text.trim() === '' || !Number.isInteger(n) || n < -1) throw new SettingError(`${label} must be a whole number of deletes, or -1 for no limit (got "${text}")`);
  return n;
}

const TARGET_SETTINGS = {
  armEndpoint: 'arm-endpoint',
  subscriptionId: 'subscription-id',
  resourceGroup: 'resource-group',
  serviceName: 'service-name',
  auth: 'auth',
  tenantId: 'tenant-id',
  clientId: 'client-id',
  audience: 'audience',
} as const satisfies Record<keyof TargetSettings, string>;

/** The Azure target settings as given (unset ones absent); azure/target.ts settles and checks them. */
export function targetSettings(source: SettingSource): TargetSettings {
  const target: TargetSettings = {};
  for (const [key, name] of Object.entries(TARGET_SETTINGS) as [keyof TargetSettings, string][]) {
    const value = source.value(name);
    if (value !== undefined) target[key] = value;
  }
  return target;
}

export function guardrailSettings(source: SettingSource): GuardrailSettings {
  return { allowPrivilegedRoles: source.flag('allow-privileged-roles'), allowedScopes: parseAllowedScopes(source.values('allowed-scopes')) };
}

export function parseSettings(source: SettingSource): { settings: Settings; problems: SettingProblem[] } {
  const problems: SettingProblem[] = [];
  const given = (name: string) => source.value(name);
  let mode: ModeSetting = 'auto';
  const modeText = given('mode');
  if (modeText !== undefined) {
    if ((MODES as readonly string[]).includes(modeText)) mode = modeText as ModeSetting;
    else problems.push({ setting: 'mode', message: `${source.label('mode')} "${modeText}" is not one of ${MODES.join(', ')}` });
  }
  let maxDeletes = DEFAULT_MAX_DELETES;
  try {
    maxDeletes = parseMaxDeletes(given('max-deletes'), source.label('max-deletes'));
  } catch (e) {
    problems.push({ setting: 'max-deletes', message: (e as Error).message });
  }
  const optional = (name: string, key: keyof Settings): Partial<Settings> => {
    const value = given(name);
    return value !== undefined ? { [key]: value } : {};
  };
  const settings: Settings = {
    mode,
    policiesPath: given('policies-path') ?? 'policies',
    ...optional('environment', 'environment'),
    ...optional('live-snapshot', 'liveSnapshot'),
    ...optional('base-policies-path', 'basePoliciesPath'),
    ...optional('plan-file', 'planFile'),
    ...optional('sarif-file', 'sarifFile'),
    target: targetSettings(source),
    guardrails: guardrailSettings(source),
    apply: { allowDeletes: source.flag('allow-deletes'), maxDeletes, allowDestructiveIdentityChanges: source.flag('allow-destructive-identity-changes') },
    failOnDrift: source.flag('fail-on-drift'),
  };
  return { settings, problems };
}

/**
 * Settings that work but are most likely a mistake (an audience that is none of Entra ID's standard
 * ones): warnings for the run to print before it does anything else.
 */
export function settingWarnings(source: SettingSource): string[] {
  const audience = audienceWarning(source.value('audience'), source.label('audience'));
  return audience ? [audience] : [];
}

/** Names the target in comment titles and markers: the environment, else the instance, else the snapshot. */
export function targetKey(settings: Settings): string {
  return settings.environment || settings.target.serviceName || settings.liveSnapshot || 'default';
}
