/**
 * The emulator's policy routes and APIM-like serialisation, driven through the `RouteHandler`
 * seam with hand-built requests (no socket). Expected values come from AZURE-CONTRACT.md §1–2.
 */
import { canonicalize, parsePolicyDocument } from '../../src/policy-xml/index.js';
import { serialiseLikeApim } from '../../src/emulator/apim-serialise.js';
import { createPolicyRoutes, policyRoutes } from '../../src/emulator/arm-policies.js';
import { parentsOf, storeEntity } from '../../src/emulator/arm-entities.js';
import { seedFromTree } from '../../src/cli/emulator-seed.js';
import { createEmulatorState } from '../../src/emulator/state.js';
import type { EmulatorResponse, EmulatorState, RouteHandler } from '../../src/emulator/types.js';
import { makeTree, policy } from '../helpers/tree.js';
import { BASE, routeCall as call, routeRequest as request } from '../helpers/routes.js';

const S = '/subscriptions/sub-1/resourceGroups/rg-1/providers/Microsoft.ApiManagement/service/apim-1';
const V = '2024-05-01';

function freshState(): EmulatorState {
  return createEmulatorState({
    subscriptionId: 'sub-1',
    resourceGroup: 'rg-1',
    serviceName: 'apim-1',
    tenantId: 'tenant-1',
    clientId: 'client-1',
  });
}

type Body = Record<string, any>;

const RAW_POLICY = `<policies>
  <inbound>
    <base/>
    <set-variable name="isAdmin" value="@(context.Request.Headers.GetValueOrDefault("X-Role", "") == "admin")" />
  </inbound>
  <backend><base /></backend>
  <outbound><base /></outbound>
  <on-error><base /></on-error>
</policies>`;

/** A PUT under parents the instance has: the API, operation, product or workspace is stored first (as the seed or the portal would). */
function put(state: EmulatorState, path: string, value: string, headers: Record<string, string> = {}, format = 'rawxml') {
  for (const parent of parentsOf(decodeURIComponent(path))) storeEntity(state, parent);
  return putOnly(state, path, value, headers, format);
}

/** A PUT as sent, parents or not. */
function putOnly(state: EmulatorState, path: string, value: string, headers: Record<string, string> = {}, format = 'rawxml') {
  return call(state, 'PUT', `${S}/${path}?api-version=${V}`, { body: { properties: { value, format } }, headers });
}

