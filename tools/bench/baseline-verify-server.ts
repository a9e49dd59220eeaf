/**
 * The bare limit of TOTP verification over HTTP: node:http, JSON body `{secret, token}`,
 * `speakeasy.totp.verify` (base32, ±1 step), nothing else. Started by tools/bench/run.ts as a child process.
 * This is the only bench file that imports speakeasy: it is the library whose cost is being measured.
 *
 *   PORT=4000 node -r ts-node/register/transpile-only tools/bench/baseline-verify-server.ts
 */
import { createServer } from 'node:http';
import * as speakeasy from 'speakeasy';

const port = Number(process.env.PORT ?? 4000);

const server = createServer((request, response) => {
  if (request.method === 'GET') {
    response.writeHead(200, { 'Content-Type': 'application/json' }).end('{"status":"ok"}');
    return;
  }
  const chunks: Buffer[] = [];
  request.on('data', (chunk: Buffer) => chunks.push(chunk));
  request.on('end', () => {
    try {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { secret: string; token: string };
      const valid = speakeasy.totp.verify({ secret: body.secret, encoding: 'base32', token: body.token, window: 1 });
      response.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ valid }));
    } catch {
      response.writeHead(400, { 'Content-Type': 'application/json' }).end('{"error":"bad request"}');
    }
  });
});
server.keepAliveTimeout = 60_000;
server.listen(port, '127.0.0.1');
process.on('SIGTERM', () => server.close(() => process.exit(0)));
