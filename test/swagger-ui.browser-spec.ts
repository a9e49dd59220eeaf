import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Browser, Page, chromium } from 'playwright-core';
import { awaitFreshStep, oathtoolTotp } from './helpers/oathtool';
import { TOTP_SETTINGS } from './helpers/suite';
import { RunningApp, startApp, testDatabases } from './helpers/test-app';
import { nowSeconds } from './helpers/time';
import { mintToken } from './helpers/tokens';

/**
 * Swagger UI as people use it: Debian's chromium (no downloaded browser) opens /docs, finds every
 * module's routes, authorizes with a bearer token and runs operations through "Try it out": every GET
 * with its defaults, and the writes of the README walkthrough with their examples as shown.
 */
const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = join(__dirname, 'artifacts');

// One route of each module, as Swagger UI lists it (the `::` of Fastify's router must show as `:`).
const EXPECTED_PATHS = [
  '/2fa/secretkey',
  '/2fa/code:verify',
  '/verify/token',
  '/partnerglobalapi/2faConfig',
  '/partnerloginapi/2fa:verify',
  '/globalapi/2faConfig',
  '/loginapi/2fa:verify',
  '/TwoFactorSession',
  '/users/2fa/generate-key',
  '/users/2fa/reset',
  '/audit',
  '/metrics',
  '/health/ready',
];

/** Every scope, and a user of kind partner: one token opens every operation. */
const ALL_SCOPES =
  'partner:admin partner:login agent:admin agent:login sessions:admin user users:reset audit:read metrics:read webhooks:admin';

/** An operation's answer as "Try it out" got it: the status Swagger UI shows, the body from the network. */
interface Shown {
  status: number;
  body: unknown;
}

const haveChromium = existsSync(CHROMIUM);
if (!haveChromium && !process.env.CI) {
  // Straight to stderr: jest swallows console output of a file whose tests are all skipped.
  process.stderr.write(
    `\nWARNING: ${CHROMIUM} not found: skipping the Swagger UI browser test (apt-get install chromium to run it)\n`,
  );
}
// Locally a missing browser skips the test; in CI it fails it (see beforeAll).
const test = haveChromium || process.env.CI ? it : it.skip;

