/**
 * The rules about what stands in the sections: inheritance through <base />, unknown and misplaced
 * policies, token validation without an audience, secrets in plain text, CORS that cannot work and
 * fragments the tree does not have. Each rule fires where it must, at the element, with a message
 * that says what to change, and stays quiet on the constructs real policies use.
 */
import { loadDesiredTree } from '../../src/desired/load-desired.js';
import { lintTree } from '../../src/lint/index.js';
import { POLICY_RULES } from '../../src/lint/rules/policies.js';
import { makeTree, policy } from '../helpers/tree.js';

/** Lints a tree with these rules only: `file:line:column severity rule: message`. */
async function lint(files: Record<string, string>): Promise<string[]> {
  const root = makeTree(files);
  return lintTree(await loadDesiredTree(root), { rules: POLICY_RULES }).map((d) => `${d.file.slice(root.length + 1)}:${d.line}:${d.column} ${d.severity} ${d.rule}: ${d.message}`);
}

/** A document with every section given (undefined leaves a section out). */
function sections(s: { inbound?: string; backend?: string; outbound?: string; onError?: string }): string {
  const section = (name: string, body?: string) => (body === undefined ? '' : `    <${name}>\n        ${body}\n    </${name}>\n`);
  return `<policies>\n${section('inbound', s.inbound)}${section('backend', s.backend)}${section('outbound', s.outbound)}${section('on-error', s.onError)}</policies>\n`;
}

const INHERITS = 'the global (all APIs) and product policies do not run in it here; add <base /> where they should run (or suppress this rule where leaving them out is intended)';

describe('missing-base', () => {
  it('warns at each section of an API, operation or product policy that drops the enclosing scopes', async () => {
    expect(
      await lint({
        'apis/echo/policy.xml': sections({ inbound: '<set-header name="x" exists-action="override"><value>1</value></set-header>', backend: '<base />', outbound: '<base />', onError: '' }),
        'apis/echo/operations/get/policy.xml': sections({ inbound: '<base />', backend: '<base />', outbound: '<set-status code="200" />' }),
        'products/starter/policy.xml': sections({ inbound: '<rate-limit calls="5" renewal-period="60" />' }),
      }),
    ).toEqual([
      'apis/echo/operations/get/policy.xml:8:5 warning missing-base: <outbound> has no <base />, so the API, product and global policies do not run in it here; add <base /> where they should run (or suppress this rule where leaving them out is intended)',
      `apis/echo/policy.xml:2:5 warning missing-base: <inbound> has no <base />, so ${INHERITS}`,
      `apis/echo/policy.xml:11:5 warning missing-base: <on-error> has no <base />, so ${INHERITS}`,
      'products/starter/policy.xml:2:5 warning missing-base: <inbound> has no <base />, so the global (all APIs) policy does not run in it here; add <base /> where they should run (or suppress this rule where leaving them out is intended)',
    ]);
  });

  it('says that a backend without <base /> or its own <forward-request /> forwards nothing', async () => {
    expect(await lint({ 'apis/echo/policy.xml': '<policies>\n  <inbound><base /></inbound>\n  <backend />\n</policies>\n' })).toEqual([
      'apis/echo/policy.xml:3:3 warning missing-base: <backend> has no <base /> and no <forward-request />, so the request is not forwarded to the backend; add <base /> (or your own <forward-request />) unless the API always answers in <inbound>',
    ]);
  });

  it('counts a <base /> nested in control flow, a backend that forwards itself, and leaves out global policies, fragments and absent sections', async () => {
    expect(
      await lint({
        'apis/echo/policy.xml': sections({
          inbound: '<choose><when condition="@(true)"><base /></when><otherwise><base /></otherwise></choose>',
          backend: '<retry condition="@(context.Response.StatusCode == 429)" count="3" interval="1"><forward-request buffer-request-body="true" /></retry>',
        }),
        'policy.xml': sections({ inbound: '<cors><allowed-origins><origin>https://a.example</origin></allowed-origins></cors>', backend: '<forward-request />', outbound: '', onError: '' }),
        'policy fragments/headers/policy.xml': '<fragment>\n    <set-header name="x" exists-action="override"><value>1</value></set-header>\n</fragment>\n',
      }),
    ).toEqual([]);
  });
});

