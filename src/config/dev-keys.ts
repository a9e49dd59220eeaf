import { Logger } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';

export interface DevKeys {
  encryptionKey: string;
  jwtSecret: string;
}

/**
 * The embedded default: with no keys configured (and never in production, which validation refuses),
 * an encryption key and an HS256 secret are generated once and kept under DATA_DIR, so a restart can
 * still decrypt what it stored and `npm run token` signs tokens the service accepts.
 */
export function devKeysFile(dataDir: string): string {
  return resolve(dataDir, 'dev-keys.json');
}

export function loadOrCreateDevKeys(dataDir: string): DevKeys {
  const file = devKeysFile(dataDir);
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as DevKeys;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const keys: DevKeys = {
    encryptionKey: randomBytes(32).toString('base64'),
    jwtSecret: randomBytes(32).toString('base64url'),
  };
  mkdirSync(dataDir, { recursive: true });
  // 'wx' fails if another process created the file first; then read theirs.
  try {
    writeFileSync(file, JSON.stringify(keys, null, 2), { mode: 0o600, flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return JSON.parse(readFileSync(file, 'utf8')) as DevKeys;
    throw error;
  }
  new Logger('Config').warn(
    `Generated development keys in ${file}: fine for trying the service, never for production (set TWOFA_ENCRYPTION_KEY and AUTH_JWT_SECRET).`,
  );
  return keys;
}
