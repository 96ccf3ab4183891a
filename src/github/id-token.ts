/**
 * GitHub's OIDC ID token, the assertion of the federated credential: in a workflow (the action, or
 * the CLI in a `run:` step) `@actions/core` fetches it and registers it as a secret, so the runner
 * masks it; elsewhere (a shell sourcing the emulator's env file) it is fetched from the same
 * endpoint without printing a mask command. The request goes out as soon as `get` is called (no
 * package to load first): `connect` has it under way while the Azure SDKs load.
 */
import * as core from '@actions/core';
import { HttpClient } from '@actions/http-client';
import { BearerCredentialHandler } from '@actions/http-client/lib/auth';
import type { IdTokenSource } from '../model/ci-host.js';

export const ID_TOKEN_PERMISSION_BLOCK = ['permissions:', '  contents: read', '  id-token: write'].join('\n');

const NO_ID_TOKEN =
  'auth oidc: this run has no GitHub ID token (ACTIONS_ID_TOKEN_REQUEST_URL is not set). ' +
  `Give the job permission to request one:\n${ID_TOKEN_PERMISSION_BLOCK}\n` +
  'Pull requests from forks never get an ID token. Outside GitHub Actions use --auth azure-cli (after az login) or --auth default.';

export function githubIdToken(env: NodeJS.ProcessEnv = process.env): IdTokenSource {
  const unavailable = () => (env.ACTIONS_ID_TOKEN_REQUEST_URL && env.ACTIONS_ID_TOKEN_REQUEST_TOKEN ? undefined : NO_ID_TOKEN);
  return {
    unavailable,
    async get(audience) {
      const why = unavailable();
      if (why) throw new Error(why);
      if (env.GITHUB_ACTIONS === 'true') return core.getIDToken(audience);
      const client = new HttpClient('apim-policy-deploy', [new BearerCredentialHandler(env.ACTIONS_ID_TOKEN_REQUEST_TOKEN!)]);
      const res = await client.getJson<{ value?: string }>(`${env.ACTIONS_ID_TOKEN_REQUEST_URL}&audience=${encodeURIComponent(audience)}`);
      if (!res.result?.value) throw new Error(`the GitHub ID token endpoint answered HTTP ${res.statusCode} without a token`);
      return res.result.value;
    },
  };
}
