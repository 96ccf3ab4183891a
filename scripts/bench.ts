/**
 * Benchmarks (not tests): `npm run bench`.
 * Offline plan of N policies: the CPU the plan pipeline costs in-process (load + parse + canonical
 * form + diff of both trees), and the wall time of the bundled CLI against a bare `node` start.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { loadPolicyTree } from '../src/desired/load-tree.js';
import { computePlan } from '../src/plan/compute.js';

type Style = 'author' | 'apim';

const escapeExpr = (s: string) => s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/\n/g, '&#xA;');

/** A realistic policy (median-sized, with raw C# expressions); `apim` writes it as APIM stores it. */
function policyText(i: number, style: Style, changed: boolean): string {
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

function writeTree(root: string, n: number, style: Style, changedEvery: number): void {
  for (let i = 0; i < n; i++) {
    const rel = i % 4 === 0 ? `apis/api-${i}/policy.xml` : `apis/api-${i - (i % 4)}/operations/op-${i}/policy.xml`;
    const path = join(root, rel);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, policyText(i, style, style === 'apim' && i % changedEvery === 0));
  }
}

async function offlinePlan(n: number): Promise<Record<string, string | number>> {
  const work = mkdtempSync(join(tmpdir(), 'apim-bench-'));
  const desiredDir = join(work, 'desired');
  const liveDir = join(work, 'live');
  writeTree(desiredDir, n, 'author', 0);
  writeTree(liveDir, n, 'apim', 20);

  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const desired = await loadPolicyTree(desiredDir);
  const live = await loadPolicyTree(liveDir);
  const plan = computePlan(desired, live, { source: { kind: 'snapshot', path: liveDir } });
  const wallMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);

  const cliArgs = ['dist/cli/index.js', 'plan', '--policies', desiredDir, '--live-snapshot', liveDir, '--format', 'json', '--out', join(work, 'plan.json')];
  const baseline = timed(() => spawnSync(process.execPath, ['-e', '0']));
  const cli = timed(() => spawnSync(process.execPath, cliArgs, { stdio: 'ignore' }));
  const cliCpu = childCpuMs(cliArgs);
  const nodeCpu = childCpuMs(['-e', '0']);
  rmSync(work, { recursive: true, force: true });
  return {
    policies: n,
    updates: plan.summary.update,
    unchanged: plan.summary.unchanged,
    'plan CPU ms (in-process)': Math.round((cpu.user + cpu.system) / 1000),
    'plan wall ms (in-process)': Math.round(wallMs),
    'CLI wall ms': Math.round(cli),
    'node start ms': Math.round(baseline),
    'CLI beyond node start ms': Math.round(cli - baseline),
    'CLI CPU beyond node start ms': cliCpu === undefined || nodeCpu === undefined ? 'n/a' : cliCpu - nodeCpu,
  };
}

/** User + system CPU of a child `node` process, from GNU time (undefined where it is not installed). */
function childCpuMs(args: string[]): number | undefined {
  const r = spawnSync('/usr/bin/time', ['-f', '%U %S', process.execPath, ...args], { encoding: 'utf8', stdio: ['ignore', 'ignore', 'pipe'] });
  const m = /([\d.]+) ([\d.]+)\s*$/.exec(r.stderr ?? '');
  return r.status === 0 && m ? Math.round((Number(m[1]) + Number(m[2])) * 1000) : undefined;
}

function timed(fn: () => unknown, runs = 3): number {
  const times: number[] = [];
  for (let r = 0; r < runs; r++) {
    const t = performance.now();
    fn();
    times.push(performance.now() - t);
  }
  return times.sort((a, b) => a - b)[Math.floor(runs / 2)]!;
}

const rows = [];
for (const n of [1000, 5000]) rows.push(await offlinePlan(n));
console.table(rows);
console.log(
  JSON.stringify({
    offlinePlan1000CpuMs: rows[0]!['plan CPU ms (in-process)'],
    offlinePlan1000CliCpuBeyondStartMs: rows[0]!['CLI CPU beyond node start ms'],
    offlinePlan1000CliWallBeyondStartMs: rows[0]!['CLI beyond node start ms'],
  }),
);
