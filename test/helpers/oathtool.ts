import { execFileSync } from 'node:child_process';
import { nowSeconds, sleep } from './time';

export interface OathtoolOptions {
  algorithm?: 'SHA1' | 'SHA256' | 'SHA512';
  digits?: 6 | 8;
  period?: 30 | 60;
  /** Unix time in seconds; default now. */
  at?: number;
  /** The secret is hexadecimal (oathtool's own key format) rather than base32. */
  hex?: boolean;
}

/** A TOTP code from oathtool (OATH Toolkit), an implementation independent of ours. */
export function oathtoolTotp(secret: string, options: OathtoolOptions = {}): string {
  const { algorithm = 'SHA1', digits = 6, period = 30, at = nowSeconds(), hex = false } = options;
  return execFileSync(
    'oathtool',
    [
      `--totp=${algorithm.toLowerCase()}`,
      ...(hex ? [] : ['-b']),
      '-d',
      String(digits),
      '-s',
      `${period}s`,
      '--now',
      `@${at}`,
      secret,
    ],
    { encoding: 'utf8' },
  ).trim();
}

/** Seconds left in the current step; tests that need a code to stay valid wait out a boundary. */
export function secondsLeftInStep(period = 30): number {
  return period - (nowSeconds() % period);
}

/** Waits out a step boundary so a code generated now stays valid for the requests that use it. */
export async function awaitFreshStep(period = 30): Promise<void> {
  if (secondsLeftInStep(period) < 3) await sleep(secondsLeftInStep(period) * 1000 + 200);
}

/** A well-formed code that matches none of the steps the server could accept around now (window ±2). */
export function wrongCode(secret: string, options: OathtoolOptions = {}): string {
  const digits = options.digits ?? 6;
  const period = options.period ?? 30;
  const now = nowSeconds();
  const accepted = new Set(
    [-2, -1, 0, 1, 2].map((offset) => oathtoolTotp(secret, { ...options, at: now + offset * period })),
  );
  for (let n = 12345678; ; n += 1111111) {
    const code = String(n % 10 ** digits).padStart(digits, '0');
    if (!accepted.has(code)) return code;
  }
}
