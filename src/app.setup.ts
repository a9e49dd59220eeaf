import { ConfigType } from '@nestjs/config';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { parse as parseContentType } from 'content-type';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isUtf8 } from 'node:buffer';
import type { IncomingMessage } from 'node:http';
import { Logger } from 'nestjs-pino';
import { AppModule } from './app.module';
import { setUpOpenApi } from './app.openapi';
import { httpConfig } from './config/app.config';
import { DomainError } from './common/errors/domain-error';
import { ErrorCode } from './common/errors/error-code';
import { sendError } from './common/errors/error-envelope.filter';
import { Metrics } from './common/metrics/metrics';
import { replyToClientError } from './common/http/client-error';
import { requestIdOf } from './common/http/request-id';
import { setResponseHeaders } from './common/http/response-headers';

export const BODY_LIMIT_BYTES = 16 * 1024;

/**
 * Every body of the API is a flat object. Deeper nesting is refused before validation: class-transformer
 * recurses per level, and a 16 KiB body of `[[[[...` (thousands of levels) overflowed the stack (a 500).
 */
export const MAX_JSON_DEPTH = 32;

/** True when the JSON text nests arrays/objects deeper than `maxDepth` (brackets inside strings ignored). */
export function jsonNestsDeeperThan(text: string, maxDepth: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const char = text.charCodeAt(i);
    if (inString) {
      if (char === 0x5c /* \ */) i++;
      else if (char === 0x22 /* " */) inString = false;
    } else if (char === 0x22) {
      inString = true;
    } else if (char === 0x5b /* [ */ || char === 0x7b /* { */) {
      if (++depth > maxDepth) return true;
    } else if (char === 0x5d /* ] */ || char === 0x7d /* } */) {
      depth--;
    }
  }
  return false;
}

/**
 * JSON is UTF-8 (RFC 8259 §8.1), and the parser reads every body as UTF-8: a body declared in another
 * charset (`utf-16`, `iso-8859-1`) would be misread, so only UTF-8 (`utf-8`, or its alias `utf8`, in any
 * case) or no charset is taken.
 */
export function declaresUtf8OrNoCharset(contentType: string | undefined): boolean {
  try {
    const charset = parseContentType(contentType ?? '').parameters.charset;
    return charset === undefined || /^utf-?8$/i.test(charset);
  } catch {
    return false; // not a media type we can read
  }
}

/** The HTTP server: Fastify with a 16 KiB body limit, our request ids and bounded request times. */
function createFastifyAdapter(http: ConfigType<typeof httpConfig>): FastifyAdapter {
  return new FastifyAdapter({
    bodyLimit: BODY_LIMIT_BYTES,
    trustProxy: http.trustProxy,
    // A request whose bytes do not all arrive in time (a slow client) is cut off by Node.
    requestTimeout: http.requestTimeoutMs,
    // Seed 000 spells its routes with a trailing slash (`POST /TwoFactorSession/`); accept both.
    routerOptions: { ignoreTrailingSlash: true },
    genReqId: requestIdOf,
    clientErrorHandler: replyToClientError,
    // Errors Fastify raises before routing (a bad percent-encoding in the path, an over-long path
    // parameter) otherwise answer with Fastify's own body (`statusCode`, `code`, no request id).
    // These replies skip the route hooks; sendError sets the response headers (request id included).
    frameworkErrors: (error: Error & { code?: string }, _request: FastifyRequest, reply: FastifyReply) => {
      const badPath = error.code === 'FST_ERR_BAD_URL' || error.code === 'FST_ERR_MAX_PARAM_LENGTH';
      sendError(
        reply,
        badPath ? DomainError.invalidField('path', 'The request path is not valid', 'InvalidPath') : error,
      );
    },
    // Clients may percent-encode the colon of `/2fa/code:verify`; route both spellings alike.
    rewriteUrl: (req: IncomingMessage) => {
      const url = req.url ?? '/';
      const queryAt = url.indexOf('?');
      const path = queryAt < 0 ? url : url.slice(0, queryAt);
      return /%3a/i.test(path) ? path.replace(/%3a/gi, ':') + (queryAt < 0 ? '' : url.slice(queryAt)) : url;
    },
  });
}

