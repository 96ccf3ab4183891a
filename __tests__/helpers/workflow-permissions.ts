/**
 * What a workflow's GITHUB_TOKEN may do, job by job, and what its steps need: the check behind
 * "every workflow example is complete as written" (README blocks and the project's own workflows).
 * GitHub's rules: a job's `permissions` replace the workflow's; any scope not listed is `none`;
 * with neither, the restricted default (contents and packages read) applies; a called (reusable)
 * workflow never gets more than its calling job has.
 */
type Level = 'none' | 'read' | 'write';
export type Permissions = Record<string, Level>;

const RANK: Record<Level, number> = { none: 0, read: 1, write: 2 };
const SCOPES = [
  'actions',
  'attestations',
  'checks',
  'contents',
  'deployments',
  'id-token',
  'issues',
  'discussions',
  'packages',
  'pages',
  'pull-requests',
  'repository-projects',
  'security-events',
  'statuses',
];
const RESTRICTED_DEFAULT: Permissions = { contents: 'read', packages: 'read' };

export function permissionsOf(raw: unknown): Permissions | undefined {
  if (raw === undefined) return undefined;
  if (raw === 'read-all' || raw === 'write-all') return Object.fromEntries(SCOPES.map((s) => [s, raw === 'read-all' ? 'read' : 'write'])) as Permissions;
  if (raw === null || (typeof raw === 'object' && Object.keys(raw).length === 0)) return {};
  return Object.fromEntries(Object.entries(raw as Record<string, Level>)) as Permissions;
}

export interface Workflow {
  on?: unknown;
  permissions?: unknown;
  jobs?: Record<string, Job>;
}
interface Step {
  uses?: string;
  with?: Record<string, unknown>;
}
interface Job {
  permissions?: unknown;
  uses?: string;
  steps?: Step[];
}

const triggers = (on: unknown): string[] => (typeof on === 'string' ? [on] : Array.isArray(on) ? on.map(String) : on && typeof on === 'object' ? Object.keys(on) : []);

/** What the steps of `job` need, scope → level, with the reason. */
export function needsOf(workflow: Workflow, job: Job, isOurs: (uses: string) => boolean): Array<{ scope: string; level: Level; why: string }> {
  const out: Array<{ scope: string; level: Level; why: string }> = [];
  const on = triggers(workflow.on);
  for (const step of job.steps ?? []) {
    const uses = step.uses ?? '';
    if (/^actions\/checkout@/.test(uses)) out.push({ scope: 'contents', level: 'read', why: `${uses} clones the repository` });
    if (/^github\/codeql-action\/upload-sarif@/.test(uses)) out.push({ scope: 'security-events', level: 'write', why: `${uses} uploads code-scanning results` });
    if (isOurs(uses)) {
      const auth = String(step.with?.['auth'] ?? 'oidc');
      const mode = String(step.with?.['mode'] ?? 'auto');
      if (auth === 'oidc') out.push({ scope: 'id-token', level: 'write', why: `${uses} logs in to Azure with GitHub OIDC` });
      if (on.includes('pull_request') && (mode === 'auto' || mode === 'plan')) out.push({ scope: 'pull-requests', level: 'write', why: `${uses} posts the plan as a pull-request comment` });
    }
  }
  return out;
}

/** The token a job runs with: its own permissions, else the workflow's, else the restricted default; capped by `ceiling` (a caller's). */
export function effective(workflow: Workflow, job: Job, ceiling?: Permissions): Permissions {
  const own = permissionsOf(job.permissions) ?? permissionsOf(workflow.permissions) ?? RESTRICTED_DEFAULT;
  if (!ceiling) return own;
  return Object.fromEntries(Object.entries(own).map(([s, l]) => [s, RANK[l] <= RANK[ceiling[s] ?? 'none'] ? l : (ceiling[s] ?? 'none')])) as Permissions;
}

/**
 * Every missing permission of `workflow`'s jobs, as sentences; `called(path)` returns the workflow
 * a job's `uses: ./.github/workflows/x.yml` calls (its jobs are checked under the calling job's token).
 */
export function missingPermissions(workflow: Workflow, isOurs: (uses: string) => boolean, called: (path: string) => Workflow | undefined, ceiling?: Permissions): string[] {
  const problems: string[] = [];
  for (const [name, job] of Object.entries(workflow.jobs ?? {})) {
    const token = effective(workflow, job, ceiling);
    if (job.uses) {
      const callee = called(job.uses);
      if (!callee) {
        problems.push(`job ${name}: calls ${job.uses}, which is not given`);
        continue;
      }
      for (const p of missingPermissions(callee, isOurs, called, token)) problems.push(`job ${name} → ${job.uses}: ${p}`);
      continue;
    }
    for (const need of needsOf(workflow, job, isOurs)) {
      if (RANK[token[need.scope] ?? 'none'] < RANK[need.level]) problems.push(`job ${name}: needs ${need.scope}: ${need.level} (${need.why}), has ${token[need.scope] ?? 'none'}`);
    }
  }
  return problems;
}
