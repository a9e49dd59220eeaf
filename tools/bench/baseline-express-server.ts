/**
 * The peer a user would otherwise pick for the stateless verify: a server shaped like the seed's "Auth
 * Endpoint" (express 4 + body-parser + speakeasy), `POST /verify/token` with `{secret, token}` answering
 * `{valid, remaining}`, verified with the window that service uses (6 steps either side). Started by
 * tools/bench/run.ts as a child process; `GET /` answers when it is ready.
 *
 *   PORT=4002 node -r ts-node/register/transpile-only tools/bench/baseline-express-server.ts
 */
import bodyParser from 'body-parser';
import express from 'express';
import * as speakeasy from 'speakeasy';

const PERIOD_S = 30;

const app = express();
app.use(bodyParser.json());

app.get('/', (_request, response) => {
  response.json({ status: 'ok' });
});

app.post('/verify/token', (request, response) => {
  const { secret, token } = request.body as { secret: string; token: string };
  const valid = speakeasy.totp.verify({ secret, encoding: 'base32', token, window: 6 });
  const remaining = PERIOD_S - (Math.floor(Date.now() / 1000) % PERIOD_S);
  response.json({ valid, remaining });
});

const server = app.listen(Number(process.env.PORT ?? 4002), '127.0.0.1');
server.keepAliveTimeout = 60_000;
process.on('SIGTERM', () => server.close(() => process.exit(0)));
