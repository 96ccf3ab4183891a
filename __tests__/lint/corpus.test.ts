/**
 * Lint never cries wolf on real policies: over the shared corpus (../shared/corpus, beside the
 * project on every dev and CI machine), the only error-level findings are the parse errors of
 * the files that are broken on purpose. Skipped when the corpus is not there.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { lintCorpus } from '../../scripts/lint-corpus.js';
import { ROOT } from '../helpers/run.js';

const corpus = join(ROOT, '..', 'shared', 'corpus');

(existsSync(join(corpus, 'MANIFEST.tsv')) ? test : test.skip)(
  'no error on a corpus file that parses',
  async () => {
    const { files, findings, origin } = await lintCorpus(corpus);
    expect(files).toBeGreaterThan(200);
    const errors = findings.filter((d) => d.severity === 'error');
    const notParse = errors.filter((d) => d.rule !== 'parse').map((d) => `${origin.get(d.file)}:${d.line} [${d.rule}] ${d.message}`);
    expect(notParse).toEqual([]);
    // The corpus's broken files, and only those.
    expect(errors.filter((d) => d.rule === 'parse').length).toBeLessThanOrEqual(3);
  },
  60000,
);
