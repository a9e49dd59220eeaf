import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, startServiceFromSource } from '../tools/shared/processes';

/**
 * The OpenAPI document as clients get it: starts the service (src/main.ts, development settings) on a
 * fresh SQLite database in a temporary directory, fetches /docs-json, stops the service and removes
 * the directory.
 */
export async function servedOpenApiDocument(root: string): Promise<unknown> {
  const workDir = mkdtempSync(join(tmpdir(), 'twofa-openapi-'));
  try {
    const port = await freePort();
    process.stdout.write(`starting the service on 127.0.0.1:${port} (SQLite under ${workDir})\n`);
    const service = await startServiceFromSource({
      cwd: root,
      port,
      timeoutMs: 120_000,
      env: { LOG_LEVEL: 'warn', HOST: '127.0.0.1', DATA_DIR: workDir },
    });
    try {
      const response = await fetch(`${service.url}/docs-json`);
      if (response.status !== 200) throw new Error(`GET /docs-json answered ${response.status}`);
      return await response.json();
    } finally {
      await service.stop();
    }
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }
}
