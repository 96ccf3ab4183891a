/**
 * Secret values in a plan: never the value, a keyed hash of it. A plan file is an artifact that
 * many can read; a plain SHA-256 of a short secret is guessed in seconds, so each value is hashed
 * with scrypt (memory-hard: a guess costs milliseconds, not nanoseconds) under a random salt the
 * plan carries, and, when the environment has one, a key that is not in the plan
 * (`APIM_POLICY_SECRET_HASH_KEY`, e.g. from a repository secret): then the hashes cannot be
 * tested against guesses at all without it.
 *
 * Plan and apply make the same hash from the same salt and key, so a secret that changed in the
 * environment (or live) between plan and apply is caught before anything is written.
 */
import { randomBytes, scryptSync } from 'node:crypto';

/** The environment variable whose value keys the hashes (optional). */
export const SECRET_HASH_KEY_ENV = 'APIM_POLICY_SECRET_HASH_KEY';

export interface SecretHasher {
  salt: string;
  /** The mark that stands for `value` in a plan: `(secret <16 hex digits>)`. */
  mark(value: string): string;
}

/** A new salt for a plan. */
export const newSecretSalt = (): string => randomBytes(16).toString('hex');

// scrypt's cost: 2^14 × 8 × 128 bytes = 16 MB and ~30 ms per value; trees have few secrets.
const SCRYPT = { N: 1 << 14, r: 8, p: 1, maxmem: 64 * 1024 * 1024 };

export function secretHasher(salt: string, key: string | undefined = process.env[SECRET_HASH_KEY_ENV]): SecretHasher {
  const seen = new Map<string, string>();
  return {
    salt,
    mark(value: string) {
      let out = seen.get(value);
      if (out === undefined) {
        const digest = scryptSync(`${key ?? ''}\u0000${value}`, salt, 32, SCRYPT).toString('hex');
        out = `(secret ${digest.slice(0, 16)})`;
        seen.set(value, out);
      }
      return out;
    },
  };
}

/** The mark of a secret whose live value could not be read (shown as a change: it cannot be proven equal). */
export const UNREADABLE_SECRET = '(secret not readable)';
