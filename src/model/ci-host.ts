/**
 * The CI host as a port: what the workflow (ci/run.ts) needs from the system that runs it. GitHub
 * Actions implements it in github/; a test implements it in memory; a second host (Azure
 * Pipelines, GitLab) would be one more implementation, not a copy of the workflow.
 */
import type { Diagnostic, Severity } from './index.js';

/** An OIDC ID token for `audience`, from the CI host (the assertion of a federated credential). */
export type IdTokenFunction = (audience: string) => Promise<string>;

/** Where a run gets its OIDC ID token from, and why it cannot when it cannot. */
export interface IdTokenSource {
  /** What to change so that this run can get an ID token; undefined when it can. */
  unavailable(): string | undefined;
  /** The token; a host with a log masks it there. */
  get: IdTokenFunction;
}

export interface PullRequestInfo {
  number: number;
  /** The commit the PR author pushed (the run's own commit is the merge commit the host made). */
  headSha?: string;
  headRepo?: string;
  baseRepo?: string;
  /** The head repository is not the base repository (or is gone): read-only token, no ID token. */
  fromFork: boolean;
  htmlUrl?: string;
}

/** The event that started the run, and where it came from. */
export interface RunContext {
  eventName: string;
  owner?: string;
  repo?: string;
  sha?: string;
  ref?: string;
  defaultBranch?: string;
  pullRequest?: PullRequestInfo;
  /** The run's page; its job summary holds the full plan. */
  runUrl?: string;
}

/** Where settings come from: action inputs, or CLI flags. Names are the kebab-case input names. */
export interface SettingSource {
  /** The value given, or undefined when it is not set (an empty action input is not set). */
  value(name: string): string | undefined;
  /** A list setting (one per line in an input; repeated words after a flag). */
  values(name: string): string[];
  /** A yes/no setting: true only when given as true. */
  flag(name: string): boolean;
  /** How the user names the setting in messages: `input max-deletes`, `--max-deletes`. */
  label(name: string): string;
}

export type CommentKind = 'plan' | 'apply';

export interface CiHost {
  readonly context: RunContext;
  readonly settings: SettingSource;
  readonly idToken: IdTokenSource;
  /** Folder for files with live content (plan, snapshot) that the job owns; undefined: make a private one. */
  readonly tempDir: string | undefined;
  /** Most characters of a comment body the host accepts. */
  readonly commentLimit: number;

  info(line: string): void;
  warning(line: string): void;
  /** Hides a secret value in everything the host logs from now on (a host without a log ignores it). */
  mask(value: string): void;

  /** Findings at file:line, within the host's caps; `reserve` holds slots back for the failure. */
  annotate(findings: Diagnostic[], reserve: Partial<Record<Severity, number>>): void;
  setOutput(name: string, value: string): void;
  /** Writes the job summary (a host without one ignores it); never throws. */
  writeSummary(markdown: string): Promise<void>;
  /** Marks the run failed with this message. */
  setFailed(message: string): void;

  /**
   * Posts or updates the sticky comment of `kind` for `target` (the environment or instance it is
   * about) on `issueNumber`; its URL, or undefined (having said why) when it could not.
   */
  upsertComment(kind: CommentKind, target: string, issueNumber: number, body: string): Promise<string | undefined>;
  /** The merged pull request the run's commit came from, if any (said why when not). */
  mergedPullRequest(): Promise<number | undefined>;
}
