/** Resident memory of the service processes, from /proc (nothing is injected into them). */
import { readFileSync } from 'node:fs';

const MIB = 1024 * 1024;

/** VmRSS of a process in MiB, or null where there is no /proc or the process is gone. */
export function rssMiB(pid: number | undefined): number | null {
  if (pid === undefined) return null;
  try {
    const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(((Number(match[1]) * 1024) / MIB).toFixed(1)) : null;
  } catch {
    return null;
  }
}

/**
 * "Steady": the end RSS at most max(STEADY_GROWTH_MIB, STEADY_GROWTH_SHARE × start) above the
 * post-warm-up RSS. Why that much: after the warm-up a healthy instance still grows by a few tens of
 * MiB as V8 lets the old generation fill up before its first major collections, and the glibc malloc
 * arenas (zlib for the QR PNGs, mysql2 packet buffers) settle at a higher level; a smaller margin fails
 * healthy runs on a busy machine. What it catches: at ~10k requests per instance per minute, a leak of
 * ~5 KiB per request (a retained request, session object or statement) passes 48 MiB in one minute.
 */
export const STEADY_GROWTH_MIB = 48;
export const STEADY_GROWTH_SHARE = 0.25;

export interface MemoryVerdict {
  startMiB: number;
  endMiB: number;
  maxMiB: number;
  boundMiB: number;
  steady: boolean;
}

export class RssTrack {
  readonly samples: { atS: number; mib: number }[] = [];
  private startMiB: number | null = null;

  constructor(readonly pid: number | undefined) {}

  /** Takes a sample; the first one after `markStart` is the baseline. */
  sample(atS: number): number | null {
    const mib = rssMiB(this.pid);
    if (mib !== null) this.samples.push({ atS, mib });
    return mib;
  }

  markStart(atS: number): void {
    this.startMiB = this.sample(atS);
  }

  verdict(): MemoryVerdict | null {
    const end = this.samples.at(-1);
    if (this.startMiB === null || end === undefined) return null;
    const start = this.startMiB;
    const boundMiB = Number(Math.max(STEADY_GROWTH_MIB, STEADY_GROWTH_SHARE * start).toFixed(1));
    const after = this.samples.filter((sample) => sample.atS >= 0).map((sample) => sample.mib);
    return {
      startMiB: start,
      endMiB: end.mib,
      maxMiB: Math.max(...after),
      boundMiB,
      steady: end.mib - start <= boundMiB,
    };
  }
}
