/** The bare limit of enrolment's costly part: `qrcode.toDataURL` of a typical otpauth URI in a loop, one process. */
import { randomBytes } from 'node:crypto';
import { toDataURL } from 'qrcode';
import { QR_CODE_OPTIONS } from '../../src/two-factor/qr-code';
import { progress } from './load';
import { base32Encode } from '../shared/totp';

export interface LoopResult {
  opsPerSec: number;
  /** CPU (user + system) of this process per operation, ms. */
  cpuMsPerOp: number;
  p50: number;
  p99: number;
  ops: number;
}

/** What the service encodes for an agent: issuer twofa, a 20-byte key, default parameters. */
export function typicalOtpauthUri(account = 'bench-agent-000123'): string {
  return (
    `otpauth://totp/twofa:${encodeURIComponent(account)}?secret=${base32Encode(randomBytes(20))}` +
    '&issuer=twofa&algorithm=SHA1&digits=6&period=30'
  );
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

export async function measureQrLoop(durationS: number): Promise<LoopResult> {
  const uri = typicalOtpauthUri();
  const times: number[] = [];
  const cpuStart = process.cpuUsage();
  const start = performance.now();
  const end = start + durationS * 1000;
  let nextReport = start + 1000;
  let lastCount = 0;
  while (performance.now() < end) {
    const t0 = performance.now();
    await toDataURL(uri, QR_CODE_OPTIONS);
    const t1 = performance.now();
    times.push(t1 - t0);
    if (t1 >= nextReport) {
      progress(
        `  ${'baseline qrcode loop'.padEnd(26)} ${String(Math.round((t1 - start) / 1000)).padStart(3)}/${durationS} s  ${String(times.length - lastCount).padStart(6)} ops/s`,
      );
      lastCount = times.length;
      nextReport += 1000;
    }
  }
  const elapsedS = (performance.now() - start) / 1000;
  const cpu = process.cpuUsage(cpuStart);
  times.sort((a, b) => a - b);
  const result = {
    opsPerSec: times.length / elapsedS,
    cpuMsPerOp: Number(((cpu.user + cpu.system) / 1000 / Math.max(1, times.length)).toFixed(3)),
    p50: Number(percentile(times, 50).toFixed(2)),
    p99: Number(percentile(times, 99).toFixed(2)),
    ops: times.length,
  };
  progress(
    `  ${'baseline qrcode loop'.padEnd(26)} done: ${result.opsPerSec.toFixed(0)} ops/s, ${result.cpuMsPerOp} ms CPU/op, p50 ${result.p50} ms, p99 ${result.p99} ms`,
    true,
  );
  return result;
}