describe('unknown-element', () => {
  it('names the policy a misspelt element most likely means', async () => {
    expect(
      await lint({
        'apis/echo/policy.xml': policy(
          '<base />\n        <publish-to-darp pubsub-name="orders" topic="new">@(context.Request.Body.As<string>())</publish-to-darp>\n' +
            '        <choose>\n            <when condition="@(true)">\n                <set-hedaer name="x" exists-action="override"><value>1</value></set-hedaer>\n            </when>\n        </choose>',
        ),
      }),
    ).toEqual([
      'apis/echo/policy.xml:4:9 info unknown-element: <publish-to-darp> is not an APIM policy; did you mean <publish-to-dapr>?',
      'apis/echo/policy.xml:7:17 info unknown-element: <set-hedaer> is not an APIM policy; did you mean <set-header>?',
    ]);
  });

  it('says so without a guess when nothing is close, in fragments and inside retry, wait and limit-concurrency too', async () => {
    expect(
      await lint({
        'policy fragments/f/policy.xml':
          '<fragment>\n    <frobnicate />\n    <retry condition="@(true)" count="2" interval="1"><make-coffee /></retry>\n' +
          '    <wait for="all"><fetch-all-things /></wait>\n    <limit-concurrency key="k" max-count="1"><Set-Variable name="a" value="1" /></limit-concurrency>\n</fragment>\n',
      }),
    ).toEqual([
      'policy fragments/f/policy.xml:2:5 info unknown-element: <frobnicate> is not a known APIM policy; check the name against the policy reference (APIM rejects unknown policies)',
      'policy fragments/f/policy.xml:3:55 info unknown-element: <make-coffee> is not a known APIM policy; check the name against the policy reference (APIM rejects unknown policies)',
      'policy fragments/f/policy.xml:4:21 info unknown-element: <fetch-all-things> is not a known APIM policy; check the name against the policy reference (APIM rejects unknown policies)',
      'policy fragments/f/policy.xml:5:46 info unknown-element: <Set-Variable> is not an APIM policy; did you mean <set-variable>?',
    ]);
  });

  it('knows the policies and their child elements, and does not judge what other policies hold', async () => {
    expect(
      await lint({
        'apis/echo/policy.xml': policy(
          [
            '<base />',
            '<validate-jwt header-name="Authorization"><openid-config url="https://login.microsoftonline.com/t/v2.0/.well-known/openid-configuration" /><audiences><audience>api://echo</audience></audiences><issuers><issuer>https://login.microsoftonline.com/t/v2.0</issuer></issuers><required-claims><claim name="roles" match="any"><value>Echo.Read</value></claim></required-claims></validate-jwt>',
            '<cors allow-credentials="true"><allowed-origins><origin>https://app.example</origin></allowed-origins><allowed-methods><method>GET</method></allowed-methods><allowed-headers><header>*</header></allowed-headers><expose-headers><header>x-id</header></expose-headers></cors>',
            '<llm-emit-token-metric><dimension name="API ID" /></llm-emit-token-metric>',
            '<send-request mode="new" response-variable-name="r"><set-url>https://example.org</set-url><set-method>GET</set-method><authentication-managed-identity resource="https://example.org" /></send-request>',
            '<set-body><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body /></soap:Envelope></set-body>',
            '<xsl-transform><xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform"><xsl:template match="/" /></xsl:stylesheet></xsl-transform>',
            '<send-service-bus-message queue-name="q"><payload>@(context.Request.Body.As<string>())</payload></send-service-bus-message>',
          ].join('\n        '),
        ),
      }),
    ).toEqual([]);
  });
});

