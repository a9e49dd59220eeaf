import type { FastifyReply } from 'fastify';
import helmet from 'helmet';
import type { IncomingMessage, ServerResponse } from 'node:http';

/** The headers a connect-style middleware sets on a response (it must set the same ones on every response). */
function headersSetBy(
  middleware: (request: IncomingMessage, response: ServerResponse, next: (error?: unknown) => void) => void,
): Record<string, string> {
  const headers: Record<string, string> = {};
  const response = {
    setHeader: (name: string, value: string | number | readonly string[]) => {
      headers[name] = String(value);
      return response;
    },
    removeHeader: (name: string) => void delete headers[name],
  };
  let finished = false;
  middleware({} as IncomingMessage, response as unknown as ServerResponse, (error) => {
    finished = error === undefined;
  });
  if (!finished) throw new Error('The header middleware did not finish synchronously without an error');
  return headers;
}

/**
 * helmet's headers, asked of helmet once: with no per-request directive (no nonces) they are the same
 * for every answer; without its dozen middlewares per request a stateless verify cost 0.86 of the CPU
 * per request in a paired A/B (docs/performance.md, round 3).
 */
const SECURITY_HEADERS = headersSetBy(
  helmet({
    // Swagger UI (/docs) runs its own scripts and inline styles from this origin; nothing else is loaded.
    contentSecurityPolicy: {
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'", "'unsafe-inline'"],
        imgSrc: ["'self'", 'data:'],
        // The service is often reached over plain HTTP on a private network; upgrading would break /docs.
        upgradeInsecureRequests: null,
      },
    },
  }),
);

/** helmet's headers and the request id: set on every request (app.setup.ts), and by sendError where that was skipped. */
export function setResponseHeaders(reply: FastifyReply): void {
  reply.headers(SECURITY_HEADERS).header('X-Request-Id', reply.request.id);
}
