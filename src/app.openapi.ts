import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { API_TAGS } from './common/http/api-tags';

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;

/** The OpenAPI document of the app's controllers, as /docs-json serves it (apart from `servers`). */
export function buildOpenApiDocument(app: INestApplication): OpenAPIObject {
  const builder = new DocumentBuilder()
    .setTitle('twofa')
    .setDescription(
      'Multi-tenant two-factor authentication: TOTP (RFC 6238) with replay protection, lockout and backup codes.\n\n' +
        'Every error answer has the body `{"responseStatus":{"errorCode","message","errors":[{"errorCode","fieldName","message"}]}}`; ' +
        'every answer carries an `X-Request-Id`. The contract in full: `docs/api.md` in the repository. ' +
        'Mint a token for "Authorize" with `npm run token -- --tenant acme --sub admin1 --scope "partner:admin"`.',
    )
    .setVersion('1')
    .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' });
  for (const tag of Object.values(API_TAGS)) builder.addTag(tag.name, tag.description);
  const config = builder.build();
  // As package.json: proprietary, so there is no licence text to link (docs/openapi-lint.md lists the lint warning).
  config.info.license = { name: 'UNLICENSED (proprietary, all rights reserved)' };
  config.info.contact = { name: 'twofa maintainers' };
  return markPublicOperations(SwaggerModule.createDocument(app, config));
}

/** An operation that asks for no token says so (`security: []`), so clients and linters need not guess. */
function markPublicOperations(document: OpenAPIObject): OpenAPIObject {
  for (const path of Object.values(document.paths)) {
    for (const method of METHODS) {
      const operation = path[method];
      if (operation && !operation.security) operation.security = [];
    }
  }
  return document;
}

/** The document with `servers` naming the origin the client reached, so "Try it out" calls this service. */
function withServerOf(request: FastifyRequest, document: OpenAPIObject): OpenAPIObject {
  return { ...document, servers: [{ url: `${request.protocol}://${request.host}`, description: 'This service' }] };
}

/** Swagger UI at /docs and the document at /docs-json. */
export function setUpOpenApi(app: INestApplication): void {
  SwaggerModule.setup('docs', app, buildOpenApiDocument(app), {
    jsonDocumentUrl: 'docs-json',
    swaggerOptions: { persistAuthorization: true },
    patchDocumentOnRequest: (request, _response, document) => withServerOf(request as FastifyRequest, document),
  });
}
