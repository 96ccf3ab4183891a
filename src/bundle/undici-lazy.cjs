/*
 * What the bundles get for `undici` (tsconfig.json "paths", which ncc follows; tsc, jest and the
 * CLI from source see the real package). @actions/http-client and @actions/github import undici
 * only to go through an HTTP proxy, yet loading it costs every run about 70 ms of its start (it is
 * 900 KB and loads http2, zlib and the rest). Here each export is the real one, looked up on first
 * use: a run behind a proxy loads undici then, a run without one never does.
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
