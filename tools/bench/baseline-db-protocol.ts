/** What tools/bench/baseline-db-server.ts and the load generator agree on. */
export const BASELINE_TABLE = 'bench_baseline';
export const BASELINE_TENANT = 'bench';
export const baselineSubject = (index: number): string => `baseline-${index}`;
