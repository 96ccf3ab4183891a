/**
 * How a run logs in to Azure: an OIDC federated credential whose assertion is the CI host's ID
 * token (GitHub's, in Actions), an existing `azure/login` (Azure CLI) session, or
 * DefaultAzureCredential. Failures come back as `AzureAuthError`s that say what to change; no token
 * or assertion ever reaches a message. Where the ID token comes from is the caller's: a function.
 */
import type { AccessToken, GetTokenOptions, TokenCredential } from '@azure/identity';
import type { IdTokenFunction, IdTokenSource } from '../model/ci-host.js';
import { tlsAdvice } from './arm-retry.js';
import { DEFAULT_OIDC_AUDIENCE, isLoopbackUrl, type AuthSettings } from './target.js';

export class AzureAuthError extends Error {
  override readonly name = 'AzureAuthError';
}

/** The claims of an ID token that help explain a federated-credential mismatch (no signature, no token). */
interface AssertionFacts {
  sub?: string;
  iss?: string;
  aud?: string;
}

/** The claims of a JWT (not verified: only read to explain errors and to know when it expires); {} when unreadable. */
function claimsOf(jwt: string): Record<string, unknown> {
  try {
    const claims: unknown = JSON.parse(Buffer.from(jwt.split('.')[1] ?? '', 'base64url').toString('utf8'));
    return claims && typeof claims === 'object' ? (claims as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/** When a JWT expires (ms since the epoch); 0 when it does not say (then it is not used again). */
function expiryOf(jwt: string): number {
  const { exp } = claimsOf(jwt);
  return typeof exp === 'number' ? exp * 1000 : 0;
}

function factsOf(jwt: string): AssertionFacts {
  const payload = claimsOf(jwt);
  const str = (v: unknown) => (typeof v === 'string' ? v : Array.isArray(v) ? v.join(', ') : undefined);
  const facts: AssertionFacts = {};
  if (str(payload.sub)) facts.sub = str(payload.sub);
  if (str(payload.iss)) facts.iss = str(payload.iss);
  if (str(payload.aud)) facts.aud = str(payload.aud);
  return facts;
}

/**
 * The audiences Entra ID documents for a federated credential's token exchange: the public cloud's,
 * Azure Government's and Azure China's. Any other is almost always a typo.
 */
export const STANDARD_OIDC_AUDIENCES = [DEFAULT_OIDC_AUDIENCE, 'api://AzureADTokenExchangeUSGov', 'api://AzureADTokenExchangeChina'] as const;

export function isStandardAudience(audience: string): boolean {
  return (STANDARD_OIDC_AUDIENCES as readonly string[]).includes(audience);
}

/** The warning for an audience that is none of the standard ones; undefined for a standard one. `label` names the flag or input. */
export function audienceWarning(audience: string | undefined, label: string): string | undefined {
  if (audience === undefined || isStandardAudience(audience.trim())) return undefined;
  return (
    `${label} "${audience}" is not a standard audience for the Entra ID token exchange (${DEFAULT_OIDC_AUDIENCE}; ` +
    `${STANDARD_OIDC_AUDIENCES.slice(1).join(' or ')} in the US Government and China clouds). ` +
    `Login fails unless the app's federated credential lists exactly this audience: drop ${label} to use ${DEFAULT_OIDC_AUDIENCE}.`
  );
}

/** The federated credential to add for an ID token that matched none: with the standard audience, never a typo repeated. */
function federatedCredentialAdvice(auth: AuthSettings, facts: AssertionFacts): string {
  const sub = facts.sub ?? '(unknown)';
  const issuer = facts.iss ?? 'https://token.actions.githubusercontent.com';
  const given = facts.aud ?? auth.audience;
  const standard = isStandardAudience(given) ? given : DEFAULT_OIDC_AUDIENCE;
  const differs = isStandardAudience(given)
    ? ''
    : `\nThis run's audience "${given}" is not the standard ${DEFAULT_OIDC_AUDIENCE} (set by --audience or the audience input): ` +
      `the command above uses the standard one; drop --audience (or the input) so the run asks for it too, or list "${given}" if you really mean it.`;
  return (
    `Entra ID found no federated credential on client ${auth.clientId} that matches this run's GitHub ID token ` +
    `(subject "${sub}", issuer "${issuer}", audience "${given}"). ` +
    `Add one whose subject is exactly that (it is case-sensitive):\n` +
    `  az ad app federated-credential create --id ${auth.clientId} --parameters '{"name":"github-${sub.replace(/[^A-Za-z0-9-]+/g, '-').slice(0, 80)}",` +
    `"issuer":"${issuer}","subject":"${sub}","audiences":["${standard}"]}'${differs}`
  );
}

/** DefaultAzureCredential's credentials, as its AggregateAuthenticationError's `errors` name them. */
const CHAIN: { test: RegExp; name: string }[] = [
  { test: /EnvironmentCredential/, name: 'environment (AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_CLIENT_SECRET)' },
  { test: /WorkloadIdentity/, name: 'workload identity (AZURE_FEDERATED_TOKEN_FILE)' },
  { test: /ManagedIdentity/, name: 'managed identity (an Azure VM, App Service, Container Apps …)' },
  { test: /Visual Studio Code/, name: 'Visual Studio Code' },
  { test: /Azure Developer CLI/, name: 'Azure Developer CLI (azd auth login)' },
  { test: /Azure CLI/, name: 'Azure CLI (az login)' },
  { test: /PowerShell/, name: 'Azure PowerShell (Connect-AzAccount)' },
  { test: /Broker/i, name: 'broker' },
];

/** Why DefaultAzureCredential found no credential: each one it tried, and what to set for the usual cases. */
function explainChain(errors: unknown[]): AzureAuthError {
  const tried = errors.map((e) => {
    const text = ((e as Error)?.message ?? String(e)).replace(/^\w*Error: /, '');
    const name = CHAIN.find((c) => c.test.test(text))?.name ?? 'credential';
    const why = firstLine(text)
      .replace(/\s*(To troubleshoot|To mitigate|Please visit|See https?:).*$/i, '')
      .replace(/https?:\/\/\S+/g, '')
      .replace(/[\s:]+$/, '');
    return `  - ${name}: ${why}`;
  });
  return new AzureAuthError(
    `--auth default: DefaultAzureCredential found no credential here. It tried:\n${tried.join('\n')}\n` +
      `Do one of these:\n` +
      `  - on your machine: az login (then --auth azure-cli uses that session directly)\n` +
      `  - a service principal: set AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET (or AZURE_CLIENT_CERTIFICATE_PATH)\n` +
      `  - workload identity: set AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_FEDERATED_TOKEN_FILE\n` +
      `  - in GitHub Actions, or beside the local emulator: --auth oidc (the default in Actions)`,
  );
}

/** Turns what MSAL and the credentials throw into an error that says what to do. */
function explain(err: unknown, auth: AuthSettings, facts: AssertionFacts): Error {
  if (err instanceof AzureAuthError) return err;
  const message = (err as Error)?.message ?? String(err);
  const tls = tlsAdvice(err);
  if (tls) return new AzureAuthError(`could not get an Azure token with --auth ${auth.kind}: ${tls}`);
  const errors = (err as { errors?: unknown }).errors;
  if ((err as Error)?.name === 'AggregateAuthenticationError' && Array.isArray(errors)) {
    // One of the chain's credentials hit an untrusted certificate: that is the thing to fix.
    const tlsInChain = errors.map(tlsAdvice).find(Boolean);
    if (tlsInChain) return new AzureAuthError(`could not get an Azure token with --auth ${auth.kind}: ${tlsInChain}`);
    return explainChain(errors);
  }
  if (/AADSTS70021|AADSTS700213|No matching federated identity record/i.test(message)) return new AzureAuthError(federatedCredentialAdvice(auth, facts));
  if (/AADSTS700016|AADSTS90002|AADSTS900023/i.test(message)) {
    return new AzureAuthError(`Entra ID does not know client ${auth.clientId} in tenant ${auth.tenantId}; check --client-id and --tenant-id. (${firstLine(message)})`);
  }
  // MSAL says endpoints_resolution_error when the authority's metadata cannot be fetched (nothing listens there, say).
  const down = /ECONNREFUSED|ENOTFOUND|endpoints_resolution_error/.exec(message)?.[0];
  if (down && auth.kind === 'oidc') {
    const host = process.env.AZURE_AUTHORITY_HOST ?? 'https://login.microsoftonline.com';
    return new AzureAuthError(`nothing answers at ${host} for the Entra ID token (${down}): is the emulator running? is AZURE_AUTHORITY_HOST right? (a wrong --tenant-id can give this too)`);
  }
  if (auth.kind === 'azure-cli') {
    return new AzureAuthError(`--auth azure-cli: no usable Azure CLI session (${firstLine(message)}). Run azure/login (or az login) in an earlier step.`);
  }
  return new AzureAuthError(`could not get an Azure token with --auth ${auth.kind}: ${firstLine(message)}`);
}

function firstLine(s: string): string {
  return s
    .split('\n')[0]!
    .replace(/Trace ID:.*$/, '')
    .trim();
}

class ExplainingCredential implements TokenCredential {
  /**
   * Token requests under way, by scope, tenant and CAE: every client of a run (APIM, authorization,
   * MSI) asks for the same ARM token at about the same moment, before MSAL has cached one; they
   * share one request. Gone once it settles (then MSAL's cache answers).
   */
  private readonly inflight = new Map<string, Promise<AccessToken | null>>();

  constructor(
    private readonly inner: () => Promise<TokenCredential>,
    private readonly auth: AuthSettings,
    private readonly facts: AssertionFacts,
  ) {}

  /** Starts fetching a token for `scope`; resolves once the credential is made and the request under way. */
  async prefetch(scope: string): Promise<void> {
    // As the SDK clients' bearer policy asks (MSAL keeps CAE tokens apart): the one they will take.
    this.getToken(scope, { enableCae: true }).catch(() => undefined); // a failure is met again by the call that needs the token
    await this.inner().catch(() => undefined);
  }

  getToken(scopes: string | string[], options?: GetTokenOptions): Promise<AccessToken | null> {
    // A claims challenge (continuous access evaluation) needs a token of its own.
    if (options?.claims) return this.fetch(scopes, options);
    const key = `${Array.isArray(scopes) ? scopes.join(' ') : scopes}|${options?.tenantId ?? ''}|${options?.enableCae === true}`;
    let token = this.inflight.get(key);
    if (!token) {
      token = this.fetch(scopes, options).finally(() => this.inflight.delete(key));
      this.inflight.set(key, token);
    }
    return token;
  }

  private async fetch(scopes: string | string[], options?: GetTokenOptions): Promise<AccessToken | null> {
    try {
      return await (await this.inner()).getToken(scopes, options);
    } catch (e) {
      throw explain(e, this.auth, this.facts);
    }
  }
}

/**
 * A credential for `auth`. For OIDC the assertion is an ID token from `getIdToken`, fetched when first needed
 * and used again until a minute before it expires (MSAL asks for the assertion more than once per
 * Entra token). The `@azure/identity` package (with MSAL, 1.3 MB) is loaded on the first token
 * request; for OIDC the ID token is already on its way while it loads.
 */
export function createCredential(auth: AuthSettings, getIdToken: IdTokenFunction): TokenCredential {
  const facts: AssertionFacts = {};
  let inner: Promise<TokenCredential> | undefined;
  const assertion = reusedUntilExpiry(async () => {
    const token = await getIdToken(auth.audience);
    Object.assign(facts, factsOf(token));
    return token;
  });
  const make = async (): Promise<TokenCredential> => {
    if (auth.kind === 'oidc') {
      assertion().catch(() => undefined); // on its way while the package loads; an error is thrown where it is taken
      const { ClientAssertionCredential } = await import('@azure/identity');
      return new ClientAssertionCredential(auth.tenantId!, auth.clientId!, assertion, {
        ...(process.env.AZURE_AUTHORITY_HOST ? { authorityHost: process.env.AZURE_AUTHORITY_HOST, disableInstanceDiscovery: isLoopbackUrl(process.env.AZURE_AUTHORITY_HOST) } : {}),
      });
    }
    const { AzureCliCredential, DefaultAzureCredential } = await import('@azure/identity');
    if (auth.kind === 'azure-cli') return new AzureCliCredential(auth.tenantId ? { tenantId: auth.tenantId } : {});
    return new DefaultAzureCredential({ ...(auth.tenantId ? { tenantId: auth.tenantId } : {}), ...(auth.clientId ? { managedIdentityClientId: auth.clientId } : {}) });
  };
  return new ExplainingCredential(() => (inner ??= make()), auth, facts);
}

/**
 * A JWT from `fetch`, fetched when first asked for and handed out again until a minute before it
 * expires; one that is still on its way is shared. A failed fetch is not kept: the next ask fetches.
 */
export function reusedUntilExpiry(fetch: () => Promise<string>, now: () => number = Date.now): () => Promise<string> {
  let current: { value: Promise<string>; expiresAt?: number } | undefined;
  return () => {
    if (!current || (current.expiresAt !== undefined && current.expiresAt - 60_000 < now())) {
      const next: { value: Promise<string>; expiresAt?: number } = { value: fetch() };
      next.value.then(
        (jwt) => (next.expiresAt = expiryOf(jwt)),
        () => {
          if (current === next) current = undefined;
        },
      );
      current = next;
    }
    return current.value;
  };
}

/**
 * Starts fetching a token for `scope` now (a credential of `createCredential`), for the call that
 * will need it; resolves once the request is under way (errors are thrown to that call).
 */
export async function prefetchToken(credential: TokenCredential, scope: string): Promise<void> {
  if (credential instanceof ExplainingCredential) await credential.prefetch(scope);
}

/** Stops early when OIDC cannot work in this run at all (`idToken` says no ID token can be had, or there is none). */
export function checkOidcAvailable(auth: AuthSettings, idToken: IdTokenSource | undefined): void {
  if (auth.kind !== 'oidc') return;
  const why = idToken ? idToken.unavailable() : 'auth oidc: this run has no source of OIDC ID tokens. Use --auth azure-cli (after az login) or --auth default.';
  if (why) throw new AzureAuthError(why);
}