describe('wrong-section', () => {
  it('warns where the docs do not place a policy, naming the sections that take it', async () => {
    expect(
      await lint({
        'apis/echo/policy.xml': sections({
          inbound: '<base />\n        <forward-request />',
          backend: '<base />',
          outbound:
            '<base />\n        <choose><when condition="@(true)"><cors><allowed-origins><origin>https://a.example</origin></allowed-origins></cors></when></choose>\n        <set-method>POST</set-method>',
          onError: '<base />\n        <trace source="api">failed</trace>',
        }),
      }),
    ).toEqual([
      'apis/echo/policy.xml:4:9 warning wrong-section: <forward-request> is in <inbound>, but APIM places it in <backend> only; move it there',
      'apis/echo/policy.xml:11:43 warning wrong-section: <cors> is in <outbound>, but APIM places it in <inbound> only; move it there',
      'apis/echo/policy.xml:12:9 warning wrong-section: <set-method> is in <outbound>, but APIM places it in <inbound> and <on-error>; move it there',
      'apis/echo/policy.xml:16:9 warning wrong-section: <trace> is in <on-error>, but APIM places it in <inbound>, <backend> and <outbound>; move it there',
    ]);
  });

  it('lets send-request hold its own children anywhere, and does not place fragments or policies the table leaves out', async () => {
    expect(
      await lint({
        'apis/echo/policy.xml': sections({
          inbound: '<base />',
          backend: '<retry condition="@(true)" count="2" interval="1"><forward-request /></retry>',
          outbound:
            '<base />\n        <send-request mode="new" response-variable-name="r"><set-url>https://example.org</set-url><set-method>POST</set-method><authentication-managed-identity resource="https://example.org" /></send-request>\n' +
            '        <get-authorization-context provider-id="p" authorization-id="a" context-variable-name="c" />',
          onError: '<base />\n        <return-response><set-status code="500" /><set-header name="x" exists-action="override"><value>1</value></set-header></return-response>',
        }),
        'policy fragments/f/policy.xml': '<fragment>\n    <forward-request />\n    <cors><allowed-origins><origin>https://a.example</origin></allowed-origins></cors>\n</fragment>\n',
      }),
    ).toEqual([]);
  });
});

describe('jwt-no-audience', () => {
  it('warns when a token from the tenant or from an identity provider is accepted for any application', async () => {
    expect(
      await lint({
        'apis/echo/policy.xml': policy(
          '<base />\n        <validate-azure-ad-token tenant-id="{{tenant-id}}" />\n' +
            '        <validate-jwt header-name="Authorization">\n            <openid-config url="https://login.microsoftonline.com/t/v2.0/.well-known/openid-configuration" />\n            <audiences />\n        </validate-jwt>',
        ),
      }),
    ).toEqual([
      "apis/echo/policy.xml:4:9 warning jwt-no-audience: <validate-azure-ad-token> checks neither an audience nor a claim, so any valid token of the tenant passes, whatever app it was issued for; add <audiences><audience>(your API's app ID URI)</audience></audiences> and/or <required-claims> (e.g. the roles claim) or <client-application-ids>",
      "apis/echo/policy.xml:5:9 warning jwt-no-audience: <validate-jwt> checks neither an audience nor a claim, so any valid token of the issuer passes, whatever app it was issued for; add <audiences><audience>(your API's app ID URI)</audience></audiences> and/or <required-claims> (e.g. the roles claim)",
    ]);
  });

  it("is satisfied by an audience, a required claim, client application IDs, or keys of the API's own", async () => {
    const openid = '<openid-config url="https://login.microsoftonline.com/t/v2.0/.well-known/openid-configuration" />';
    expect(
      await lint({
        'apis/echo/policy.xml': policy(
          [
            '<base />',
            `<validate-jwt header-name="Authorization">${openid}<audiences><audience>api://echo</audience></audiences></validate-jwt>`,
            `<validate-jwt header-name="Authorization">${openid}<required-claims><claim name="roles" match="any"><value>Echo.Write</value></claim></required-claims></validate-jwt>`,
            '<validate-azure-ad-token tenant-id="t"><client-application-ids><application-id>{{caller-app-id}}</application-id></client-application-ids></validate-azure-ad-token>',
            '<validate-jwt header-name="Authorization"><issuer-signing-keys><key>{{signing-key}}</key></issuer-signing-keys></validate-jwt>',
          ].join('\n        '),
        ),
      }),
    ).toEqual([]);
  });
});