describe('Swagger UI (chromium)', () => {
  let running: RunningApp | undefined;
  let databaseUrl: string | undefined;
  let browser: Browser | undefined;
  const database = testDatabases()[0];
  const appUrl = () => running!.url;

  beforeAll(async () => {
    if (!haveChromium) {
      if (process.env.CI) {
        throw new Error(`${CHROMIUM} is missing: CI must install Debian's chromium (apt-get install chromium)`);
      }
      return;
    }
    databaseUrl = await database.create();
    // Webhooks to loopback, so GET /webhooks/{id} has a subscription to show.
    running = await startApp(databaseUrl, {
      ...TOTP_SETTINGS,
      METRICS_REQUIRE_SCOPE: 'false',
      WEBHOOK_ALLOW_HTTP: 'true',
      WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true',
    });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
  }, 60000);

  afterAll(async () => {
    await browser?.close();
    await running?.close();
    if (databaseUrl) await database.drop(databaseUrl);
  });

  /**
   * A page on /docs that may load nothing but the app itself (Swagger UI's assets are served under
   * /docs), with the list of requests it tried elsewhere and of the errors it threw.
   */
  async function openDocs(): Promise<{ page: Page; foreignRequests: string[]; pageErrors: string[] }> {
    const page = await browser!.newPage({ viewport: { width: 1400, height: 900 } });
    page.setDefaultTimeout(20000);
    const foreignRequests: string[] = [];
    await page.route('**/*', async (route) => {
      const url = route.request().url();
      if (url.startsWith(`${appUrl()}/`) || url.startsWith('data:')) return route.continue();
      foreignRequests.push(url);
      return route.abort();
    });
    const pageErrors: string[] = [];
    page.on('pageerror', (error) => pageErrors.push(error.message));
    await page.goto(`${appUrl()}/docs`);
    await page.locator('.opblock-summary-path').first().waitFor();
    return { page, foreignRequests, pageErrors };
  }

  /** "Authorize" with a bearer token; afterwards the padlocks of protected operations show as locked. */
  async function authorize(page: Page, token: string): Promise<void> {
    await page.locator('.auth-wrapper button.authorize').click();
    const dialog = page.locator('.modal-ux');
    await dialog.locator('#auth-bearer-value').fill(token);
    await dialog.locator('.auth-btn-wrapper button.authorize').click();
    // Once authorized, the dialog offers "Logout" and shows the value masked.
    await dialog.locator('.auth-btn-wrapper button', { hasText: 'Logout' }).waitFor();
    await dialog.locator('button.btn-done').click();
    await dialog.waitFor({ state: 'detached' });
    await page.locator('.auth-wrapper button.authorize.locked').waitFor();
  }

  /**
   * Runs one operation through "Try it out" with what Swagger UI fills in, apart from the given path
   * parameters and changes to the example body; fails when Swagger UI refuses the values, shows no
   * answer (a request stuck on its loading indicator) or shows another status than the server sent.
   * Leaves the operation closed again.
   */
  async function tryItOut(
    page: Page,
    method: string,
    path: string,
    fill: { path?: Record<string, string>; body?: (example: Record<string, unknown>) => Record<string, unknown> } = {},
  ): Promise<Shown> {
    const what = `${method.toUpperCase()} ${path}`;
    const operation = page.locator(`.opblock.opblock-${method.toLowerCase()}`, {
      has: page.locator(`.opblock-summary-path[data-path="${path}"]`),
    });
    await operation.locator('.opblock-summary').first().click();
    await operation.locator('button.try-out__btn', { hasText: 'Try it out' }).click();
    // A body edited in an earlier run stays; "Reset" shows the example again.
    const reset = operation.locator('button.try-out__btn.reset');
    if (await reset.count()) await reset.click();
    for (const [name, value] of Object.entries(fill.path ?? {})) {
      await operation.locator(`tr[data-param-name="${name}"][data-param-in="path"] input`).fill(value);
    }
    if (fill.body) {
      const text = operation.locator('textarea.body-param__text');
      await text.fill(JSON.stringify(fill.body(JSON.parse(await text.inputValue()) as Record<string, unknown>)));
    }
    const answered = page.waitForResponse(
      (response) =>
        response.request().method() === method.toUpperCase() &&
        response.url().startsWith(`${appUrl()}/`) &&
        !new URL(response.url()).pathname.startsWith('/docs'),
    );
    answered.catch(() => undefined); // awaited below unless Swagger UI refused to send
    await operation.locator('button.execute').click();

    const status = operation.locator('.live-responses-table .response .response-col_status');
    const refused = operation.locator('.validation-errors');
    const loading = operation.locator('.loading-container');
    try {
      await status.or(refused).first().waitFor();
    } catch {
      throw new Error(`${what}: no answer shown (loading indicators on the operation: ${await loading.count()})`);
    }
    expect({ what, refused: await refused.allInnerTexts() }).toEqual({ what, refused: [] });
    await loading.waitFor({ state: 'detached' });
    const response = await answered;
    const shownStatus = Number((await status.first().innerText()).trim());
    expect({ what, shownStatus }).toEqual({ what, shownStatus: response.status() });
    const body: unknown = (response.headers()['content-type'] ?? '').startsWith('application/json')
      ? await response.json()
      : await response.text();

    await operation.locator('button.btn-clear').click();
    await operation.locator('button.try-out__btn.cancel').click();
    await operation.locator('.opblock-summary').first().click();
    return { status: shownStatus, body };
  }

  async function screenshotOnFailure<T>(page: Page, name: string, run: () => Promise<T>): Promise<T> {
    try {
      const result = await run();
      await screenshot(page, join(ARTIFACTS, `${name}.png`));
      return result;
    } catch (error) {
      await screenshot(page, join(ARTIFACTS, `${name}-failure.png`)).catch(() => undefined);
      throw error;
    }
  }

  test('lists every module, authorizes with a bearer token and runs an admin call through "Try it out"', async () => {
    const { page, foreignRequests, pageErrors } = await openDocs();
    await screenshotOnFailure(page, 'swagger-ui', async () => {
      const summaries = page.locator('.opblock-summary-path');
      const listed = await Promise.all((await summaries.all()).map((summary) => summary.getAttribute('data-path')));
      const shownTexts = (await summaries.allTextContents()).map((text) => text.replace(/\u200b/g, '').trim());
      expect(shownTexts).toEqual(listed); // the path as shown is the documented path
      for (const path of EXPECTED_PATHS) expect(listed).toContain(path);
      // The literal colon renders as one colon, never as Fastify's `::` escape.
      expect(shownTexts.filter((text) => text.includes('::'))).toEqual([]);

      const token = await mintToken({ sub: 'browser-admin', tenant: 'acme', scope: 'agent:admin' });
      await authorize(page, token);

      // POST /globalapi/2faConfig through "Try it out", with a body of our own.
      const operation = page.locator('.opblock.opblock-post', {
        has: page.locator('.opblock-summary-path[data-path="/globalapi/2faConfig"]'),
      });
      await operation.locator('.opblock-summary').first().click();
      await operation.locator('button.try-out__btn').click();
      const body = operation.locator('textarea.body-param__text');
      const example = await body.inputValue();
      expect(JSON.parse(example)).toHaveProperty('agentid'); // the request body comes with an example
      await body.fill('{"agentid":"browser-agent-1"}');
      await operation.locator('button.execute').click();

      const response = operation.locator('.live-responses-table .response').first();
      await response.waitFor({ timeout: 15000 });
      await expect(response.locator('.response-col_status').innerText()).resolves.toMatch(/^200/);
      const shownBody = await response.locator('.response-col_description pre.microlight').first().innerText();
      expect(shownBody).toContain('"agentid": "browser-agent-1"');
      expect(shownBody).toContain('"status": "pending"');
      // Swagger UI sent the token: the curl it shows carries it.
      await expect(operation.locator('.curl-command').innerText()).resolves.toContain(`Bearer ${token}`);

      // The config really exists, seen through the API itself.
      const check = await fetch(`${appUrl()}/globalapi/2faConfig?agentid=browser-agent-1`, {
        headers: { authorization: `Bearer ${token}` },
      });
      expect(check.status).toBe(200);
      const list = (await check.json()) as { items: { agentid: string; status: string }[]; total: number };
      expect(list.total).toBe(1);
      expect(list.items[0]).toMatchObject({ agentid: 'browser-agent-1', status: 'pending' });

      expect(foreignRequests).toEqual([]);
      expect(pageErrors).toEqual([]);
    });
    await page.close();
  }, 90000);

  test('runs the walkthrough writes with their examples and every GET with its defaults', async () => {
    const { page, foreignRequests, pageErrors } = await openDocs();
    const token = await mintToken({ sub: 'admin1', tenant: 'acme', scope: ALL_SCOPES, kind: 'partner' });
    const ran: string[] = [];
    const run = async (...args: Parameters<typeof tryItOut> extends [Page, ...infer Rest] ? Rest : never) => {
      const shown = await tryItOut(page, ...args);
      ran.push(`${args[0].toUpperCase()} ${args[1]} ${shown.status}`);
      return shown;
    };
    const bodyOf = <T>(shown: Shown, status: number): T => {
      expect({ status: shown.status, body: shown.body }).toMatchObject({ status });
      return shown.body as T;
    };

    await screenshotOnFailure(page, 'swagger-ui-try-it-out', async () => {
      await authorize(page, token);

      // The walkthrough's writes, each with the example Swagger UI shows; only codes and ids are real.
      const partner = bodyOf<{ id: string; secretKey: string }>(await run('post', '/partnerglobalapi/2faConfig'), 200);
      await awaitFreshStep();
      const code = oathtoolTotp(partner.secretKey);
      const login = await run('post', '/partnerloginapi/2fa:verify', { body: (example) => ({ ...example, code }) });
      expect(bodyOf(login, 200)).toMatchObject({ result: 'success', method: 'totp' });
      const { codes } = bodyOf<{ codes: string[] }>(
        await run('post', '/partnerglobalapi/2faConfig/{id}/backupCodes', { path: { id: partner.id } }),
        200,
      );
      const backup = await run('post', '/partnerloginapi/2fa:verify', {
        body: (example) => ({ ...example, code: codes[0] }),
      });
      expect(bodyOf(backup, 200)).toMatchObject({ result: 'success', method: 'backup' });
      const unlocked = await run('put', '/partnerglobalapi/2faConfig/{id}', { path: { id: partner.id } });
      expect(bodyOf(unlocked, 200)).toMatchObject({ status: 'active', consecutiveFailures: 0 });
      const agent = bodyOf<{ id: string }>(await run('post', '/globalapi/2faConfig'), 200);
      const session = bodyOf<{ public_id: string }>(await run('post', '/TwoFactorSession'), 201);
      const updated = await run('put', '/TwoFactorSession/{public_id}', { path: { public_id: session.public_id } });
      expect(updated.status).toBe(204);

      // A webhook subscription (not in the walkthrough), so its GETs have one to show.
      const created = await fetch(`${appUrl()}/webhooks`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ url: 'http://127.0.0.1:9/hooks', events: ['config.created'] }),
      });
      expect(created.status).toBe(201);
      const webhook = (await created.json()) as { id: string };

      // Every GET of the document with its defaults; ids where the path needs one.
      const document = (await (await fetch(`${appUrl()}/docs-json`)).json()) as {
        paths: Record<string, Record<string, unknown>>;
      };
      const gets = Object.keys(document.paths).filter((path) => 'get' in document.paths[path]);
      const idOf = (path: string): Record<string, string> => {
        if (path.startsWith('/partnerglobalapi/2faConfig/')) return { id: partner.id };
        if (path.startsWith('/globalapi/2faConfig/')) return { id: agent.id };
        if (path.startsWith('/TwoFactorSession/')) return { public_id: session.public_id };
        if (path.startsWith('/webhooks/')) return { id: webhook.id };
        expect({ path, needsAnId: path.includes('{') }).toEqual({ path, needsAnId: false });
        return {};
      };
      for (const path of gets) {
        const shown = await run('get', path, { path: idOf(path) });
        expect({ path, status: shown.status }).toEqual({ path, status: 200 });
      }

      // Reset, as the walkthrough ends: admin1 enrols their own 2FA, activates it, then removes pu-10042's.
      const ownKey = bodyOf<{ twoFactorUri: string }>(await run('put', '/users/2fa/generate-key'), 200);
      const ownSecret = new URL(ownKey.twoFactorUri).searchParams.get('secret')!;
      await awaitFreshStep();
      const ownCode = oathtoolTotp(ownSecret);
      const activated = await run('post', '/partnerloginapi/2fa:verify', {
        body: () => ({ partneruserid: 'admin1', code: ownCode }),
      });
      expect(bodyOf(activated, 200)).toMatchObject({ result: 'success' });
      const callerCode = oathtoolTotp(ownSecret, { at: nowSeconds() + 30 });
      const reset = await run('put', '/users/2fa/reset', { body: (example) => ({ ...example, callerCode }) });
      expect(reset.status).toBe(200);
      const gone = await run('get', '/partnerglobalapi/2faConfig/{id}', { path: { id: partner.id } });
      expect(gone.status).toBe(404);

      process.stdout.write(
        `[swagger-ui] "Try it out" ran ${ran.length} operations (${gets.length} GETs):\n  ${ran.join('\n  ')}\n`,
      );
      expect(gets.length).toBeGreaterThanOrEqual(14);
      expect(foreignRequests).toEqual([]);
      expect(pageErrors).toEqual([]);
    });
    await page.close();
  }, 300000);
});

async function screenshot(page: Page, path: string): Promise<void> {
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path, fullPage: true });
}
