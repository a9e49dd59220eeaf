import { once } from 'node:events';
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { SystemClock } from '../common/clock';
import { webhookConfig } from '../config/app.config';
import { HostResolver, ResolvedAddress } from './webhook-destination';
import { AttemptResult, KEPT_RESPONSE_BYTES, WebhookSender } from './webhook-sender';

type Config = ReturnType<typeof webhookConfig>;
const CONFIG: Config = {
  allowHttp: true,
  allowPrivateNetworks: true,
  pollIntervalMs: 1000,
  maxAttempts: 10,
  retryBaseMs: 5000,
  retryMaxMs: 86_400_000,
  timeoutMs: 1000,
};
const SECRET = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;

/** Answers each name from a list per lookup, so a name can change its answer between lookups (rebinding). */
class ScriptedResolver extends HostResolver {
  readonly lookups: string[] = [];

  constructor(private readonly answers: Record<string, string[][]>) {
    super();
  }

  resolve(hostname: string): Promise<ResolvedAddress[]> {
    this.lookups.push(hostname);
    const next = this.answers[hostname]?.shift() ?? [];
    return Promise.resolve(next.map((address) => ({ address, family: address.includes(':') ? 6 : 4 })));
  }
}

interface Received {
  headers: IncomingMessage['headers'];
  body: string;
}

describe(WebhookSender.name, () => {
  let server: Server;
  let port: number;
  let received: Received[];
  let answer: (response: ServerResponse) => void;

  beforeAll(async () => {
    server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        received.push({ headers: request.headers, body: Buffer.concat(chunks).toString('utf8') });
        answer(response);
      });
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    port = (server.address() as AddressInfo).port;
  });

  afterAll(async () => {
    server.closeAllConnections();
    server.close();
    await once(server, 'close');
  });

  beforeEach(() => {
    received = [];
    answer = (response) => response.writeHead(204).end();
  });

  const send = (resolver: HostResolver, url: string, config: Partial<Config> = {}): Promise<AttemptResult> =>
    new WebhookSender(resolver, new SystemClock(), { ...CONFIG, ...config }).send({
      url,
      secret: SECRET,
      eventId: '0b7d5c3e-5b1a-4e8f-9d2c-1a2b3c4d5e6f',
      payload: '{"type":"reset","timestamp":"2026-12-01T10:00:00.000Z","data":{"tenant":"acme"}}',
    });

  it('sends a Standard Webhooks request that the standardwebhooks package verifies', async () => {
    const result = await send(new ScriptedResolver({}), `http://127.0.0.1:${port}/in?x=1`);
    expect(result).toEqual({ delivered: true, statusCode: 204 });
    expect(received).toHaveLength(1);
    const [{ headers, body }] = received;
    expect(headers['webhook-id']).toBe('0b7d5c3e-5b1a-4e8f-9d2c-1a2b3c4d5e6f');
    expect(headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    expect(headers['content-type']).toBe('application/json');
    expect(new Webhook(SECRET).verify(body, headers as Record<string, string>)).toMatchObject({ type: 'reset' });
    expect(() =>
      new Webhook(`whsec_${Buffer.alloc(32, 8).toString('base64')}`).verify(body, headers as Record<string, string>),
    ).toThrow();
  });

  it('connects to the address it checked, with no second lookup (a name DNS does not know still arrives)', async () => {
    const resolver = new ScriptedResolver({ 'receiver.invalid': [['127.0.0.1'], ['203.0.113.9']] });
    expect(await send(resolver, `http://receiver.invalid:${port}/in`)).toEqual({ delivered: true, statusCode: 204 });
    expect(resolver.lookups).toEqual(['receiver.invalid']);
    expect(received[0].headers.host).toBe(`receiver.invalid:${port}`);
  });

  it('refuses a name that rebinds to a private address at delivery, and never connects', async () => {
    // Public when it was registered (the first answer, consumed here as the registration check would),
    // loopback at delivery time.
    const resolver = new ScriptedResolver({ 'rebind.test': [['93.184.216.34'], ['127.0.0.1']] });
    await resolver.resolve('rebind.test');
    const result = await send(resolver, `http://rebind.test:${port}/in`, { allowPrivateNetworks: false });
    expect(result).toEqual({
      delivered: false,
      statusCode: null,
      error: 'url: rebind.test resolves to 127.0.0.1, a loopback address (WEBHOOK_ALLOW_PRIVATE_NETWORKS is off)',
    });
    expect(received).toHaveLength(0);
  });

  it('does not follow a redirect', async () => {
    answer = (response) => response.writeHead(302, { location: 'http://169.254.169.254/latest/meta-data/' }).end();
    const result = await send(new ScriptedResolver({}), `http://127.0.0.1:${port}/in`);
    expect(result).toEqual({ delivered: false, statusCode: 302, error: 'HTTP 302 (redirects are not followed)' });
    expect(received).toHaveLength(1);
  });

  it('keeps at most 1 KiB of an answer, cut at a character boundary', async () => {
    answer = (response) => response.writeHead(500).end('€'.repeat(4096));
    const result = await send(new ScriptedResolver({}), `http://127.0.0.1:${port}/in`);
    expect(result.delivered).toBe(false);
    const error = (result as { error: string }).error;
    expect(error.startsWith('HTTP 500: €')).toBe(true);
    expect(Buffer.byteLength(error.slice('HTTP 500: '.length))).toBeLessThanOrEqual(KEPT_RESPONSE_BYTES);
    expect(error).not.toContain('\uFFFD');
  });

  it('gives up on a receiver that does not answer within the timeout', async () => {
    answer = () => undefined;
    const started = Date.now();
    const result = await send(new ScriptedResolver({}), `http://127.0.0.1:${port}/in`, { timeoutMs: 300 });
    expect(result).toEqual({ delivered: false, statusCode: null, error: 'no answer within 300 ms' });
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('reports a receiver that is down as a failed attempt', async () => {
    const closed = createServer();
    closed.listen(0, '127.0.0.1');
    await once(closed, 'listening');
    const closedPort = (closed.address() as AddressInfo).port;
    closed.close();
    await once(closed, 'close');
    expect(await send(new ScriptedResolver({}), `http://127.0.0.1:${closedPort}/in`)).toEqual({
      delivered: false,
      statusCode: null,
      error: 'connection refused',
    });
  });
});
