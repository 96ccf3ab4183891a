/**
 * The floor of the cold-start benchmark: the least an action on the real SDKs does before its
 * first ARM request — read its inputs with @actions/core, log in with GitHub OIDC through
 * @azure/identity (ID token, Entra's metadata, the token exchange), make one call with
 * @azure/arm-apimanagement. No policies tree, lint, scheduler or plan. Bundled with ncc like the
 * action and measured beside it (scripts/bench/cold-start.ts): what the action adds is the
 * difference.
 */
import * as core from '@actions/core';
import { ClientAssertionCredential } from '@azure/identity';
import { ApiManagementClient } from '@azure/arm-apimanagement';

const input = (name: string) => core.getInput(name, { required: true });
const credential = new ClientAssertionCredential(input('tenant-id'), input('client-id'), () => core.getIDToken(input('audience')), {
  authorityHost: process.env.AZURE_AUTHORITY_HOST!,
  disableInstanceDiscovery: true,
});
const arm = input('arm-endpoint');
const client = new ApiManagementClient(credential, input('subscription-id'), { endpoint: arm, credentialScopes: [`${arm}/.default`] });
await client.apiManagementService.get(input('resource-group'), input('service-name'));
