import { AGENT } from '../helpers/kinds';
import { expectNothingLostOrHalfWritten, tally, Traffic } from '../helpers/mixed-traffic';
import { awaitFreshStep, oathtoolTotp } from '../helpers/oathtool';
import { rawDataSource } from '../helpers/test-app';
import { sleep } from '../helpers/time';
import { mintToken } from '../helpers/tokens';
import {
  CLUSTER_SETTINGS,
  conflictCount,
  describeOnGalera,
  galeraNode,
  Instances,
  report,
  send,
  startInstances,
  statuses,
  waitFor,
  WRITER_URL,
} from './cluster';

/**
 * Issue 11, the single-writer topology (deploy/haproxy-single-writer/): three instances, all connected
 * to HAProxy, which sends every connection to node 1 while its clustercheck says it is Synced, else to
 * the first healthy backup. The writer is killed under traffic and brought back: no 500, and after the
 * failback every connection is on node 1 again (on-marked-up shutdown-backup-sessions), so a race has
 * no certification conflict.
 */

jest.setTimeout(300_000);

const TENANT = 'galera-haproxy';
const SETTINGS = { ...CLUSTER_SETTINGS, LOCKOUT_MAX_FAILURES: '100' };

describeOnGalera('HAProxy with one writer', () => {
  let cluster: Instances;
  let traffic: Traffic;
  let admin: string;
  let login: string;

  beforeAll(async () => {
    cluster = await startInstances(SETTINGS, [WRITER_URL, WRITER_URL, WRITER_URL]);
    admin = await mintToken({ tenant: TENANT, sub: 'admin', scope: AGENT.adminScope });
    login = await mintToken({ tenant: TENANT, sub: 'login-service', scope: AGENT.loginScope });
    traffic = new Traffic(cluster.apps, admin, login, await Traffic.enrolUsers(cluster.apps[0], admin, 6));
  });

  afterAll(async () => {
    await traffic?.stop();
    await cluster?.close();
  });

  /** The nodes the instances' pooled connections are on: as many statements at once as the pools hold. */
  async function nodesInUse(): Promise<string[]> {
    const names = await Promise.all(
      cluster.apps.flatMap((app) =>
        Array.from({ length: Number(SETTINGS.DATABASE_POOL_SIZE) }, async () => {
          const [row] = await rawDataSource(app).query('SELECT @@wsrep_node_name AS node, SLEEP(0.05) AS pause');
          return row.node as string;
        }),
      ),
    );
    return [...new Set(names)].sort();
  }

  it('sends every connection to node 1', async () => {
    await traffic.during(1000);
    expect(await nodesInUse()).toEqual(['n1']);
  });

  it('the writer killed and brought back under traffic: no 500, then one writer again', async () => {
    const from = traffic.samples.length;
    traffic.start();
    await sleep(1000);
    await galeraNode('kill', 1);
    const failoverMs = await waitFor('connections on node 2', async () => (await nodesInUse()).includes('n2'));
    await sleep(3000);
    const rejoinMs = await galeraNode('start', 1);
    const failbackMs = await waitFor('every connection back on node 1', async () => {
      const nodes = await nodesInUse();
      return nodes.length === 1 && nodes[0] === 'n1';
    });
    await sleep(2000);
    await traffic.stop();
    const samples = traffic.samples.slice(from);
    const broken = samples.filter((s) => s.status === 0 || (s.status >= 500 && s.status !== 503));
    expect({ broken, counts: tally(samples) }).toMatchObject({ broken: [] });

    // One writer again: a race of 24 on the three instances has one winner and no certification conflict.
    const enrolled = await send(cluster.apps, 0, 'POST', AGENT.prefix, admin, { agentid: 'after-failback' });
    await awaitFreshStep();
    const code = oathtoolTotp(enrolled.body.secretKey);
    const conflictsBefore = await conflictCount();
    const race = await Promise.all(
      Array.from({ length: 24 }, (_, i) =>
        send(cluster.apps, i % 3, 'POST', AGENT.loginPath, login, { agentid: 'after-failback', code }),
      ),
    );
    expect(race.filter((a) => a.body?.result === 'success')).toHaveLength(1);
    expect(race.filter((a) => a.status !== 200)).toEqual([]);
    const conflicts = (await conflictCount()) - conflictsBefore;
    expect(conflicts).toBe(0);

    const kept = await expectNothingLostOrHalfWritten(cluster.databaseUrl, TENANT, traffic.samples);
    report('HAProxy writer killed and back', {
      requests: samples.length,
      statuses: tally(samples),
      '503': samples.filter((s) => s.status === 503).length,
      failoverMs,
      rejoinMs,
      failbackAfterRejoinMs: failbackMs,
      raceAfterFailback: statuses(race),
      conflictsInRace: conflicts,
      acknowledgedEnrolmentsKept: kept.enrolments,
      successfulLoginsKept: kept.logins,
    });
  });
});
