import { execFileSync } from 'node:child_process';
import type { Command } from 'commander';
import { Option } from 'commander';
import { AUTH_KINDS, DEFAULT_OIDC_AUDIENCE, PUBLIC_ARM_ENDPOINT, type TargetSettings } from '../azure/target.js';
import { targetSettings } from '../ci/settings.js';
import type { IdTokenSource, SettingSource } from '../model/ci-host.js';
import { connect, type LiveConnection } from '../azure/connection.js';
import { createProgress, type Progress } from './progress.js';

/** The Azure target flags: the same words as the action's inputs. */
export function addTargetOptions(command: Command): Command {
  return command
    .option('--subscription-id <id>', 'subscription of the APIM instance (default: AZURE_SUBSCRIPTION_ID)')
    .option('--resource-group <name>', 'resource group of the APIM instance (default: APIM_RESOURCE_GROUP)')
    .option('--service-name <name>', 'name of the APIM instance (default: APIM_SERVICE_NAME)')
    .option('--arm-endpoint <url>', `Azure Resource Manager endpoint: a sovereign cloud or the local emulator (default: APIM_ARM_ENDPOINT, else ${PUBLIC_ARM_ENDPOINT})`)
    .addOption(
      new Option('--auth <kind>', 'oidc: GitHub OIDC federated credential (default in Actions); azure-cli: an az login / azure/login session; default: DefaultAzureCredential').choices([
        ...AUTH_KINDS,
      ]),
    )
    .option('--tenant-id <id>', 'Entra tenant (auth oidc; default: AZURE_TENANT_ID)')
    .option('--client-id <id>', 'client ID with the federated credential (auth oidc; default: AZURE_CLIENT_ID)')
    .option('--audience <aud>', `audience of the GitHub ID token (default ${DEFAULT_OIDC_AUDIENCE})`);
}

export interface IdentityFlags {
  environment?: string;
  allowPrivilegedRoles?: boolean;
  allowedScopes?: string[];
  allowDestructiveIdentityChanges?: boolean;
}

/** identity.yaml: the environment its variables come from, and the workflow's guardrails (flags, never the manifest). */
export function addIdentityOptions(command: Command, options: { apply?: boolean } = {}): Command {
  command
    .option('--environment <name>', 'environment whose environments/<name>.yaml variables fill ${NAME} in identity.yaml')
    .option('--allow-privileged-roles', 'allow Owner, Contributor, User Access Administrator and RBAC Administrator role assignments')
    .option('--allowed-scopes <scopes...>', "scopes role assignments may target (default: the instance's subscription)");
  if (options.apply) command.option('--allow-destructive-identity-changes', 'allow disabling or detaching identities and deleting role assignments');
  return command;
}

/**
 * Parsed flags as a setting source for ci/settings.ts, so flags and action inputs are read by one
 * parser: a setting's kebab-case name is its flag (`allowed-scopes` is `--allowed-scopes`).
 */
export function flagSettings(opts: object): SettingSource {
  const get = (name: string): unknown => (opts as Record<string, unknown>)[name.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase())];
  return {
    value: (name) => {
      const v = get(name);
      return typeof v === 'string' || typeof v === 'number' ? String(v) : undefined;
    },
    values: (name) => {
      const v = get(name);
      return Array.isArray(v) ? v.map(String) : typeof v === 'string' ? [v] : [];
    },
    flag: (name) => get(name) === true,
    label: (name) => `--${name}`,
  };
}

/** Target flags given on the command line. */
export function hasTarget(opts: TargetSettings): boolean {
  return !!(opts.resourceGroup || opts.serviceName || opts.subscriptionId);
}

/** An instance named by flags, or by the environment (`source` of an `apim-policy emulator --env-file` file). */
export function hasTargetOrEnv(opts: TargetSettings, env: NodeJS.ProcessEnv = process.env): boolean {
  return hasTarget(opts) || !!(env.APIM_SERVICE_NAME?.trim() && env.APIM_RESOURCE_GROUP?.trim());
}

/** What the CLI needs from where it runs: the OIDC ID token (GitHub's in a workflow or beside the emulator). */
export interface CliEnvironment {
  idToken: IdTokenSource;
}

/** Connects with a progress line on stderr for the ARM calls. */
export async function connectWithProgress(opts: TargetSettings, label: string, env: CliEnvironment): Promise<{ conn: LiveConnection; progress: Progress }> {
  const progress = createProgress(label);
  const conn = await connect(targetSettings(flagSettings(opts)), (done, total) => progress.update(done, total), env.idToken);
  return { conn, progress };
}

/** The commit a plan is made for: GITHUB_SHA in Actions, else the checkout's HEAD when there is one. */
export function currentCommit(cwd: string): string | undefined {
  if (process.env.GITHUB_SHA) return process.env.GITHUB_SHA;
  try {
    return execFileSync('git', ['rev-parse', 'HEAD'], { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim() || undefined;
  } catch {
    return undefined;
  }
}
