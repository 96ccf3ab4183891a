/**
 * Jest's globalSetup: it runs in the parent process before the workers start, so every test
 * process — and every child a test spawns, with or without an explicit `env` — inherits what it
 * sets. The sample tree (`policies/`) holds a secret named value, `orders-api-key`, as the token
 * `{#ORDERS_API_KEY#}`: plan, apply and the emulator's seed need the variable, as a workflow gets it
 * from `secrets.*`. A test of what happens without it removes it from its child's environment.
 */
export default function sampleEnv(): void {
  process.env.ORDERS_API_KEY ??= 'sample-orders-key-for-tests';
}