describe('openid-config-https', () => {
  it('is an error when the keys would be fetched over plain http', async () => {
    expect(
      await lint({
        'apis/echo/policy.xml': policy(
          '<base />\n        <validate-jwt header-name="Authorization">\n            <openid-config url="http://login.example.com/.well-known/openid-configuration" />\n            <audiences><audience>api://echo</audience></audiences>\n        </validate-jwt>',
        ),
      }),
    ).toEqual([
      'apis/echo/policy.xml:5:13 error openid-config-https: openid-config url "http://login.example.com/.well-known/openid-configuration" is not https: the signing keys fetched over it could be replaced in transit, and with them any token accepted; use https://',
    ]);
  });

  it("accepts https, and leaves named values, expressions and other tools' placeholders alone", async () => {
    const jwt = (url: string) => `<validate-jwt header-name="Authorization"><openid-config url="${url}" /><audiences><audience>api://echo</audience></audiences></validate-jwt>`;
    expect(
      await lint({
        'apis/echo/policy.xml': policy(
          ['<base />', jwt('HTTPS://login.microsoftonline.com/t/v2.0/.well-known/openid-configuration'), jwt('{{openid-url}}'), jwt('${openid_url}'), jwt('@((string)context.Variables["oidc"])')].join(
            '\n        ',
          ),
        ),
      }),
    ).toEqual([]);
  });
});

describe('missing-fragment', () => {
  it("warns when the included fragment is not in the tree, for the document's own workspace", async () => {
    expect(
      await lint({
        'apis/echo/policy.xml': policy('<base />\n        <include-fragment fragment-id="auth" />\n        <include-fragment fragment-id="headers" />'),
        'workspaces/team-a/apis/inner/policy.xml': policy('<base />\n        <include-fragment fragment-id="headers" />\n        <include-fragment fragment-id="ws-only" />'),
        'policy fragments/headers/policy.xml': '<fragment>\n    <set-header name="x" exists-action="override"><value>1</value></set-header>\n</fragment>\n',
        'workspaces/team-a/policy fragments/ws-only/policy.xml': '<fragment>\n    <include-fragment fragment-id="nested" />\n</fragment>\n',
      }),
    ).toEqual([
      'apis/echo/policy.xml:4:9 warning missing-fragment: fragment "auth" is not in the tree (policy fragments/auth/policy.xml); plan checks whether it exists live — add it to the tree to manage it here, or correct fragment-id',
      'workspaces/team-a/apis/inner/policy.xml:4:9 warning missing-fragment: fragment "headers" is not in the tree (workspaces/team-a/policy fragments/headers/policy.xml); plan checks whether it exists live — add it to the tree to manage it here, or correct fragment-id',
      'workspaces/team-a/policy fragments/ws-only/policy.xml:2:5 warning missing-fragment: fragment "nested" is not in the tree (workspaces/team-a/policy fragments/nested/policy.xml); plan checks whether it exists live — add it to the tree to manage it here, or correct fragment-id',
    ]);
  });

  it('finds fragments in either folder spelling and whatever the case, and skips ids another tool fills in', async () => {
    expect(
      await lint({
        'apis/echo/policy.xml': policy('<base />\n        <include-fragment fragment-id="Auth" />\n        <include-fragment fragment-id="${fragment_name}" />'),
        'policyFragments/auth/policy.xml': '<fragment>\n    <base />\n</fragment>\n',
      }),
    ).toEqual([]);
  });
});

