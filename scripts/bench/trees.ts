/**
 * Generated policies trees for the benchmarks: median-sized policies with raw C# expressions, an
 * API policy and three operation policies per API, written as authors write them (`author`) or as
 * APIM stores them (`apim`: CRLF, tabs, its own attribute order, escaped expressions).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

export type Style = 'author' | 'apim';

const escapeExpr = (s: string) => s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/\n/g, '&#xA;');

/** A realistic policy (median-sized, with raw C# expressions); `apim` writes it as APIM stores it. */
export function policyText(i: number, style: Style, changed: boolean): string {
  const x = (code: string) => (style === 'apim' ? escapeExpr(code) : code);
  const body = [
    '<policies>',
    '    <inbound>',
    '        <base />',
    `        <set-variable name="requestId" value="${x('@(context.Request.Headers.GetValueOrDefault("x-request-id", Guid.NewGuid().ToString()))')}" />`,
    `        <choose>`,
    `            <when condition="${x('@(context.Request.Method == "POST" && context.Request.Body != null)')}">`,
    `                <set-header name="x-route" exists-action="override">`,
    `                    <value>route-${i}</value>`,
    '                </set-header>',
    '            </when>',
    '        </choose>',
    `        <rate-limit-by-key calls="${changed ? 200 : 100}" renewal-period="60" counter-key="${x('@(context.Subscription?.Key ?? "anonymous")')}" />`,
    `        <set-backend-service base-url="https://backend-${i % 17}.contoso.example/api" />`,
    '        <authentication-managed-identity resource="https://servicebus.azure.net/" />',
    '    </inbound>',
    '    <backend>',
    '        <base />',
    '    </backend>',
    '    <outbound>',
    '        <base />',
    `        <set-body>${x('@{\n            var body = context.Response.Body.As<JObject>();\n            // stamp the response\n            body["handledBy"] = "apim<' + i + '>";\n            return body.ToString();\n        }')}</set-body>`,
    '    </outbound>',
    '    <on-error>',
    '        <base />',
    '    </on-error>',
    '</policies>',
  ].join('\n');
  if (style === 'author') return body + '\n';
  // APIM: CRLF, tabs, attributes in its own order.
  // APIM re-indents markup but keeps <set-body> content as it is.
  return body
    .replace(/^(?: {4})+(?=<)/gm, (pad) => '\t'.repeat(pad.length / 4))
    .replace(/<set-header name="x-route" exists-action="override">/, '<set-header exists-action="override" name="x-route">')
    .replace(/\n/g, '\r\n');
}

/** Tree-relative path of policy `i`: one API policy, then three operation policies of that API. */
export function policyPath(i: number): string {
  return i % 4 === 0 ? `apis/api-${i}/policy.xml` : `apis/api-${i - (i % 4)}/operations/op-${i}/policy.xml`;
}

/** Writes `n` policies under `root`; `changed(i)` picks the ones whose content differs (`calls` 200, not 100). */
export function writeTree(root: string, n: number, style: Style, changed: (i: number) => boolean = () => false): void {
  for (let i = 0; i < n; i++) {
    const path = join(root, policyPath(i));
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, policyText(i, style, changed(i)));
  }
}

/** `k` indices spread evenly over `0..n-1` (the policies a change touches). */
export function spread(n: number, k: number): Set<number> {
  const out = new Set<number>();
  if (k <= 0) return out;
  for (let j = 0; j < k; j++) out.add(Math.min(n - 1, Math.floor((j * n) / k)));
  return out;
}
