/**
 * What one run reports, gathered while it runs and handed to the CI host once at the end:
 * findings for annotations, sections of the job summary, the failure.
 */
import type { CiHost } from '../model/ci-host.js';
import type { Diagnostic } from '../model/index.js';
import { mdText } from '../render/escape.js';

export class Report {
  findings: Diagnostic[] = [];
  sections: string[] = [];
  failure: string | undefined;

  /** Annotations (within the host's caps), the job summary and the failure, written once at the end. */
  async finish(host: CiHost): Promise<void> {
    host.annotate(this.findings, { error: this.failure ? 1 : 0 });
    // Why the step failed comes first: a reader of the summary sees it before the plan it is about.
    // It quotes file names and messages from the tree and from live: escaped like every other text in markdown.
    if (this.failure) this.sections.unshift(`> [!CAUTION]\n> ${this.failure.split('\n').map(mdText).join('\n> ')}\n`);
    await host.writeSummary(this.sections.join('\n'));
    if (this.failure) host.setFailed(this.failure);
  }
}
