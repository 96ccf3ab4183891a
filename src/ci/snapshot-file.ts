/**
 * Reads a snapshot file that apply wrote, checking the file (a regular file of sane size, through
 * the safe reader) and its shape before anything is done with it: `restore` acts on it.
 */
import { FILE_LIMITS, FileRefusedError, readLocalFile } from '../desired/safe-file.js';
import { parsePolicyAddress } from '../model/address.js';
import { idSegmentsProblem } from '../model/arm-id.js';
import type { Address } from '../model/index.js';
import { SNAPSHOT_FORMAT_VERSION, type Snapshot } from '../plan/snapshot.js';

/** An address a snapshot may name: a policy scope of the instance, with no segment that could climb or smuggle a separator. */
function safeAddress(a: unknown): a is Address {
  return typeof a === 'string' && !!parsePolicyAddress(a) && idSegmentsProblem(a.split('/')) === undefined;
}

/** Reads a snapshot file written by apply, checking its shape before anything is done with it. */
export async function readSnapshot(path: string): Promise<Snapshot> {
  const bad = (why: string) => new Error(`${path} is not a snapshot written by apim-policy apply: ${why}`);
  let data: Partial<Snapshot>;
  try {
    data = JSON.parse(readLocalFile(path, { maxBytes: FILE_LIMITS.plan, what: 'snapshot files' })!.toString('utf8')) as Partial<Snapshot>;
  } catch (e) {
    if (e instanceof FileRefusedError) throw new Error(`cannot read snapshot file ${e.message}`);
    throw bad((e as Error).message);
  }
  if (!data || (data.formatVersion !== 1 && data.formatVersion !== SNAPSHOT_FORMAT_VERSION)) throw bad(`format version ${String(data?.formatVersion)} is not 1 or ${SNAPSHOT_FORMAT_VERSION}`);
  if (typeof data.serviceId !== 'string' || !Array.isArray(data.resources)) throw bad('it has no serviceId or resources');
  data.resources.forEach((r, i) => {
    if (!r || !safeAddress(r.address)) throw bad(`resources[${i}] has no valid policy address`);
    if (typeof r.existed !== 'boolean' || (r.existed && typeof r.xml !== 'string')) throw bad(`resources[${i}] (${r.address}) says neither its content nor that it did not exist`);
  });
  return data as Snapshot;
}
