import { retryDelayMs } from './webhook-delivery.worker';

const DEFAULTS = { retryBaseMs: 5000, retryMaxMs: 86_400_000 };
const SECOND = 1000;
const HOUR = 3600 * SECOND;

describe(retryDelayMs.name, () => {
  it('backs off exponentially from seconds to a day over the default 10 attempts', () => {
    const ceilings = Array.from({ length: 9 }, (_, index) => retryDelayMs(index + 1, DEFAULTS, () => 1));
    expect(ceilings[0]).toBe(5 * SECOND);
    for (let i = 1; i < ceilings.length; i++) expect(ceilings[i]).toBeGreaterThan(ceilings[i - 1]);
    expect(ceilings[7]).toBeGreaterThan(20 * HOUR);
    expect(ceilings[8]).toBe(24 * HOUR);
    expect(retryDelayMs(30, DEFAULTS, () => 1)).toBe(24 * HOUR);
  });

  it('waits between half and all of each step, at random', () => {
    expect(retryDelayMs(2, DEFAULTS, () => 0)).toBe(10 * SECOND);
    expect(retryDelayMs(2, DEFAULTS, () => 0.5)).toBe(15 * SECOND);
    expect(retryDelayMs(2, DEFAULTS, () => 0.999999)).toBe(20 * SECOND);
    const samples = new Set(Array.from({ length: 20 }, () => retryDelayMs(3, DEFAULTS)));
    expect(samples.size).toBeGreaterThan(1);
    for (const delay of samples) expect(delay).toBeGreaterThanOrEqual(40 * SECOND);
  });
});