describe('serialiseLikeApim', () => {
  const fixtures: Record<string, string> = {
    'raw expressions with " in attributes': RAW_POLICY,
    'multi-line @{} with // comments in an attribute': `<policies>
    <inbound>
        <choose>
            <when condition="@{
                // only callers from the partner tenant
                var tid = context.Request.Headers.GetValueOrDefault("X-Tenant", ""); // "quoted"
                return tid == "partner" && context.Variables.GetValueOrDefault<bool>("ok");
            }">
                <set-header name="X-Partner" exists-action="override"><value>@{
                    // text expression, also multi-line
                    return "<yes>";
                }</value></set-header>
            </when>
            <otherwise><base /></otherwise>
        </choose>
    </inbound>
</policies>`,
    'set-body with raw XML': `<policies>
    <inbound>
        <set-body template="none"><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/">
    <soap:Body>
        <GetItem id='7'>@(context.Request.MatchedParameters["id"])</GetItem>
        <Note>a &amp; b</Note>
    </soap:Body>
</soap:Envelope></set-body>
    </inbound>
</policies>`,
    'already escaped, single quotes, comments, CDATA': `<!-- leading -->
<policies>
  <inbound>
    <set-header name='X-A' exists-action='override'>
      <value>@(context.Request.Headers.GetValueOrDefault(&quot;a&quot;,&quot;&quot;).Length &gt; 3)</value>
    </set-header>
    <!-- a note -->
    <return-response><set-body><![CDATA[{"ok": true}]]></set-body></return-response>
  </inbound>
</policies>`,
    'fragment': `<fragment>
    <set-variable name="x" value="@((string)context.Variables["y"] + "&lt;")" />
</fragment>`,
  };

  for (const [name, source] of Object.entries(fixtures)) {
    for (const format of ['xml', 'rawxml'] as const) {
      test(`${name} (${format}): same meaning, idempotent, CRLF and tabs`, () => {
        const original = parsePolicyDocument(source);
        const out = serialiseLikeApim(original, format);
        expect(canonicalize(parsePolicyDocument(out))).toBe(canonicalize(original));
        expect(serialiseLikeApim(parsePolicyDocument(out), format)).toBe(out);
        expect(out.replace(/\r\n/g, '')).not.toMatch(/\n/);
        expect(out).toContain('\r\n\t');
        // Layout indents with tabs; only <set-body> payload keeps the author's spaces.
        expect(out.replace(/<set-body[\s\S]*?<\/set-body>/g, '')).not.toMatch(/^ +</m);
      });
    }
  }

  test('xml escapes expressions, rawxml keeps them as written', () => {
    const doc = parsePolicyDocument(RAW_POLICY);
    const attr = 'value="@(context.Request.Headers.GetValueOrDefault("X-Role", "") == "admin")"';
    expect(serialiseLikeApim(doc, 'rawxml')).toContain(attr);
    expect(serialiseLikeApim(doc, 'xml')).toContain('value="@(context.Request.Headers.GetValueOrDefault(&quot;X-Role&quot;, &quot;&quot;) == &quot;admin&quot;)"');
  });

  test('set-body payload keeps its whitespace and line breaks (as CRLF)', () => {
    const out = serialiseLikeApim(parsePolicyDocument(fixtures['set-body with raw XML']!), 'rawxml');
    expect(out).toContain('\r\n    <soap:Body>\r\n        <GetItem id="7">@(context.Request.MatchedParameters["id"])</GetItem>');
  });

  test('the exact APIM layout', () => {
    const doc = parsePolicyDocument('<policies><inbound><base/><set-header name="a" exists-action="override"><value>@(1 > 0 && true)</value></set-header></inbound></policies>');
    expect(serialiseLikeApim(doc, 'xml')).toBe(
      '<policies>\r\n\t<inbound>\r\n\t\t<base />\r\n\t\t<set-header name="a" exists-action="override">\r\n' +
        '\t\t\t<value>@(1 &gt; 0 &amp;&amp; true)</value>\r\n\t\t</set-header>\r\n\t</inbound>\r\n</policies>',
    );
  });

  test('newlines in an attribute expression become &#xA; in xml and stay raw in rawxml', () => {
    const doc = parsePolicyDocument('<policies><inbound><set-variable name="v" value="@{\n// c\nreturn 1;\n}" /></inbound></policies>');
    expect(serialiseLikeApim(doc, 'xml')).toContain('value="@{&#xA;// c&#xA;return 1;&#xA;}"');
    expect(serialiseLikeApim(doc, 'rawxml')).toContain('value="@{\r\n// c\r\nreturn 1;\r\n}"');
  });

  test('a fragment sent without its wrapper is stored whole', () => {
    const doc = parsePolicyDocument('<set-header name="a" exists-action="delete" />', { expect: 'fragment' });
    expect(serialiseLikeApim(doc, 'xml')).toBe('<fragment>\r\n\t<set-header name="a" exists-action="delete" />\r\n</fragment>');
  });
});

