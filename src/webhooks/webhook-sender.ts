import { Inject, Injectable } from '@nestjs/common';
import { ConfigType } from '@nestjs/config';
import { request as httpRequest, IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { LookupFunction } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { Clock } from '../common/clock';
import { webhookConfig } from '../config/app.config';
import { checkDestination, DestinationRefusedError, HostResolver, ResolvedAddress } from './webhook-destination';

/** Of a receiver's answer, at most this much is kept (in the delivery's last error). */
export const KEPT_RESPONSE_BYTES = 1024;

export interface WebhookMessage {
  url: string;
  /** The subscription's `whsec_...` signing secret. */
  secret: string;
  /** The event id: the `webhook-id` header, the same for every attempt. */
  eventId: string;
  payload: string;
}

export type AttemptResult =
  { delivered: true; statusCode: number } | { delivered: false; statusCode: number | null; error: string };

/**
 * One Standard Webhooks delivery attempt: checks the destination again (every resolved address),
 * connects only to the addresses it checked (no second lookup a rebinding name could answer
 * differently), signs the body with `webhook-id`, `webhook-timestamp` and `webhook-signature`, and
 * judges the answer: a 2xx delivers; anything else, a redirect included, a timeout or a refused
 * destination is a failed attempt.
 */
@Injectable()
export class WebhookSender {
  constructor(
    private readonly resolver: HostResolver,
    private readonly clock: Clock,
    @Inject(webhookConfig.KEY) private readonly config: ConfigType<typeof webhookConfig>,
  ) {}

  async send(message: WebhookMessage): Promise<AttemptResult> {
    const abort = new AbortController();
    const deadline = setTimeout(() => abort.abort(), this.config.timeoutMs);
    try {
      return await this.attempt(message, abort.signal);
    } catch (error) {
      if (error instanceof DestinationRefusedError) return { delivered: false, statusCode: null, error: error.message };
      if (abort.signal.aborted) {
        return { delivered: false, statusCode: null, error: `no answer within ${this.config.timeoutMs} ms` };
      }
      return { delivered: false, statusCode: null, error: describeNetworkError(error) };
    } finally {
      clearTimeout(deadline);
    }
  }

  private async attempt(message: WebhookMessage, signal: AbortSignal): Promise<AttemptResult> {
    const destination = await abortable(checkDestination(message.url, this.config, this.resolver), signal);
    const sentAt = new Date(this.clock.now());
    const headers = {
      'content-type': 'application/json',
      'user-agent': 'twofa-webhooks/1',
      'webhook-id': message.eventId,
      'webhook-timestamp': String(Math.floor(sentAt.getTime() / 1000)),
      'webhook-signature': new Webhook(message.secret).sign(message.eventId, sentAt, message.payload),
    };
    const { url } = destination;
    const response = await new Promise<IncomingMessage>((resolve, reject) => {
      const outgoing = (url.protocol === 'https:' ? httpsRequest : httpRequest)(
        {
          method: 'POST',
          hostname: url.hostname.replace(/^\[(.*)\]$/, '$1'),
          port: url.port === '' ? undefined : Number(url.port),
          path: `${url.pathname}${url.search}`,
          headers: { ...headers, 'content-length': String(Buffer.byteLength(message.payload)) },
          lookup: lookupOnly(destination.addresses),
          // A fresh connection each time: a pooled socket would skip the check of this attempt.
          agent: false,
          signal,
        },
        resolve,
      );
      outgoing.on('error', reject);
      outgoing.end(message.payload);
    });
    const excerpt = await readAtMost(response, KEPT_RESPONSE_BYTES);
    const statusCode = response.statusCode ?? 0;
    if (statusCode >= 200 && statusCode < 300) return { delivered: true, statusCode };
    const redirect = statusCode >= 300 && statusCode < 400 ? ' (redirects are not followed)' : '';
    return {
      delivered: false,
      statusCode,
      error: `HTTP ${statusCode}${redirect}${excerpt === '' ? '' : `: ${excerpt}`}`,
    };
  }
}

/** A `lookup` for the socket that answers with the checked addresses and never asks DNS again. */
function lookupOnly(addresses: ResolvedAddress[]): LookupFunction {
  return (_hostname, options, callback) => {
    const candidates = options.family ? addresses.filter(({ family }) => family === options.family) : addresses;
    if (candidates.length === 0) {
      callback(Object.assign(new Error('no checked address of the asked family'), { code: 'ENOTFOUND' }), '');
    } else if (options.all) {
      callback(null, candidates);
    } else {
      callback(null, candidates[0].address, candidates[0].family);
    }
  };
}

/** The first `limit` bytes of a response body, as text; the rest is never read (the socket is closed). */
function readAtMost(response: IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const finish = () => {
      response.destroy();
      // Cut at the limit, then drop a partial UTF-8 character at the end, if any.
      resolve(new TextDecoder().decode(Buffer.concat(chunks).subarray(0, limit), { stream: true }));
    };
    response.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      size += chunk.length;
      if (size >= limit) finish();
    });
    response.on('end', finish);
    response.on('error', finish);
    response.on('aborted', finish);
  });
}

function abortable<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(new Error('aborted'));
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

function describeNetworkError(error: unknown): string {
  const code = (error as { code?: unknown })?.code;
  const known: Record<string, string> = {
    ECONNREFUSED: 'connection refused',
    ECONNRESET: 'connection reset',
    EHOSTUNREACH: 'host unreachable',
    ENETUNREACH: 'network unreachable',
    ETIMEDOUT: 'connection timed out',
    CERT_HAS_EXPIRED: 'TLS certificate expired',
    DEPTH_ZERO_SELF_SIGNED_CERT: 'TLS certificate is self-signed',
    SELF_SIGNED_CERT_IN_CHAIN: 'TLS certificate chain is self-signed',
    UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'TLS certificate cannot be verified',
    ERR_TLS_CERT_ALTNAME_INVALID: 'TLS certificate does not match the host',
  };
  if (typeof code === 'string') return known[code] ?? `connection failed (${code})`;
  return 'connection failed';
}
