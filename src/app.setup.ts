import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import type { FastifyInstance } from 'fastify';
import type { IncomingMessage } from 'node:http';
import { Logger } from 'nestjs-pino';
import { AppModule } from './app.module';
import { Metrics } from './common/metrics/metrics';
import { requestIdOf } from './common/http/request-id';

export const BODY_LIMIT_BYTES = 16 * 1024;

/** The HTTP server: Fastify with a 16 KiB body limit and our request ids. */
function createFastifyAdapter(): FastifyAdapter {
  return new FastifyAdapter({
    bodyLimit: BODY_LIMIT_BYTES,
    // Seed 000 spells its routes with a trailing slash (`POST /TwoFactorSession/`); accept both.
    routerOptions: { ignoreTrailingSlash: true },
    genReqId: requestIdOf,
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
  // bodyParser: false because configureBodyParsing installs the one JSON parser.
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot(), createFastifyAdapter(), {
    bodyParser: false,
    bufferLogs: true,
  });
  configureApp(app);
  return app;
}

function configureApp(app: NestFastifyApplication): void {
  app.useLogger(app.get(Logger));
  app.enableShutdownHooks();
  const fastify = app.getHttpAdapter().getInstance();
  configureBodyParsing(fastify);
  observeRequests(fastify, app.get(Metrics));
  setUpSwagger(app);
}

function configureBodyParsing(fastify: FastifyInstance): void {
  // JSON only: any other content type on a route with a body is a 415.
  fastify.removeAllContentTypeParsers();
  const parseJson = fastify.getDefaultJsonParser('error', 'error');
  fastify.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    // An empty body is "no body": routes whose body is optional accept it, the others fail validation.
    if (body === '') return done(null, undefined);
    void parseJson(request, body as string, done);
  });

  fastify.addHook('onSend', async (request, reply) => {
    reply.header('X-Request-Id', request.id);
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

function setUpSwagger(app: NestFastifyApplication): void {
  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('twofa')
      .setDescription(
        'Multi-tenant two-factor authentication: TOTP (RFC 6238) with replay protection, lockout and backup codes.\n\n' +
          'Every error has the body `{"responseStatus":{"errorCode","message","errors":[{"errorCode","fieldName","message"}]}}`. ' +
          'Mint a token for "Authorize" with `npm run token -- --tenant acme --sub admin1 --scope "partner:admin"`.',
      )
      .setVersion('1')
      .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' })
      .build(),
  );
  SwaggerModule.setup('docs', app, document, {
    jsonDocumentUrl: 'docs-json',
    swaggerOptions: { persistAuthorization: true },
  });
}