describe('policy item routes', () => {
  test('PUT creates with 201, updates with 200, and the ETag is quoted and changes', () => {
    const state = freshState();
    const first = put(state, 'apis/echo/policies/policy', RAW_POLICY);
    expect(first.status).toBe(201);
    const etag1 = first.headers!.ETag!;
    expect(etag1).toMatch(/^".+"$/);
    const body = first.body as Body;
    expect(body.id).toBe(`${S}/apis/echo/policies/policy`);
    expect(body.name).toBe('policy');
    expect(body.type).toBe('Microsoft.ApiManagement/service/apis/policies');

    const second = put(state, 'apis/echo/policies/policy', RAW_POLICY);
    expect(second.status).toBe(200);
    expect(second.headers!.ETag).not.toBe(etag1);

    const stored = state.resources.get('apis/echo/policies/policy')!;
    expect(stored.etag).toBe(second.headers!.ETag);
    expect(stored.value).toBe(serialiseLikeApim(parsePolicyDocument(RAW_POLICY), 'xml'));
  });

  test('If-Match: a different ETag gives 412, "*" and the current ETag (quoted or not) succeed', () => {
    const state = freshState();
    const etag = put(state, 'policies/policy', RAW_POLICY).headers!.ETag!;
    const stale = put(state, 'policies/policy', RAW_POLICY, { 'If-Match': '"not-the-etag"' });
    expect(stale.status).toBe(412);
    expect((stale.body as Body).error.code).toBe('PreconditionFailed');
    expect(state.resources.get('policies/policy')!.etag).toBe(etag);

    const unquoted = put(state, 'policies/policy', RAW_POLICY, { 'if-match': etag.replace(/"/g, '') });
    expect(unquoted.status).toBe(200);
    const star = put(state, 'policies/policy', RAW_POLICY, { 'If-Match': '*' });
    expect(star.status).toBe(200);
    expect(star.headers!.ETag).not.toBe(unquoted.headers!.ETag);
    const createWithStar = put(state, 'products/starter/policies/policy', RAW_POLICY, { 'If-Match': '*' });
    expect(createWithStar.status).toBe(201);
  });

  test('DELETE needs If-Match (400), removes with 200, then 204', () => {
    const state = freshState();
    const etag = put(state, 'apis/echo/operations/get/policies/policy', RAW_POLICY).headers!.ETag!;
    const url = `${S}/apis/echo/operations/get/policies/policy?api-version=${V}`;
    expect(call(state, 'DELETE', url).status).toBe(400);
    expect(call(state, 'DELETE', url, { headers: { 'If-Match': '"other"' } }).status).toBe(412);
    const removed = call(state, 'DELETE', url, { headers: { 'If-Match': etag } });
    expect(removed.status).toBe(200);
    expect(state.resources.has('apis/echo/operations/get/policies/policy')).toBe(false);
    const again = call(state, 'DELETE', url, { headers: { 'If-Match': '*' } });
    expect(again.status).toBe(204);
    expect(again.body).toBeUndefined();
    expect(call(state, 'GET', url).status).toBe(404);
  });

  test('GET format=xml (the default) escapes expressions, rawxml does not', () => {
    const state = freshState();
    put(state, 'apis/echo/policies/policy', RAW_POLICY);
    const path = `${S}/apis/echo/policies/policy?api-version=${V}`;
    const escaped = '@(context.Request.Headers.GetValueOrDefault(&quot;X-Role&quot;, &quot;&quot;) == &quot;admin&quot;)';
    const raw = '@(context.Request.Headers.GetValueOrDefault("X-Role", "") == "admin")';
    for (const url of [path, `${path}&format=xml`]) {
      const res = call(state, 'GET', url);
      expect(res.status).toBe(200);
      expect(res.headers!.ETag).toBe(state.resources.get('apis/echo/policies/policy')!.etag);
      const props = (res.body as Body).properties;
      expect(props.format).toBe('xml');
      expect(props.value).toContain(escaped);
      expect(props.value).not.toContain(raw);
      expect(props.value).toMatch(/^<policies>\r\n\t<inbound>\r\n\t\t<base \/>/);
    }
    const rawRes = call(state, 'GET', `${path}&format=rawxml`);
    const rawProps = (rawRes.body as Body).properties;
    expect(rawProps.format).toBe('rawxml');
    expect(rawProps.value).toContain(raw);
    expect(rawProps.value).not.toContain('&quot;');
  });

  test('PUT of escaped XML (format=xml) reads back raw in rawxml', () => {
    const state = freshState();
    const escaped = RAW_POLICY.replace(
      '@(context.Request.Headers.GetValueOrDefault("X-Role", "") == "admin")',
      '@(context.Request.Headers.GetValueOrDefault(&quot;X-Role&quot;, &quot;&quot;) == &quot;admin&quot;)',
    );
    expect(put(state, 'policies/policy', escaped, {}, 'xml').status).toBe(201);
    const res = call(state, 'GET', `${S}/policies/policy?api-version=${V}&format=rawxml`);
    expect((res.body as Body).properties.value).toContain('GetValueOrDefault("X-Role", "") == "admin"');
  });

  test('entities: a PUT as xml is decoded exactly once, a PUT as rawxml is stored as sent', () => {
    const state = freshState();
    const doc = (expr: string) => `<policies><inbound><set-header name="x" exists-action="override"><value>${expr}</value></set-header></inbound></policies>`;
    const rawxmlOf = (path: string) => (call(state, 'GET', `${S}/${path}?api-version=${V}&format=rawxml`).body as Body).properties.value as string;
    expect(put(state, 'policies/policy', doc('@("Tom &amp;amp; Jerry")'), {}, 'xml').status).toBe(201);
    // One decode: the C# string holds the five characters &amp; — not "&", as a second decode would make it.
    expect(rawxmlOf('policies/policy')).toContain('@("Tom &amp; Jerry")');
    expect(put(state, 'apis/echo/policies/policy', doc('@("Tom & Jerry".Length > 3)'), {}, 'rawxml').status).toBe(201);
    expect(rawxmlOf('apis/echo/policies/policy')).toContain('@("Tom & Jerry".Length > 3)');
    // And format=xml answers with the C# escaped once.
    expect((call(state, 'GET', `${S}/apis/echo/policies/policy?api-version=${V}`).body as Body).properties.value).toContain('@(&quot;Tom &amp; Jerry&quot;.Length &gt; 3)');
  });

  test('entities: a rawxml PUT whose expression holds an XML reference is refused (the C# would not compile), and nothing is stored', () => {
    const state = freshState();
    const res = put(
      state,
      'apis/echo/policies/policy',
      '<policies><inbound><set-variable name="v" value="@(context.Request.Headers.GetValueOrDefault(&quot;a&quot;))" /></inbound></policies>',
      {},
      'rawxml',
    );
    expect(res.status).toBe(400);
    expect((res.body as Body).error.code).toBe('ValidationError');
    expect(state.resources.has('apis/echo/policies/policy')).toBe(false);
  });

  test('invalid XML gives 400 ValidationError with line and position, and stores nothing', () => {
    const state = freshState();
    const broken = '<policies>\n  <inbound>\n    <base />\n  </outbound>\n</policies>';
    const res = put(state, 'apis/echo/policies/policy', broken);
    expect(res.status).toBe(400);
    const error = (res.body as Body).error;
    expect(error.code).toBe('ValidationError');
    expect(error.details).toHaveLength(1);
    expect(error.details[0].code).toBe('ValidationError');
    expect(error.details[0].target).toBe('representation');
    expect(error.details[0].message).toMatch(/ Line 4, position \d+\.$/);
    expect(state.resources.has('apis/echo/policies/policy')).toBe(false);
  });

  test('a <fragment> at a policy scope and a missing value are rejected', () => {
    const state = freshState();
    expect(put(state, 'policies/policy', '<fragment><base /></fragment>').status).toBe(400);
    const res = call(state, 'PUT', `${S}/policies/policy?api-version=${V}`, { body: { properties: { format: 'xml' } } });
    expect(res.status).toBe(400);
    expect(state.resources.size).toBe(0);
  });

  test('HEAD gives 200 and the ETag without a body, 404 when absent', () => {
    const state = freshState();
    const etag = put(state, 'products/starter/policies/policy', RAW_POLICY).headers!.ETag;
    const head = call(state, 'HEAD', `${S}/products/starter/policies/policy?api-version=${V}`);
    expect(head.status).toBe(200);
    expect(head.headers!.ETag).toBe(etag);
    expect(head.body).toBeUndefined();
    const missing = call(state, 'HEAD', `${S}/products/other/policies/policy?api-version=${V}`);
    expect(missing.status).toBe(404);
    expect(missing.body).toBeUndefined();
  });

  test('paths match case-insensitively, and a differently cased address is the same resource', () => {
    const state = freshState();
    put(state, 'apis/Echo/policies/policy', RAW_POLICY);
    const lower = S.toLowerCase().replace('/microsoft.apimanagement/', '/MICROSOFT.apimanagement/');
    const res = call(state, 'GET', `${lower}/APIS/echo/Policies/Policy?api-version=${V}`);
    expect(res.status).toBe(200);
    expect((res.body as Body).id).toBe(`${S}/apis/Echo/policies/policy`);
    expect(put(state, 'APIS/ECHO/policies/policy', RAW_POLICY).status).toBe(200);
    expect([...state.resources.keys()]).toEqual(['apis/echo', 'apis/echo/policies/policy']);
  });

  test('api-version is required', () => {
    const state = freshState();
    const res = call(state, 'GET', `${S}/policies/policy`);
    expect(res.status).toBe(400);
    expect((res.body as Body).error.code).toBe('MissingApiVersionParameter');
  });

  test('another subscription, resource group or service is a 404 ARM error', () => {
    const state = freshState();
    for (const other of [S.replace('sub-1', 'sub-2'), S.replace('rg-1', 'rg-2'), S.replace('apim-1', 'apim-2')]) {
      const res = call(state, 'GET', `${other}/policies/policy?api-version=${V}`);
      expect(res.status).toBe(404);
      expect((res.body as Body).error.code).toMatch(/NotFound$/);
    }
  });

  test('routes that are not its own are left to other handlers', () => {
    const state = freshState();
    expect(policyRoutes(request('GET', `${S}?api-version=${V}`), state)).toBeUndefined();
    expect(policyRoutes(request('PATCH', `${S}?api-version=${V}`), state)).toBeUndefined();
    expect(policyRoutes(request('GET', `/subscriptions/sub-1/providers/Microsoft.Authorization/roleAssignments?api-version=${V}`), state)).toBeUndefined();
  });

  test('API revisions and workspaces are their own scopes', () => {
    const state = freshState();
    expect(put(state, 'apis/echo%3Brev%3D2/policies/policy', RAW_POLICY).status).toBe(201);
    expect(state.resources.has('apis/echo;rev=2/policies/policy')).toBe(true);
    expect(put(state, 'workspaces/team-a/apis/echo/policies/policy', RAW_POLICY).status).toBe(201);
    const ws = call(state, 'GET', `${S}/workspaces/team-a/apis/echo/policies/policy?api-version=${V}`);
    expect((ws.body as Body).type).toBe('Microsoft.ApiManagement/service/workspaces/apis/policies');
    expect(call(state, 'GET', `${S}/apis/echo/policies/policy?api-version=${V}`).status).toBe(404);
  });

  test('policy lists per scope', () => {
    const state = freshState();
    put(state, 'apis/echo/policies/policy', RAW_POLICY);
    const list = call(state, 'GET', `${S}/apis/echo/policies?api-version=${V}`).body as Body;
    expect(list.count).toBe(1);
    expect(list.value[0].id).toBe(`${S}/apis/echo/policies/policy`);
    storeEntity(state, 'products/bare');
    const empty = call(state, 'GET', `${S}/products/bare/policies?api-version=${V}`).body as Body;
    expect(empty).toEqual({ value: [], count: 0 });
    expect(call(state, 'GET', `${S}/products/none/policies?api-version=${V}`).status).toBe(404);
  });
});

/** The answers to polling a fragment PUT's operation (`Azure-AsyncOperation`) `times` times. */
function poll(state: EmulatorState, accepted: EmulatorResponse, times = 2): Body[] {
  const url = accepted.headers!['Azure-AsyncOperation']!;
  return Array.from({ length: times }, () => {
    const res = call(state, 'GET', url);
    expect(res.status).toBe(200);
    return res.body as Body;
  });
}

describe('fragments', () => {
  test('PUT is long-running as the spec example: 201 then 200, InProgress, LRO headers, no ETag; visible only once a poll completes it', () => {
    const state = freshState();
    const url = `${S}/policyFragments/auth?api-version=${V}`;
    const body = { properties: { value: '<fragment><set-header name="a" exists-action="delete" /></fragment>', description: 'Auth', format: 'rawxml' } };
    const created = call(state, 'PUT', url, { body });
    expect(created.status).toBe(201);
    expect(Object.keys(created.headers!).sort()).toEqual(['Azure-AsyncOperation', 'Location']);
    const opUrl = created.headers!['Azure-AsyncOperation']!;
    const opId = /\/tenant\/operationResults\/([^/?]+)\?api-version=2024-05-01$/.exec(opUrl)?.[1];
    expect(opUrl.startsWith(`${BASE}${S}/tenant/operationResults/`)).toBe(true);
    expect(created.headers!.Location).toBe(`${BASE}${S}/policyFragments/auth?api-version=${V}&asyncId=${opId}&asyncCode=201`);
    const props = (created.body as Body).properties;
    expect(props.provisioningState).toBe('InProgress');
    expect(props.description).toBe('Auth');
    expect((created.body as Body).type).toBe('Microsoft.ApiManagement/service/policyFragments');
    expect((created.body as Body).name).toBe('auth');
    // Not there until the operation completes: the first poll answers InProgress, the second Succeeded.
    expect(call(state, 'GET', url).status).toBe(404);
    const [first] = poll(state, created, 1);
    expect(first!.status).toBe('InProgress');
    expect(call(state, 'GET', url).status).toBe(404);
    const [second] = poll(state, created, 1);
    expect(second!.status).toBe('Succeeded');
    const got = call(state, 'GET', `${url}&format=rawxml`);
    expect(got.status).toBe(200);
    expect((got.body as Body).properties.value).toBe('<fragment>\r\n\t<set-header name="a" exists-action="delete" />\r\n</fragment>');
    expect((got.body as Body).properties.provisioningState).toBe('Succeeded');
    const etag = got.headers!.ETag!;

    // An update: 200, the old content (and ETag) stays visible until its operation completes.
    const updated = call(state, 'PUT', url, {
      body: { properties: { ...body.properties, value: '<fragment><set-header name="b" exists-action="delete" /></fragment>' } },
      headers: { 'If-Match': etag },
    });
    expect(updated.status).toBe(200);
    expect(updated.headers!.Location).toContain('asyncCode=200');
    expect(call(state, 'GET', url).headers!.ETag).toBe(etag);
    expect(poll(state, updated).map((b) => b.status)).toEqual(['InProgress', 'Succeeded']);
    const after = call(state, 'GET', url, { headers: { 'If-Match': etag } });
    // GET has no If-Match in the spec: a stale one (the SDK re-sends the PUT's) is ignored.
    expect(after.status).toBe(200);
    expect(after.headers!.ETag).not.toBe(etag);
    expect((after.body as Body).properties.value).toContain('name="b"');
    expect((after.body as Body).properties.description).toBe('Auth');
    // A stale If-Match on the PUT itself is refused at once, and starts no operation.
    const stale = call(state, 'PUT', url, { body, headers: { 'If-Match': etag } });
    expect(stale.status).toBe(412);
    expect(stale.headers?.['Azure-AsyncOperation']).toBeUndefined();

    expect(call(state, 'HEAD', url).status).toBe(200);
    expect(call(state, 'DELETE', url).status).toBe(400);
    expect(call(state, 'DELETE', url, { headers: { 'If-Match': '*' } }).status).toBe(200);
    expect(call(state, 'GET', url).status).toBe(404);
    expect((call(state, 'GET', url).body as Body).error.message).toBe('PolicyFragment not found.');
  });

  test('invalid fragment XML is a 400 at once; the fragmentLroFail knob ends an operation Failed, storing nothing', () => {
    const state = freshState();
    const url = `${S}/policyFragments/auth?api-version=${V}`;
    expect(call(state, 'PUT', url, { body: { properties: { value: '<fragment><set-header></fragment>', format: 'rawxml' } } }).status).toBe(400);
    expect(state.operations.size).toBe(0);
    state.faults.fragmentLroFail = 1;
    const accepted = call(state, 'PUT', url, { body: { properties: { value: '<fragment><base /></fragment>', format: 'rawxml' } } });
    expect(accepted.status).toBe(201);
    const [first, second, third] = poll(state, accepted, 3);
    expect(first!.status).toBe('InProgress');
    expect(second!.status).toBe('Failed');
    expect(second!.error.message).toContain('fragmentLroFail');
    expect(third!.status).toBe('Failed');
    expect(call(state, 'GET', url).status).toBe(404);
    // The knob counts down: the next write succeeds.
    const next = call(state, 'PUT', url, { body: { properties: { value: '<fragment><base /></fragment>', format: 'rawxml' } } });
    expect(poll(state, next).map((b) => b.status)).toEqual(['InProgress', 'Succeeded']);
    expect(call(state, 'GET', `${S}/tenant/operationResults/nope?api-version=${V}`).status).toBe(404);
  });

  test('list pages with $top and an absolute nextLink', () => {
    const state = freshState();
    for (const id of ['a', 'b', 'c']) {
      poll(state, put(state, `policyFragments/${id}`, `<fragment><set-variable name="${id}" value="1" /></fragment>`));
    }
    const first = call(state, 'GET', `${S}/policyFragments?api-version=${V}&$top=2`).body as Body;
    expect(first.value.map((v: Body) => v.name)).toEqual(['a', 'b']);
    expect(first.count).toBe(3);
    expect(first.nextLink).toBe(`${BASE}${S}/policyFragments?api-version=${V}&$top=2&$skip=2`);
    const second = call(state, 'GET', first.nextLink).body as Body;
    expect(second.value.map((v: Body) => v.name)).toEqual(['c']);
    expect(second.nextLink).toBeUndefined();
  });
});

describe('parents must exist', () => {
  const missing = (res: EmulatorResponse) => {
    expect(res.status).toBe(404);
    expect((res.body as Body).error).toEqual({ code: 'NotFound', message: 'Entity with specified identifier not found' });
  };

  test('a policy PUT, GET or DELETE under an API, operation, product or workspace the instance lacks is 404 NotFound, and nothing is stored', () => {
    const state = freshState();
    storeEntity(state, 'apis/orders');
    for (const path of [
      'apis/orders-v2/policies/policy',
      'apis/orders/operations/nope/policies/policy',
      'products/gold/policies/policy',
      'workspaces/team/policies/policy',
      'workspaces/team/policyFragments/f',
    ]) {
      const value = path.includes('policyFragments') ? '<fragment><base /></fragment>' : RAW_POLICY;
      missing(putOnly(state, path, value, { 'If-Match': '*' }));
      missing(call(state, 'GET', `${S}/${path}?api-version=${V}`));
      missing(call(state, 'DELETE', `${S}/${path}?api-version=${V}`, { headers: { 'If-Match': '*' } }));
      expect(call(state, 'HEAD', `${S}/${path}?api-version=${V}`)).toEqual({ status: 404 });
    }
    missing(call(state, 'GET', `${S}/apis/orders-v2/policies?api-version=${V}`));
    missing(call(state, 'GET', `${S}/workspaces/team/apis?api-version=${V}`));
    expect([...state.resources.keys()]).toEqual(['apis/orders']);
    expect(state.operations.size).toBe(0);
    // Under the API that exists, the same PUT is a create.
    expect(putOnly(state, 'apis/orders/policies/policy', RAW_POLICY).status).toBe(201);
  });

  test('lists show only the entities stored, never ones a policy address implies', async () => {
    const state = freshState();
    const tree = makeTree({ 'apis/orders/policy.xml': policy(), 'apis/orders/operations/send/policy.xml': policy(), 'products/gold/policy.xml': policy() });
    await seedFromTree(state, tree);
    state.resources.set('apis/stray/policies/policy', { address: 'apis/stray/policies/policy', value: RAW_POLICY, etag: '"x"' });
    expect((call(state, 'GET', `${S}/apis?api-version=${V}`).body as Body).value.map((v: Body) => v.name)).toEqual(['orders']);
    expect((call(state, 'GET', `${S}/apis/orders/operations?api-version=${V}`).body as Body).value.map((v: Body) => v.name)).toEqual(['send']);
    missing(call(state, 'GET', `${S}/apis/stray/policies/policy?api-version=${V}`));
  });
});

describe('lists and paging', () => {
  /** Follows nextLink to the end, checking each link is absolute and carries api-version. */
  function collect(state: EmulatorState, handler: RouteHandler, url: string): { names: string[]; pages: number } {
    const names: string[] = [];
    let next: string | undefined = url;
    let pages = 0;
    while (next) {
      const res = call(state, 'GET', next, {}, handler);
      expect(res.status).toBe(200);
      const body = res.body as Body;
      names.push(...body.value.map((v: Body) => v.name));
      pages += 1;
      next = body.nextLink;
      if (next) {
        expect(next.startsWith(`${BASE}/subscriptions/`)).toBe(true);
        expect(next).toContain(`api-version=${V}`);
        expect(next).toContain('$skip=');
      }
      if (pages > 20) throw new Error('paging never ends');
    }
    return { names, pages };
  }

  test('APIs from policy addresses and seeded entries, paged and followed to the end', () => {
    const state = freshState();
    const small = createPolicyRoutes({ pageSize: 2 });
    for (const api of ['a1', 'a2', 'a3', 'a4']) put(state, `apis/${api}/policies/policy`, RAW_POLICY);
    put(state, 'apis/a5/operations/op1/policies/policy', RAW_POLICY);
    state.resources.set('apis/seeded', { address: 'apis/seeded', value: { displayName: 'Seeded API' }, etag: '"s"' });
    const { names, pages } = collect(state, small, `${S}/apis?api-version=${V}`);
    expect(names).toEqual(['a1', 'a2', 'a3', 'a4', 'a5', 'seeded']);
    expect(pages).toBe(3);
    const all = call(state, 'GET', `${S}/apis?api-version=${V}`).body as Body;
    expect(all.nextLink).toBeUndefined();
    expect(all.count).toBe(6);
    expect(all.value.find((v: Body) => v.name === 'seeded').properties.displayName).toBe('Seeded API');
  });

  test('operations and products', () => {
    const state = freshState();
    put(state, 'apis/echo/operations/get/policies/policy', RAW_POLICY);
    put(state, 'apis/echo/operations/post/policies/policy', RAW_POLICY);
    put(state, 'products/starter/policies/policy', RAW_POLICY);
    state.resources.set('products/unlimited', { address: 'products/unlimited', value: { displayName: 'Unlimited' }, etag: '"p"' });
    const ops = call(state, 'GET', `${S}/apis/echo/operations?api-version=${V}`).body as Body;
    expect(ops.value.map((v: Body) => v.name)).toEqual(['get', 'post']);
    expect(ops.value[0].id).toBe(`${S}/apis/echo/operations/get`);
    const products = call(state, 'GET', `${S}/products?api-version=${V}`).body as Body;
    expect(products.value.map((v: Body) => v.name)).toEqual(['starter', 'unlimited']);
    expect(call(state, 'GET', `${S}/apis/none/operations?api-version=${V}`).status).toBe(404);
  });

  test('allPolicies lists every stored policy (not fragments), paged', () => {
    const state = freshState();
    const addresses = ['policies/policy', 'apis/echo/policies/policy', 'apis/echo/operations/get/policies/policy', 'products/starter/policies/policy', 'workspaces/team-a/policies/policy'];
    for (const a of addresses) put(state, a, RAW_POLICY);
    put(state, 'policyFragments/auth', '<fragment><base /></fragment>');
    state.resources.set('apis/extra', { address: 'apis/extra', value: { displayName: 'x' }, etag: '"x"' });
    const small = createPolicyRoutes({ pageSize: 2 });
    const ids: string[] = [];
    let next: string | undefined = `${S}/allPolicies?api-version=${V}`;
    while (next) {
      const body = call(state, 'GET', next, {}, small).body as Body;
      for (const v of body.value) {
        expect(v.properties.complianceState).toBe('Compliant');
        expect(v.type).toBe('Microsoft.ApiManagement/service/allPolicies');
        ids.push(v.properties.referencePolicyId);
      }
      next = body.nextLink;
    }
    expect(ids.sort()).toEqual(addresses.map((a) => `${S}/${a}`).sort());
  });

  test('named values and backends are read from state', () => {
    const state = freshState();
    state.resources.set('namedvalues/plain', { address: 'namedValues/plain', value: { displayName: 'plain', value: 'v1' }, etag: '"n1"' });
    state.resources.set('namedvalues/secret', { address: 'namedValues/secret', value: { displayName: 'secret', value: 'hidden', secret: true }, etag: '"n2"' });
    state.resources.set('backends/be', { address: 'backends/be', value: { url: 'https://backend.example' }, etag: '"b"' });
    const list = call(state, 'GET', `${S}/namedValues?api-version=${V}`).body as Body;
    expect(list.value.map((v: Body) => v.name)).toEqual(['plain', 'secret']);
    expect(list.value[0].properties.value).toBe('v1');
    expect(list.value[1].properties.value).toBeUndefined();
    expect(list.value[1].properties.secret).toBe(true);
    const item = call(state, 'GET', `${S}/namedValues/plain?api-version=${V}`);
    expect(item.status).toBe(200);
    expect(item.headers!.ETag).toBe('"n1"');
    expect(call(state, 'GET', `${S}/namedValues/absent?api-version=${V}`).status).toBe(404);
    const be = call(state, 'GET', `${S}/backends/be?api-version=${V}`).body as Body;
    expect(be.properties.url).toBe('https://backend.example');
    expect((call(state, 'GET', `${S}/backends?api-version=${V}`).body as Body).count).toBe(1);
  });
});

describe('seedFromTree', () => {
  test('stores every policy as a PUT would, plus the APIs, operations and products it implies', async () => {
    const dir = makeTree({
      'policy.xml': policy(),
      'apis/echo/policy.xml': RAW_POLICY,
      'apis/echo/operations/get/policy.xml': policy('<set-header name="a" exists-action="delete" />'),
      'products/starter/policy.xml': policy(),
      'policy fragments/auth/policy.xml': '<fragment>\n    <base />\n</fragment>\n',
      'policy fragments/auth/policyFragmentInformation.json': '{"properties":{"description":"Auth fragment"}}',
    });
    const state = freshState();
    const result = await seedFromTree(state, dir);
    expect(result.policies).toBe(5);
    expect(state.resources.get('apis/echo/policies/policy')!.value).toBe(serialiseLikeApim(parsePolicyDocument(RAW_POLICY), 'xml'));
    const etags = new Set([...state.resources.values()].map((r) => r.etag));
    expect(etags.size).toBe(state.resources.size);
    expect(state.resources.get('apis/echo')!.value).toEqual({ displayName: 'echo' });
    expect(state.resources.has('apis/echo/operations/get')).toBe(true);
    expect(state.resources.has('products/starter')).toBe(true);
    const frag = call(state, 'GET', `${S}/policyFragments/auth?api-version=${V}`).body as Body;
    expect(frag.properties.description).toBe('Auth fragment');
    const ops = call(state, 'GET', `${S}/apis/echo/operations?api-version=${V}`).body as Body;
    expect(ops.value.map((v: Body) => v.name)).toEqual(['get']);
  });

  test('a tree with a broken policy is refused', async () => {
    const dir = makeTree({ 'apis/echo/policy.xml': '<policies><inbound></policies>' });
    await expect(seedFromTree(freshState(), dir)).rejects.toThrow(/cannot seed/);
  });
});
