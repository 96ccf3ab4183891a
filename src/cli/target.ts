import { execFileSync } from 'node:child_process';
import type { Command } from 'commander';
import { Option } from 'commander';
import { AUTH_KINDS, DEFAULT_OIDC_AUDIENCE, PUBLIC_ARM_ENDPOINT, type TargetWords } from '../azure/target.js';
import { connect, type LiveConnection } from '../pipeline/live.js';
import { createProgress, type Progress } from './progress.js';

/** The Azure target flags: the same words as the action's inputs. */
export function addTargetOptions(command: Command): Command {
  return command
    .option('--subscription-id <id>', 'subscription of the APIM instance (default: AZURE_SUBSCRIPTION_ID)')
    .option('--resource-group <name>', 'resource group of the APIM instance')
    .option('--service-name <name>', 'name of the APIM instance')
    .option('--arm-endpoint <url>', `Azure Resource Manager endpoint: a sovereign cloud or the local emulator (default ${PUBLIC_ARM_ENDPOINT})`)
    .addOption(new Option('--auth <kind>', 'oidc: GitHub OIDC federated credential (default in Actions); azure-cli: an az login / azure/login session; default: DefaultAzureCredential').choices([...AUTH_KINDS]))
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

export function guardrailWords(opts: IdentityFlags): { allowPrivilegedRoles: boolean; allowedScopes: string[] } {
  return { allowPrivilegedRoles: opts.allowPrivilegedRoles === true, allowedScopes: (opts.allowedScopes ?? []).flatMap((s) => s.split(/[\s,]+/)).filter(Boolean) };
}

export function targetWords(opts: TargetWords): TargetWords {
  const { armEndpoint, subscriptionId, resourceGroup, serviceName, auth, tenantId, clientId, audience } = opts;
  return { armEndpoint, subscriptionId, resourceGroup, serviceName, auth, tenantId, clientId, audience };
}

export function hasTarget(opts: TargetWords): boolean {
  return !!(opts.resourceGroup || opts.serviceName || opts.subscriptionId);
}

/** Connects with a progress line on stderr for the ARM calls. */
export async function connectWithProgress(opts: TargetWords, label: string): Promise<{ conn: LiveConnection; progress: Progress }> {
  const progress = createProgress(label);
  const conn = await connect(targetWords(opts), (done, total) => progress.update(done, total));
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
