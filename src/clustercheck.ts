import { createServer } from 'node:http';
import { createConnection } from 'mysql2/promise';
import { environment, InvalidEnvironmentError } from './config/environment';
import { isServing, nodeStateOf } from './database/galera-node';

/**
 * `npm run clustercheck`: the Galera node check HAProxy asks before it sends connections to a node
 * (deploy/haproxy-single-writer/). Every HTTP request connects to the node of DATABASE_URL and answers
 * 200 while the node is Synced and ready, 503 otherwise (also when it cannot be reached), with the
 * node's state as text. It reads the service's own settings: DATABASE_URL (a user without privileges
 * is enough: SHOW GLOBAL STATUS needs none), PORT, HOST and DATABASE_TIMEOUT_MS.
 */
function main(): void {
  const env = environment();
  if (!env.DATABASE_URL?.match(/^(mysql|mariadb):/)) {
    throw new InvalidEnvironmentError(['DATABASE_URL: the clustercheck needs mysql://user:pass@node:3306/']);
  }
  const uri = env.DATABASE_URL.replace(/^mariadb:/, 'mysql:');

  const server = createServer((_request, response) => {
    void (async () => {
      let status = 503;
      let text: string;
      try {
        const connection = await createConnection({ uri, connectTimeout: env.DATABASE_TIMEOUT_MS });
        try {
          const state = await nodeStateOf(async (sql) => (await connection.query(sql))[0]);
          status = isServing(state) ? 200 : 503;
          text = state.galera
            ? `${state.localStateComment} (wsrep_local_state ${state.localState}, wsrep_ready ${state.ready ? 'ON' : 'OFF'})`
            : 'not a Galera node';
        } finally {
          connection.destroy();
        }
      } catch (error) {
        text = `cannot ask the node: ${(error as { code?: string }).code ?? (error as Error).name}`;
      }
      response.writeHead(status, { 'content-type': 'text/plain', connection: 'close' }).end(`${text}\n`);
    })();
  });
  server.listen(env.PORT, env.HOST, () => {
    process.stderr.write(`clustercheck for ${new URL(uri).host} listening on ${env.HOST}:${env.PORT}\n`);
  });
  const stop = () => server.close(() => process.exit(0));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

try {
  main();
} catch (error) {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
}
