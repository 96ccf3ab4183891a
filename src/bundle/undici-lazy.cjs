/*
 * What the bundles get for `undici` (tsconfig.json "paths", which ncc follows; tsc, jest and the
 * CLI from source see the real package). @actions/http-client imports it for its proxy agent and
 * @actions/github for the fetch its octokit sends every request with; @actions/core pulls it in
 * through @actions/http-client. Loaded at start, it costs every run about 70 ms (900 KB, and it
 * loads http2, zlib and the rest) before the first Azure call. Here each export is the real one,
 * looked up on first use: undici loads when the run first talks to GitHub's REST API (the PR
 * comment, after the plan) or goes through a proxy, not before.
 */
'use strict';

let real;
const undici = () => (real ??= require('undici/index.js'));

module.exports = new Proxy(
  {},
  {
    // The bundler's interop asks for __esModule when the module is imported: not a reason to load.
    get: (_, name) => (name === '__esModule' ? undefined : undici()[name]),
    has: (_, name) => name in undici(),
    ownKeys: () => Reflect.ownKeys(undici()),
    getOwnPropertyDescriptor: (_, name) => {
      const d = Object.getOwnPropertyDescriptor(undici(), name);
      return d && { ...d, configurable: true };
    },
  },
);
