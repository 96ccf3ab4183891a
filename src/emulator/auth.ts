/**
 * Fakes of the two identity providers a deployment talks to:
 * - GitHub Actions OIDC (`GET /github-oidc/token?audience=…`, bearer = the request token) → `{value: <JWT>}`,
 *   RS256-signed with a key made at start;
 * - Entra ID (`GET /{tenant}/v2.0/.well-known/openid-configuration`, `POST /{tenant}/oauth2/v2.0/token`)
 *   accepting `client_credentials` with a client assertion issued by the OIDC fake.
 * ARM requests are authorised only with an access token this fake issued (`isAuthorized`).
 */
import { createSign, createVerify, generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import type { EmulatorRequest, EmulatorResponse, EmulatorState, RouteHandler } from './types.js';

export const FEDERATED_AUDIENCE = 'api://AzureADTokenExchange';
export const GITHUB_OIDC_ISSUER = 'https://token.actions.githubusercontent.com';
const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

export interface TokenRequestRecord {
  grantType: string;
  clientAssertionType: string;
  scope: string;
}

export interface AuthOptions {
  tenantId: string;
  clientId: string;
  /** `sub` claim of GitHub ID tokens; default `repo:octo-org/octo-repo:pull_request`. */
  subject?: string;
  /** Lifetime of GitHub ID tokens in seconds (default 300) and of access tokens (3599). */
  idTokenTtlSeconds?: number;
}

export interface EmulatorAuth {
  routes: RouteHandler;
  /** The value clients send as `Authorization: Bearer` to the OIDC fake (`ACTIONS_ID_TOKEN_REQUEST_TOKEN`). */
  requestToken: string;
  /** True when the request carries `Authorization: Bearer <access token issued here, not expired>`. */
  isAuthorized(req: EmulatorRequest): boolean;
  /** 401 response ARM gives without a valid token. */
  unauthorized(req: EmulatorRequest): EmulatorResponse;
  tokenRequests: TokenRequestRecord[];
  /** Issues a GitHub ID token directly (for tests and the demo). */
  issueIdToken(audience: string, subject?: string): string;
  setSubject(subject: string): void;
  /**
   * The subjects the app's federated credentials trust; an assertion with another `sub` gets
   * Entra's AADSTS70021. Undefined (the default) trusts any subject of the OIDC fake.
   */
  setFederatedSubjects(subjects: string[] | undefined): void;
  /** The principal (the app's client ID) an access token of the request was issued to; undefined without a valid token. */
  principalOf(req: EmulatorRequest): string | undefined;
  /** Registers one more app (client ID) the fake Entra issues ARM tokens to (several principals). */
  addClient(clientId: string): void;
}

const b64url = (data: string | Buffer): string => Buffer.from(data).toString('base64url');

function entraError(status: number, error: string, code: number, description: string): EmulatorResponse {
  const now = new Date()
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d+Z$/, 'Z');
  return {
    status,
    body: {
      error,
      error_description: `AADSTS${code}: ${description} Trace ID: ${randomUUIDish()} Correlation ID: ${randomUUIDish()} Timestamp: ${now}`,
      error_codes: [code],
      timestamp: now,
    },
  };
}

