/**
 * A CiHost in memory, for the workflow's in-process tests (as the typescript-action template fakes
 * `@actions/core`): settings from a record of inputs, a given event, and a record of everything
 * the workflow showed — log, annotations, outputs, summary, comments, the failure, ID token asks.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CiHost, CommentKind, RunContext } from '../../src/model/ci-host.js';
import type { Diagnostic, Severity } from '../../src/model/index.js';

export interface FakeCiHost extends CiHost {
  log: { level: 'info' | 'warning'; line: string }[];
  annotations: { findings: Diagnostic[]; reserve: Partial<Record<Severity, number>> }[];
  outputs: Record<string, string>;
  summary: string | undefined;
  comments: { kind: CommentKind; target: string; issueNumber: number; body: string }[];
  failed: string | undefined;
  idTokenAsks: string[];
  /** Values the workflow asked the host to hide in its log. */
  masked: string[];
}

export function fakeCiHost(context: RunContext, inputs: Record<string, string> = {}, options: { mergedPullRequest?: number } = {}): FakeCiHost {
  const given = (name: string) => (inputs[name] ?? '').trim();
  const host: FakeCiHost = {
    context,
    settings: {
      value: (name) => given(name) || undefined,
      values: (name) =>
        given(name)
          .split('\n')
          .map((s) => s.trim())
          .filter(Boolean),
      flag: (name) => /^true$/i.test(given(name)),
      label: (name) => `input ${name}`,
    },
    idToken: {
      unavailable: () => {
        host.idTokenAsks.push('unavailable?');
        return 'no ID token in a test';
      },
      get: async (audience) => {
        host.idTokenAsks.push(audience);
        throw new Error('no ID token in a test');
      },
    },
    tempDir: mkdtempSync(join(tmpdir(), 'apim-policy-fake-host-')),
    commentLimit: 60_000,
    log: [],
    annotations: [],
    outputs: {},
    summary: undefined,
    comments: [],
    failed: undefined,
    idTokenAsks: [],
    masked: [],
    info: (line) => void host.log.push({ level: 'info', line }),
    mask: (value) => void host.masked.push(value),
    warning: (line) => void host.log.push({ level: 'warning', line }),
    annotate: (findings, reserve) => void host.annotations.push({ findings, reserve }),
    setOutput: (name, value) => void (host.outputs[name] = value),
    writeSummary: async (markdown) => void (host.summary = markdown),
    setFailed: (message) => void (host.failed = message),
    upsertComment: async (kind, target, issueNumber, body) => {
      host.comments.push({ kind, target, issueNumber, body });
      return `https://github.com/o/r/pull/${issueNumber}#issuecomment-${host.comments.length}`;
    },
    mergedPullRequest: async () => options.mergedPullRequest,
  };
  return host;
}
