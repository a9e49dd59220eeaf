import { execFileSync } from 'node:child_process';

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
  const { algorithm = 'SHA1', digits = 6, period = 30, at = Math.floor(Date.now() / 1000), hex = false } = options;
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
  return period - (Math.floor(Date.now() / 1000) % period);
}
