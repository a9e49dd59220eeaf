import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createConnection } from 'mysql2/promise';
import { TOTP_SETTINGS } from '../helpers/suite';
import { mariadbDatabase, RunningApp, startApp } from '../helpers/test-app';
import { sleep } from '../helpers/time';

/**
 * The three-node cluster of scripts/ci/start-galera.sh, as the Galera suite drives it. The suite runs
 * only where TEST_GALERA_NODES names the nodes (three mysql:// URLs, comma-separated) and
 * TEST_GALERA_WRITER the HAProxy writer address; start-galera.sh prints both.
 */
export const NODE_URLS = (process.env.TEST_GALERA_NODES ?? '').split(',').filter(Boolean);
export const WRITER_URL = process.env.TEST_GALERA_WRITER ?? '';
export const describeOnGalera = NODE_URLS.length === 3 && WRITER_URL ? describe : describe.skip;

export type Node = 1 | 2 | 3;
export const NODES: Node[] = [1, 2, 3];

/**
 * Generous for a loaded 2-core machine, and above the cluster's failure detection (a killed node stalls
 * commits everywhere for about 6 s), so that a stalled commit is waited for, not abandoned as a 503
 * that in fact committed (README.md, "Scaling out").
 */
export const CLUSTER_SETTINGS = {
  ...TOTP_SETTINGS,
  DATABASE_TIMEOUT_MS: '10000',
  REQUEST_TIMEOUT_MS: '15000',
  DATABASE_POOL_SIZE: '8',
  LOG_LEVEL: 'error',
};

/**
 * Runs scripts/ci/galera-node.sh (kill, start, isolate, rejoin) and returns how long it took. Without
 * blocking: the instances under test run in this process and keep serving meanwhile.
 */
export async function galeraNode(command: 'kill' | 'start' | 'isolate' | 'rejoin', node: Node): Promise<number> {
  const started = Date.now();
  await promisify(execFile)('bash', [join(__dirname, '../../scripts/ci/galera-node.sh'), command, String(node)]);
  return Date.now() - started;
}

/** The same database on another server: `url` with the host and port of `server`. */
export function onServer(url: string, server: string): string {
  const moved = new URL(url);
  moved.host = new URL(server).host;
  return moved.toString();
}

/**
 * The status of node N's clustercheck responder (src/clustercheck.ts), which start-galera.sh runs on the
 * node's SQL port + 40 (scripts/ci/galera-common.sh).
 */
export async function clustercheckStatus(node: Node): Promise<number> {
  const port = Number(new URL(NODE_URLS[node - 1]).port) + 40;
  return (await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(5000) })).status;
}

/** A global status variable of a node, read over its own SQL port. */
export async function nodeStatus(node: Node, name: string): Promise<string | null> {
  const connection = await createConnection({ uri: NODE_URLS[node - 1], connectTimeout: 2000 });
  try {
    const [rows] = await connection.query('SHOW GLOBAL STATUS LIKE ?', [name]);
    return (rows as { Value: string }[])[0]?.Value ?? null;
  } finally {
    connection.destroy();
  }
}

/** Certification failures and brute-force aborts of all nodes together: the races the cluster saw. */
export async function conflictCount(): Promise<number> {
  let total = 0;
  for (const node of NODES) {
    total += Number(await nodeStatus(node, 'wsrep_local_cert_failures'));
    total += Number(await nodeStatus(node, 'wsrep_local_bf_aborts'));
  }
  return total;
}

/** Waits until `check` is true, polling; returns how long that took. */
export async function waitFor(what: string, check: () => Promise<boolean>, withinMs = 120_000): Promise<number> {
  const started = Date.now();
  while (!(await check().catch(() => false))) {
    if (Date.now() - started > withinMs) throw new Error(`${what}: not within ${withinMs} ms`);
    await sleep(200);
  }
  return Date.now() - started;
}

export interface Instances {
  apps: RunningApp[];
  /** The database all of them use (on node 1's server URL). */
  databaseUrl: string;
  close(): Promise<void>;
}

/**
 * A fresh database on the cluster and one instance of the service per server URL (by default one per
 * node, instance i on node i), started one after another so the first one's migrations are in place.
 */
export async function startInstances(
  settings: Record<string, string>,
  servers: string[] = NODE_URLS,
): Promise<Instances> {
  const database = mariadbDatabase(NODE_URLS[0]);
  const databaseUrl = await database.create();
  const apps: RunningApp[] = [];
  for (const server of servers) apps.push(await startApp(onServer(databaseUrl, server), settings));
  return {
    apps,
    databaseUrl,
    async close() {
      for (const app of apps) await app.close();
      await database.drop(databaseUrl);
    },
  };
}

export interface Answer {
  status: number;
  /** Parsed JSON, or null (no answer: status 0). */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
  ms: number;
  /** Index of the instance that answered. */
  instance: number;
}

/** One request that never throws: no answer at all (refused, reset, 30 s) is status 0. */
export async function send(
  apps: RunningApp[],
  instance: number,
  method: 'GET' | 'POST' | 'PUT' | 'DELETE',
  path: string,
  token?: string,
  body?: object,
): Promise<Answer> {
  const started = Date.now();
  try {
    const res = await fetch(`${apps[instance].url}${path}`, {
      method,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body ? { 'content-type': 'application/json' } : {}),
      },
      body: body ? JSON.stringify(body) : undefined,
      signal: AbortSignal.timeout(30_000),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null, ms: Date.now() - started, instance };
  } catch {
    return { status: 0, body: null, ms: Date.now() - started, instance };
  }
}

/** Answers by status, e.g. {"200": 23, "503": 1}. */
export function statuses(answers: Answer[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const answer of answers) counts[answer.status] = (counts[answer.status] ?? 0) + 1;
  return counts;
}

/** The p-th percentile of the answers' latency, ms. */
export function percentile(answers: Answer[], p: number): number {
  const sorted = answers.map((answer) => answer.ms).sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** Prints one line of figures for the CI log (the closing note of issue 11 quotes them). */
export function report(experiment: string, figures: object): void {
  console.log(`[galera] ${experiment}: ${JSON.stringify(figures)}`);
}