/** Builds the app exactly as it is served: main.ts and the e2e tests both call this. */
export async function createApp(): Promise<NestFastifyApplication> {
  const appModule = AppModule.forRoot();
  // Read after AppModule.forRoot(), which loads .env into process.env; the adapter needs it first.
  const http = httpConfig();
  const app = await NestFactory.create<NestFastifyApplication>(appModule, createFastifyAdapter(http), {
    // configureBodyParsing installs the one JSON parser.
    bodyParser: false,
    // Boot logs wait for the pino logger (below), so the log is JSON from its first line. A start that
    // fails rejects here instead: Nest would otherwise print the buffered lines and the error's stack
    // in its own coloured format and exit by itself; main.ts reports the failure in one line.
    bufferLogs: true,
    autoFlushLogs: false,
    abortOnError: false,
  });
  configureApp(app, http);
  return app;
}

function configureApp(app: NestFastifyApplication, http: ConfigType<typeof httpConfig>): void {
  app.useLogger(app.get(Logger));
  app.flushLogs();
  const fastify = app.getHttpAdapter().getInstance();
  sendSecurityHeaders(fastify);
  configureBodyParsing(fastify);
  answerSlowRequests(fastify, http.requestTimeoutMs);
  observeRequests(fastify, app.get(Metrics));
  setUpOpenApi(app);
}

/**
 * helmet's headers and the request id on every response, set before anything can answer
 * (response-headers.ts). @fastify/helmet built a new helmet, parsing the CSP directives again, per request.
 */
function sendSecurityHeaders(fastify: FastifyInstance): void {
  fastify.addHook('onRequest', (_request, reply, done) => {
    setResponseHeaders(reply);
    done();
  });
}

function configureBodyParsing(fastify: FastifyInstance): void {
  // JSON only: any other content type on a route with a body is a 415.
  fastify.removeAllContentTypeParsers();
  const parseJson = fastify.getDefaultJsonParser('error', 'error');
  // Read as bytes: Fastify's text decoding would replace bytes that are not UTF-8 without a word (or, with
  // a Content-Length, fail on a length mismatch before the charset could be looked at).
  fastify.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, bytes: Buffer, done) => {
    if (!declaresUtf8OrNoCharset(request.headers['content-type'])) {
      const message = 'A JSON body must be UTF-8: send charset=utf-8 or no charset';
      return done(new DomainError(ErrorCode.UnsupportedMediaType, message), undefined);
    }
    if (!isUtf8(bytes)) {
      return done(DomainError.invalidField('body', 'Request body is not valid UTF-8', 'InvalidBody'), undefined);
    }
    const body = bytes.toString('utf8');
    // An empty body is "no body": routes whose body is optional accept it, the others fail validation.
    if (body === '') return done(null, undefined);
    if (jsonNestsDeeperThan(body, MAX_JSON_DEPTH)) {
      const message = `Request body is nested more than ${MAX_JSON_DEPTH} levels deep`;
      return done(DomainError.invalidField('body', message, 'InvalidBody'), undefined);
    }
    void parseJson(request, body, (error, parsed: unknown) => {
      if (error) return done(error, undefined);
      // Every body is one JSON object. Validation would read an array's indexes as fields, and a DTO whose
      // fields are all optional would accept `null`, `[]`, `"x"` or `1` as "no fields".
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
        return done(DomainError.invalidField('body', 'Request body must be a JSON object', 'InvalidBody'), undefined);
      }
      done(null, parsed);
    });
  });
}

/**
 * A request not answered within REQUEST_TIMEOUT_MS (a database that does not answer) gets a 503 now;
 * its handler runs on and its late reply is dropped. Fastify's own handlerTimeout is not used: on
 * Node 20 it stops its timer once a request body has been read, so it never timed out a POST.
 */
function answerSlowRequests(fastify: FastifyInstance, timeoutMs: number): void {
  fastify.addHook('onRequest', (request, reply, done) => {
    const timer = setTimeout(() => {
      if (!reply.sent) {
        sendError(reply, new DomainError(ErrorCode.ServiceUnavailable, 'The request took too long; try again later'));
      }
    }, timeoutMs);
    reply.raw.once('close', () => clearTimeout(timer));
    done();
  });
}

function observeRequests(fastify: FastifyInstance, metrics: Metrics): void {
  fastify.addHook('onResponse', async (request, reply) => {
    // The route template, never the raw URL: ids in paths would explode the label set.
    metrics.observeRequest(
      request.method,
      request.routeOptions.url?.replaceAll('::', ':') ?? 'unmatched',
      reply.statusCode,
      reply.elapsedTime / 1000,
    );
  });
}