describe('plaintext-secret', () => {
  it('warns at a key or password written in the policy', async () => {
    expect(
      await lint({
        'apis/echo/policy.xml': policy(
          [
            '<base />',
            '<set-header name="Ocp-Apim-Subscription-Key" exists-action="override">',
            '    <value>4f1c2a9be07d4c55a6b3e8f0d2c71a9e</value>',
            '</set-header>',
            '<set-query-parameter name="code" exists-action="override"><value>q8Zt3VdKx0aN4r9wLmP2sYbH7cE5fJ1uGi6oQ-Tn0jRk==</value></set-query-parameter>',
            '<authentication-basic username="svc" password="Winter2024!" />',
            '<authentication-certificate body="@(context.Variables.GetValueOrDefault<byte[]>(&quot;pfx&quot;))" password="pfx-pass" />',
          ].join('\n        '),
        ),
      }),
    ).toEqual([
      'apis/echo/policy.xml:5:13 warning plaintext-secret: <set-header name="Ocp-Apim-Subscription-Key"> sends a key written in plain text; move it to a secret named value (or a Key Vault one) and write {{name}} here',
      'apis/echo/policy.xml:7:67 warning plaintext-secret: <set-query-parameter name="code"> sends a key written in plain text; move it to a secret named value (or a Key Vault one) and write {{name}} here',
      'apis/echo/policy.xml:8:9 warning plaintext-secret: <authentication-basic> has its password in plain text; move it to a secret named value (or a Key Vault one) and write {{name}} here',
      'apis/echo/policy.xml:9:9 warning plaintext-secret: <authentication-certificate> has its password in plain text; move it to a secret named value (or a Key Vault one) and write {{name}} here',
    ]);
  });

  it('leaves named values, expressions, placeholders, deletions and other headers alone', async () => {
    const header = (name: string, value: string) => `<set-header name="${name}" exists-action="override"><value>${value}</value></set-header>`;
    expect(
      await lint({
        'apis/echo/policy.xml': policy(
          [
            '<base />',
            header('x-api-key', '{{backend-key}}'),
            header('x-functions-key', '@(context.Request.Headers.GetValueOrDefault("x-functions-key", ""))'),
            header('api-key', 'your-api-key-here'),
            header('api-key', 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx'),
            header('subscription-key', '${subscription_key}'),
            // A header named code is not the Functions key, and this value is no key.
            header('code', 'Q2hhbmdlTWUxMjM0NTY3ODkw'),
            header('x-request-id', '4f1c2a9be07d4c55a6b3e8f0d2c71a9e'),
            '<set-header name="Ocp-Apim-Subscription-Key" exists-action="delete" />',
            '<authentication-basic username="svc" password="{{svc-password}}" />',
            '<authentication-basic username="svc" password="#{ServicePassword}#" />',
            '<authentication-certificate thumbprint="{{cert-thumbprint}}" />',
          ].join('\n        '),
        ),
      }),
    ).toEqual([]);
  });
});

describe('cors-wildcard-credentials', () => {
  it('warns at a wildcard origin when credentials are allowed', async () => {
    expect(
      await lint({
        'apis/echo/policy.xml': policy(
          '<base />\n        <cors allow-credentials="true">\n            <allowed-origins>\n                <origin>https://app.example</origin>\n                <origin>*</origin>\n            </allowed-origins>\n        </cors>',
        ),
      }),
    ).toEqual([
      'apis/echo/policy.xml:7:17 warning cors-wildcard-credentials: <origin>*</origin> with allow-credentials="true": browsers refuse credentials for a wildcard origin, and it would let any site call the API as the user; list the allowed origins',
    ]);
  });

  it('accepts a wildcard without credentials and credentials with listed origins', async () => {
    expect(
      await lint({
        'apis/echo/policy.xml': policy(
          '<base />\n        <cors allow-credentials="false"><allowed-origins><origin>*</origin></allowed-origins></cors>\n' +
            '        <cors allow-credentials="true"><allowed-origins><origin>https://app.example</origin></allowed-origins></cors>',
        ),
      }),
    ).toEqual([]);
  });
});

describe('the policy rules', () => {
  it('each has a kebab-case id, a default severity and a one-line description', () => {
    expect(POLICY_RULES.map((r) => `${r.id} ${r.severity}`)).toEqual([
      'missing-base warning',
      'unknown-element info',
      'wrong-section warning',
      'jwt-no-audience warning',
      'openid-config-https error',
      'missing-fragment warning',
      'plaintext-secret warning',
      'cors-wildcard-credentials warning',
    ]);
    for (const rule of POLICY_RULES) expect(rule.description).toMatch(/^[^\n]+\.$/);
  });
});
