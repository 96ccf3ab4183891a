/** The action: the workflow of ci/run.ts on this GitHub Actions run (src/index.ts calls it). */
import { run as runWorkflow } from './ci/run.js';
import { githubHost } from './github/host.js';

export const run = (): Promise<void> => runWorkflow(githubHost());
