import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TEST_JWT_SECRET, RunningApp, startApp, testDatabases } from './helpers/test-app';

/**
 * Issue 12: the README's walkthrough runs as written. Its one `sh` block is taken from README.md and run
 * by bash against the real app on a fresh database, with only its address changed; its tokens come from
 * `npm run token` with the app's secret. What it prints is what the README's comments promise. SQLite
 * only: the walkthrough says nothing a database changes, and the e2e suites cover MariaDB.
 */

jest.setTimeout(300_000);

const ROOT = join(__dirname, '..');
const README_ADDRESS = 'B=http://127.0.0.1:3000;';

/** The first ```sh block after the "Walkthrough" heading. */
function walkthroughScript(): string {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Walkthrough (curl)'));
  const match = /```sh\n([\s\S]*?)\n```/.exec(section);
  if (!match) throw new Error('README.md has no sh block under "## Walkthrough (curl)"');
  return match[1];
}

async function runBash(script: string, env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  const child = spawn('bash', ['-euo', 'pipefail', '-c', script], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const [code] = (await once(child, 'close')) as [number | null];
  return { code, output };
}

const [sqlite] = testDatabases();

describe('the README walkthrough', () => {
  let databaseUrl: string;
  let running: RunningApp;

  beforeAll(async () => {
    databaseUrl = await sqlite.create();
    running = await startApp(databaseUrl);
  });

  afterAll(async () => {
    await running?.close();
    if (databaseUrl) await sqlite.drop(databaseUrl);
  });

  it('enrols, logs in with a TOTP and a backup code, shows sessions, audit, metrics, health, and resets', async () => {
    const script = walkthroughScript();
    expect(script.startsWith(README_ADDRESS)).toBe(true);
    const { code, output } = await runBash(script.replace(README_ADDRESS, `B=${running.url};`), {
      AUTH_JWT_SECRET: TEST_JWT_SECRET,
    });
    expect({ code, output }).toMatchObject({ code: 0 });

    // What each step prints, in order (other lines, such as response headers, may come between).
    const expected = [
      /^\{"id":"[0-9a-f-]{36}",(?=.*"partneruserid":"u42")(?=.*"status":"pending")(?=.*"secretKey":"[A-Z2-7]+").*\}$/,
      /^\{"result":"success","method":"totp","sessionId":"[a-z0-9]+"\}$/,
      /^\{"result":"fail"\}$/,
      /^\{"codes":\["[0-9A-Z]{5}-[0-9A-Z]{5}"(,"[0-9A-Z]{5}-[0-9A-Z]{5}"){9}\]\}$/,
      /^\{"result":"success","method":"backup","sessionId":"[a-z0-9]+"\}$/,
      /^\{"id":"[0-9a-f-]{36}",(?=.*"partneruserid":"u42")(?=.*"status":"active")(?=.*"backupCodesRemaining":9[,}]).*\}$/,
      /^HTTP\/1\.1 200 OK\r?$/,
      /^x-total-count: 2\r?$/i,
      /^\[\{"user_id":"u42",.*\},\{"user_id":"u42",.*\}\]$/,
      /^\{"items":\[.*"event":"verify\.replay".*\],"total":\d+,"page":1,"perPage":50\}$/,
      /^twofa_verify_total\{result="success",method="totp"\} 1$/,
      /^\{"status":"ok",/,
      /^\{"result":"success","method":"totp","sessionId":"[a-z0-9]+"\}$/,
      /^\{\}$/,
      /^\{"responseStatus":\{"errorCode":"NotFound",/,
    ];
    const lines = output.split('\n');
    let at = 0;
    for (const pattern of expected) {
      const found = lines.findIndex((line, index) => index >= at && pattern.test(line));
      expect({ pattern: String(pattern), found: found >= 0, output }).toMatchObject({ found: true });
      at = found + 1;
    }
  });
});
