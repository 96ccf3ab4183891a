/**
 * Findings as workflow annotations at file:line. GitHub shows at most 10 errors, 10 warnings and
 * 10 notices per step and drops the rest silently, so each kind gets its cap, the last slot says
 * how many more there are, and the caller lists all of them in the job summary.
 */
import * as core from '@actions/core';
import type { Diagnostic, Severity } from '../model/index.js';
import { repoPath } from '../render/sarif.js';

export const ANNOTATIONS_PER_KIND = 10;

export interface AnnotationCount {
  shown: number;
  hidden: number;
}

const EMIT: Record<Severity, (message: string, props: core.AnnotationProperties) => void> = {
  error: core.error,
  warning: core.warning,
  info: core.notice,
};

const KIND: Record<Severity, string> = { error: 'error', warning: 'warning', info: 'notice' };

/**
 * Emits the findings within the per-step caps. `reserve` holds back slots the caller will use
 * itself (for example the error `core.setFailed` adds).
 */
export function annotate(diagnostics: Diagnostic[], reserve: Partial<Record<Severity, number>> = {}): AnnotationCount {
  let shown = 0;
  let hidden = 0;
  for (const severity of ['error', 'warning', 'info'] as const) {
    const all = diagnostics.filter((d) => d.severity === severity);
    const cap = Math.max(1, ANNOTATIONS_PER_KIND - (reserve[severity] ?? 0));
    const direct = all.length <= cap ? all : all.slice(0, cap - 1);
    for (const d of direct) {
      EMIT[severity](d.message, { title: d.rule, file: repoPath(d.file, process.env.GITHUB_WORKSPACE), startLine: d.line, startColumn: d.column });
    }
    shown += direct.length;
    const rest = all.length - direct.length;
    if (rest > 0) {
      EMIT[severity](`…and ${rest} more ${KIND[severity]}(s) not annotated (GitHub shows ${ANNOTATIONS_PER_KIND} per step): the job summary lists them all.`, {
        title: `${rest} more`,
      });
      hidden += rest;
    }
  }
  return { shown, hidden };
}
