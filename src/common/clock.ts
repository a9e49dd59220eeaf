/**
 * The time source for every TOTP decision. Injected so tests can pin the time, and so the
 * server clock (never a client-supplied time) is the only input.
 */
export abstract class Clock {
  abstract now(): number;
}

export class SystemClock extends Clock {
  now(): number {
    return Date.now();
  }
}
