import { once } from 'node:events';
import { createServer, IncomingMessage, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { sleep } from './time';

export interface ReceivedWebhook {
  path: string;
  headers: Record<string, string>;
  body: string;
}

/** A webhook receiver on loopback, as a portal would run one: it records every request and answers 204. */
export class WebhookReceiver {
  readonly received: ReceivedWebhook[] = [];
  /** What a path answers other than 204: a status and a body. */
  private readonly answers = new Map<string, { status: number; body: string }>();
  private server: Server | undefined;

  private constructor(private port: number) {}

  /** Listening on a free port (or the given one). */
  static async start(port = 0): Promise<WebhookReceiver> {
    const receiver = new WebhookReceiver(port);
    await receiver.listen();
    return receiver;
  }

  url(path = '/hooks'): string {
    return `http://127.0.0.1:${this.port}${path}`;
  }

  /** From now on, requests to `path` are answered with this status and body. */
  answer(path: string, status: number, body = ''): void {
    this.answers.set(path, { status, body });
  }

  /** Stops listening: from now on a delivery finds the connection refused. */
  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    server.closeAllConnections();
    server.close();
    await once(server, 'close');
  }

  /** Listens again on the same port. */
  async listen(): Promise<void> {
    const server = createServer((request: IncomingMessage, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        this.received.push({
          path: request.url ?? '',
          headers: request.headers as Record<string, string>,
          body: Buffer.concat(chunks).toString('utf8'),
        });
        const answer = this.answers.get(request.url ?? '') ?? { status: 204, body: '' };
        response.writeHead(answer.status).end(answer.body);
      });
    });
    server.listen(this.port, '127.0.0.1');
    await once(server, 'listening');
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
  }

  /** The requests that arrived at one path. */
  at(path: string): ReceivedWebhook[] {
    return this.received.filter((webhook) => webhook.path === path);
  }

  /** Waits until `done` holds for what arrived, failing with `what` after the timeout. */
  async waitFor(what: string, done: (received: ReceivedWebhook[]) => boolean, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!done(this.received)) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${this.received.length} received`);
      await sleep(25);
    }
  }
}

export interface VerifiedEvent {
  id: string;
  type: string;
  timestamp: string;
  data: Record<string, unknown>;
  body: string;
}

/** Verifies each request as a receiver would, with the standardwebhooks package; throws on a bad signature. */
export function verifyAll(received: ReceivedWebhook[], secret: string): VerifiedEvent[] {
  const webhook = new Webhook(secret);
  return received.map(({ headers, body }) => {
    const payload = webhook.verify(body, headers) as Omit<VerifiedEvent, 'id' | 'body'>;
    return { id: headers['webhook-id'], ...payload, body };
  });
}

/** How many times each event arrived at one path (`<path> <webhook-id>`), for those that arrived more than once. */
export function duplicates(received: ReceivedWebhook[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const { path, headers } of received) {
    const key = `${path} ${headers['webhook-id']}`;
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return Object.fromEntries(Object.entries(counts).filter(([, count]) => count > 1));
}
