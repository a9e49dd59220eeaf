import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { buildDataSourceOptions } from '../database/data-source-options';
import { WebhookDelivery } from './entities/webhook-delivery.entity';
import { pendingDelivery } from './webhook-outbox';
import { WebhookRepository } from './webhook.repository';

const NOW = 1_800_000_000_000;
const CLAIM_END = NOW + 60_000;

/** Two connections on one SQLite file with the migrations applied: two instances of the service. */
describe(WebhookRepository.name, () => {
  let directory: string;
  let first: DataSource;
  let second: DataSource;
  let subscriptionId: string;

  beforeAll(async () => {
    directory = mkdtempSync(join(tmpdir(), 'twofa-webhook-repository-'));
    const options = buildDataSourceOptions({ kind: 'sqlite', file: join(directory, 'twofa.sqlite'), timeoutMs: 5000 });
    first = await new DataSource(options).initialize();
    second = await new DataSource({ ...options, migrationsRun: false }).initialize();
    subscriptionId = randomUUID();
    await new WebhookRepository(first.manager).insertSubscription({
      id: subscriptionId,
      tenant: 'acme',
      url: 'https://hooks.example.com/',
      events: null,
      secretCiphertext: 'sealed',
      createdBy: 'admin',
      createdAt: NOW,
    });
  });

  afterAll(async () => {
    await first?.destroy();
    await second?.destroy();
    rmSync(directory, { recursive: true, force: true });
  });

  beforeEach(() => first.manager.clear(WebhookDelivery));

  const enqueue = (count: number, at = NOW) =>
    new WebhookRepository(first.manager).insertDeliveries(
      Array.from({ length: count }, () => pendingDelivery(subscriptionId, 'acme', randomUUID(), 'reset', '{}', at)),
    );

  async function claimAs(dataSource: DataSource, now = NOW): Promise<string[]> {
    const repository = new WebhookRepository(dataSource.manager);
    const token = randomUUID();
    const due = await repository.dueDeliveryIds(now, 100);
    if (due.length === 0) return [];
    await repository.claim(due, token, now, now + 60_000);
    return (await repository.claimed(due, token)).map((delivery) => delivery.id);
  }

  it('gives each due delivery to one of two instances that saw the same rows', async () => {
    await enqueue(40);
    const due = await new WebhookRepository(first.manager).dueDeliveryIds(NOW, 100);
    const [tokenA, tokenB] = [randomUUID(), randomUUID()];
    await new WebhookRepository(first.manager).claim(due, tokenA, NOW, CLAIM_END);
    await new WebhookRepository(second.manager).claim(due, tokenB, NOW, CLAIM_END);
    const byA = await new WebhookRepository(first.manager).claimed(due, tokenA);
    const byB = await new WebhookRepository(second.manager).claimed(due, tokenB);
    expect(byA).toHaveLength(40);
    expect(byB).toHaveLength(0);
    expect(byA[0]).toMatchObject({ attempts: 1, url: 'https://hooks.example.com/', secretCiphertext: 'sealed' });
  });

  it('splits interleaved claims without overlap', async () => {
    await enqueue(60);
    const claims = await Promise.all([claimAs(first), claimAs(second), claimAs(first), claimAs(second)]);
    const all = claims.flat();
    expect(new Set(all).size).toBe(all.length);
    expect(all).toHaveLength(60);
  });

  it('leaves a delivery claimed by an instance that died to be claimed again once the claim ends', async () => {
    await enqueue(1);
    const [claimed] = await claimAs(first);
    expect(await claimAs(second, NOW + 59_999)).toEqual([]);
    expect(await claimAs(second, CLAIM_END)).toEqual([claimed]);
  });

  it('records an outcome only for the holder of the claim', async () => {
    await enqueue(1);
    const repository = new WebhookRepository(first.manager);
    const [id] = await repository.dueDeliveryIds(NOW, 10);
    await repository.claim([id], 'token-a', NOW, CLAIM_END);
    expect(await repository.finishAttempt(id, 'token-b', NOW, { status: 'delivered', statusCode: 200 })).toBe(false);
    expect(await repository.finishAttempt(id, 'token-a', NOW, { status: 'delivered', statusCode: 200 })).toBe(true);
    const [row] = await first.manager.find(WebhookDelivery, { where: { id } });
    expect(row).toMatchObject({
      status: 'delivered',
      nextAttemptAt: null,
      claimToken: null,
      attempts: 1,
      deliveredAt: NOW,
    });
    expect(await repository.countPending()).toBe(0);
  });

  it('does not hand out deliveries that are not due yet', async () => {
    await enqueue(2, NOW + 5000);
    expect(await claimAs(first)).toEqual([]);
    expect(await claimAs(first, NOW + 5000)).toHaveLength(2);
  });
});
