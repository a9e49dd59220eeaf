/**
 * The bare limits of enrolment's costly part, in the bench process: `qrcode.toDataURL` of a typical
 * otpauth URI with the service's options, (a) one image after another on this thread (the QR loop),
 * and (b) through the service's own QrCodeRenderer, a pool of as many worker threads as the service
 * has, kept as busy as the service's enrolments keep its pool (as many images in flight as connections).
 */
import { randomBytes } from 'node:crypto';
import { toDataURL } from 'qrcode';
import { QR_CODE_OPTIONS, QrCodeRenderer } from '../../src/two-factor/qr-code';
import { progress } from './load';
import { base32Encode } from '../shared/totp';

export interface LoopResult {
  opsPerSec: number;
  /** CPU (user + system) of this process, all its threads, per operation, ms. */
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

/** Renders with `concurrency` images in flight for `durationS` seconds; a progress line a second. */
async function measureRendering(
  label: string,
  durationS: number,
  concurrency: number,
  render: (uri: string) => Promise<string>,
): Promise<LoopResult> {
  const uri = typicalOtpauthUri();
  const times: number[] = [];
  const cpuStart = process.cpuUsage();
  const start = performance.now();
  const end = start + durationS * 1000;
  let nextReport = start + 1000;
  let lastCount = 0;
  const renderUntilEnd = async (): Promise<void> => {
    while (performance.now() < end) {
      const t0 = performance.now();
      await render(uri);
      const t1 = performance.now();
      times.push(t1 - t0);
      if (t1 >= nextReport) {
        progress(
          `  ${label.padEnd(26)} ${String(Math.round((t1 - start) / 1000)).padStart(3)}/${durationS} s  ${String(times.length - lastCount).padStart(6)} ops/s`,
        );
        lastCount = times.length;
        nextReport += 1000;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, renderUntilEnd));
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
    `  ${label.padEnd(26)} done: ${result.opsPerSec.toFixed(0)} ops/s, ${result.cpuMsPerOp} ms CPU/op, p50 ${result.p50} ms, p99 ${result.p99} ms`,
    true,
  );
  return result;
}

/** One image after another on this thread: what one core renders. */
export function measureQrLoop(durationS: number): Promise<LoopResult> {
  // A copy: pngjs writes into the renderer options (a deflate factory among them), and the pool below
  // must still be able to clone QR_CODE_OPTIONS to its threads.
  const options = structuredClone(QR_CODE_OPTIONS);
  return measureRendering('baseline qrcode loop', durationS, 1, (uri) => toDataURL(uri, options));
}

/** The service's renderer with `threads` worker threads and `concurrency` images in flight. */
export async function measureQrPool(durationS: number, threads: number, concurrency: number): Promise<LoopResult> {
  const renderer = new QrCodeRenderer({ renderThreads: threads });
  try {
    // The threads load qrcode when they start; the service's have long done so.
    await Promise.all(Array.from({ length: threads * 2 }, () => renderer.toPngDataUrl(typicalOtpauthUri())));
    return await measureRendering(`baseline qrcode pool (${threads})`, durationS, concurrency, (uri) =>
      renderer.toPngDataUrl(uri),
    );
  } finally {
    await renderer.onApplicationShutdown();
  }
}
