/** A fresh, empty emulator state (the server creates one per service at start; tests one per case). */
import type { EmulatorIdentity, EmulatorState, StoredResource } from './types.js';

/** Keys of records that live at subscription level, not in one service: every service's state sees the same ones. */
const SUBSCRIPTION_LEVEL = /^roleassignments\//;

/**
 * The resources of one service, plus a window on the subscription's shared records (role
 * assignments): reads, writes and iteration of a `roleassignments/…` key go to the shared map, so
 * handlers need not know that several services share one subscription.
 */
export class ServiceResources<V> extends Map<string, V> {
  constructor(readonly shared: Map<string, V>) {
    super();
  }
  private isShared(key: string): boolean {
    return SUBSCRIPTION_LEVEL.test(key);
  }
  override get(key: string): V | undefined {
    return this.isShared(key) ? this.shared.get(key) : super.get(key);
  }
  override has(key: string): boolean {
    return this.isShared(key) ? this.shared.has(key) : super.has(key);
  }
  override set(key: string, value: V): this {
    if (this.isShared(key)) this.shared.set(key, value);
    else super.set(key, value);
    return this;
  }
  override delete(key: string): boolean {
    return this.isShared(key) ? this.shared.delete(key) : super.delete(key);
  }
  override clear(): void {
    super.clear();
    this.shared.clear();
  }
  override get size(): number {
    return super.size + this.shared.size;
  }
  override *entries(): MapIterator<[string, V]> {
    yield* super.entries();
    yield* this.shared.entries();
  }
  override *keys(): MapIterator<string> {
    for (const [k] of this.entries()) yield k;
  }
  override *values(): MapIterator<V> {
    for (const [, v] of this.entries()) yield v;
  }
  override [Symbol.iterator](): MapIterator<[string, V]> {
    return this.entries();
  }
  override forEach(fn: (value: V, key: string, map: Map<string, V>) => void, thisArg?: unknown): void {
    for (const [k, v] of this.entries()) fn.call(thisArg, v, k, this);
  }
}

/**
 * `nextEtag()` returns an unquoted token that looks like APIM's (`AAAAAAAAAAE=`) and differs on
 * every call; handlers quote it when they store it as an ETag. `shared`: the subscription-level
 * records (role assignments) the states of several services in one subscription have in common.
 */
export function createEmulatorState(target: EmulatorIdentity, shared: Map<string, { address: string } & StoredResource> = new Map()): EmulatorState {
  let counter = 0;
  return {
    target,
    resources: new ServiceResources(shared),
    faults: { principalNotFound: 0, rawxmlBare: false, fragmentLroFail: 0, keyVaultDenials: 0 },
    operations: new Map(),
    nextEtag(): string {
      counter += 1;
      const bytes = Buffer.alloc(8);
      bytes.writeBigUInt64BE(BigInt(counter));
      return bytes.toString('base64');
    },
  };
}