function randomUUIDish(): string {
  const h = randomBytes(16).toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

export function createAuth(options: AuthOptions): EmulatorAuth {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const kid = randomBytes(8).toString('hex');
  const requestToken = randomBytes(24).toString('hex');
  const idTtl = options.idTokenTtlSeconds ?? 300;
  let subject = options.subject ?? 'repo:octo-org/octo-repo:pull_request';
  let federatedSubjects: string[] | undefined;
  const accessTokens = new Map<string, number>(); // token → expiry (ms)
  const tokenRequests: TokenRequestRecord[] = [];
  const tokenClients = new Map<string, string>(); // token → client ID (the principal)
  const extraClients = new Set<string>();

  function sign(claims: Record<string, unknown>, key: KeyObject): string {
    const header = b64url(JSON.stringify({ alg: 'RS256', typ: 'JWT', kid }));
    const payload = b64url(JSON.stringify(claims));
    const signer = createSign('RSA-SHA256');
    signer.update(`${header}.${payload}`);
    return `${header}.${payload}.${signer.sign(key).toString('base64url')}`;
  }

  function issueIdToken(audience: string, sub = subject): string {
    const iat = Math.floor(Date.now() / 1000);
    const [owner, repo] = (/^repo:([^/]+)\/([^:]+)/.exec(sub) ?? []).slice(1).concat(['octo-org', 'octo-repo']).slice(0, 2);
    return sign(
      {
        jti: randomUUIDish(),
        sub,
        aud: audience,
        iss: GITHUB_OIDC_ISSUER,
        iat,
        nbf: iat - 5,
        exp: iat + idTtl,
        repository: `${owner}/${repo}`,
        repository_owner: owner,
        event_name: sub.endsWith(':pull_request') ? 'pull_request' : 'push',
        runner_environment: 'github-hosted',
      },
      privateKey,
    );
  }

  /** Verifies a JWT from the OIDC fake; returns its claims or an error text. */
  function verify(jwt: string): { claims?: Record<string, unknown>; error?: 'format' | 'signature' } {
    const parts = jwt.split('.');
    if (parts.length !== 3) return { error: 'format' };
    let header: { alg?: string };
    let claims: Record<string, unknown>;
    try {
      header = JSON.parse(Buffer.from(parts[0], 'base64url').toString('utf8'));
      claims = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
    } catch {
      return { error: 'format' };
    }
    if (header.alg !== 'RS256') return { error: 'signature' };
    const verifier = createVerify('RSA-SHA256');
    verifier.update(`${parts[0]}.${parts[1]}`);
    if (!verifier.verify(publicKey, Buffer.from(parts[2], 'base64url'))) return { error: 'signature' };
    return { claims };
  }

  function oidc(req: EmulatorRequest): EmulatorResponse {
    if (req.method !== 'GET') return { status: 405, body: { message: 'Method not allowed' } };
    const auth = req.headers['authorization'] ?? '';
    if (auth !== `Bearer ${requestToken}`) {
      return { status: 401, body: { message: 'Unauthorized: invalid or missing request token' } };
    }
    const audience = req.query['audience'] || 'https://github.com/octo-org';
    return { status: 200, body: { count: 1, value: issueIdToken(audience) } };
  }

  function openidConfiguration(req: EmulatorRequest, tenant: string): EmulatorResponse {
    if (tenant.toLowerCase() !== options.tenantId.toLowerCase()) {
      return entraError(400, 'invalid_tenant', 90002, `Tenant '${tenant}' not found.`);
    }
    const base = `${req.baseUrl}/${tenant}`;
    return {
      status: 200,
      body: {
        issuer: `${base}/v2.0`,
        token_endpoint: `${base}/oauth2/v2.0/token`,
        authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
        end_session_endpoint: `${base}/oauth2/v2.0/logout`,
        jwks_uri: `${base}/discovery/v2.0/keys`,
        token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
        response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
        subject_types_supported: ['pairwise'],
        id_token_signing_alg_values_supported: ['RS256'],
        tenant_region_scope: 'EU',
      },
    };
  }

  function token(req: EmulatorRequest, tenant: string): EmulatorResponse {
    if (req.method !== 'POST') return entraError(400, 'invalid_request', 900561, 'The endpoint only accepts POST requests.');
    const form = new URLSearchParams(req.body);
    const grantType = form.get('grant_type') ?? '';
    const clientAssertionType = form.get('client_assertion_type') ?? '';
    const scope = form.get('scope') ?? '';
    tokenRequests.push({ grantType, clientAssertionType, scope });
    if (tenant.toLowerCase() !== options.tenantId.toLowerCase()) {
      return entraError(400, 'invalid_request', 90002, `Tenant '${tenant}' not found.`);
    }
    if (grantType !== 'client_credentials') {
      return entraError(400, 'unsupported_grant_type', 70003, `The app requested an unsupported grant type '${grantType}'.`);
    }
    const clientId = form.get('client_id') ?? '';
    if (clientId.toLowerCase() !== options.clientId.toLowerCase() && !extraClients.has(clientId.toLowerCase())) {
      return entraError(400, 'unauthorized_client', 700016, `Application with identifier '${clientId}' was not found in the directory '${tenant}'.`);
    }
    const assertion = form.get('client_assertion');
    if (!assertion || clientAssertionType !== ASSERTION_TYPE) {
      return entraError(401, 'invalid_client', 7000218, "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.");
    }
    const { claims, error } = verify(assertion);
    if (error === 'signature') {
      return entraError(401, 'invalid_client', 700027, 'Client assertion failed signature validation.');
    }
    if (error === 'format' || !claims) {
      return entraError(400, 'invalid_client', 50027, 'JWT token is invalid or malformed.');
    }
    const aud = claims['aud'];
    const audiences = Array.isArray(aud) ? aud : [aud];
    if (!audiences.includes(FEDERATED_AUDIENCE)) {
      return entraError(400, 'invalid_client', 700212, `No matching federated identity record found for presented assertion audience '${String(aud)}'.`);
    }
    const now = Math.floor(Date.now() / 1000);
    if (typeof claims['exp'] !== 'number' || claims['exp'] < now || (typeof claims['nbf'] === 'number' && claims['nbf'] > now + 300)) {
      return entraError(400, 'invalid_client', 700024, 'Client assertion is not within its valid time range.');
    }
    if (claims['iss'] !== GITHUB_OIDC_ISSUER) {
      return entraError(400, 'invalid_client', 70021, `No matching federated identity record found for presented assertion issuer '${String(claims['iss'])}'.`);
    }
    if (federatedSubjects && !federatedSubjects.includes(String(claims['sub']))) {
      return entraError(
        400,
        'invalid_client',
        70021,
        `No matching federated identity record found for presented assertion. Assertion Issuer: '${String(claims['iss'])}'. Assertion Subject: '${String(claims['sub'])}'. Assertion Audience: '${FEDERATED_AUDIENCE}'.`,
      );
    }
    const accessToken = randomBytes(32).toString('base64url');
    accessTokens.set(accessToken, Date.now() + 3599_000);
    tokenClients.set(accessToken, clientId.toLowerCase());
    return { status: 200, body: { token_type: 'Bearer', expires_in: 3599, ext_expires_in: 3599, access_token: accessToken } };
  }

  const routes: RouteHandler = (req: EmulatorRequest, _state: EmulatorState) => {
    const path = req.path.replace(/\/+$/, '');
    if (/^\/github-oidc\/token$/i.test(path)) return oidc(req);
    let m = /^\/([^/]+)\/v2\.0\/\.well-known\/openid-configuration$/i.exec(path);
    if (m && req.method === 'GET') return openidConfiguration(req, m[1]);
    m = /^\/([^/]+)\/oauth2\/v2\.0\/token$/i.exec(path);
    if (m) return token(req, m[1]);
    m = /^\/([^/]+)\/discovery\/v2\.0\/keys$/i.exec(path);
    if (m && req.method === 'GET') return { status: 200, body: { keys: [] } };
    return undefined;
  };

  return {
    routes,
    requestToken,
    tokenRequests,
    issueIdToken,
    setSubject: (s) => {
      subject = s;
    },
    setFederatedSubjects: (list) => {
      federatedSubjects = list;
    },
    principalOf(req) {
      const m = /^Bearer\s+(\S+)$/i.exec(req.headers['authorization'] ?? '');
      const expiry = m ? accessTokens.get(m[1]) : undefined;
      return m && expiry !== undefined && expiry > Date.now() ? tokenClients.get(m[1]) : undefined;
    },
    addClient(clientId) {
      extraClients.add(clientId.toLowerCase());
    },
    isAuthorized(req) {
      const m = /^Bearer\s+(\S+)$/i.exec(req.headers['authorization'] ?? '');
      if (!m) return false;
      const expiry = accessTokens.get(m[1]);
      return expiry !== undefined && expiry > Date.now();
    },
    unauthorized(req) {
      const has = /^Bearer\s+/i.test(req.headers['authorization'] ?? '');
      return {
        status: 401,
        headers: {
          'WWW-Authenticate': `Bearer authorization_uri="${req.baseUrl}/${options.tenantId}", error="invalid_token", error_description="The authentication failed because of missing 'Authorization' header."`,
        },
        body: {
          error: {
            code: 'AuthenticationFailed',
            message: has ? 'Authentication failed. The access token is invalid or has expired.' : "Authentication failed. The 'Authorization' header is missing.",
          },
        },
      };
    },
  };
}
