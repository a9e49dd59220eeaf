/**
 * The soak's HTTP client: every request goes through `send`, which counts it by route and status,
 * records server errors (any 5xx, any connection error or timeout) and answers nobody expected.
 */

/** Kept per kind of problem in the report; the counts are complete, the samples are the first few. */
const SAMPLES_KEPT = 20;
/** A loopback request slower than this is treated as a hung server (a connection error). */
const REQUEST_TIMEOUT_MS = 15_000;

export interface Answer {
  route: string;
  instance: number;
  /** HTTP status, or 0 for a connection error / timeout. */
  status: number;
  json: unknown;
  headers: Headers;
  requestId: string;
}

export interface Request {
  instance: number;
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  path: string;
  /** The route template for the tallies, e.g. `GET /globalapi/2faConfig/:id`. */
  route: string;
  body?: unknown;
  token?: string;
  /** The statuses this request may answer; anything else below 500 is an unexpected answer. */
  expect: number[];
}

export interface Problem {
  route: string;
  instance: number;
  status: number;
  requestId: string;
  detail: string;
}

export interface RouteTally {
  statuses: Record<string, number>;
  totalMs: number;
  maxMs: number;
}

class ProblemLog {
  count = 0;
  readonly samples: Problem[] = [];

  add(problem: Problem): void {
    this.count++;
    if (this.samples.length < SAMPLES_KEPT) this.samples.push(problem);
  }
}

export class SoakClient {
  requests = 0;
  readonly routes = new Map<string, RouteTally>();
  readonly perInstance: number[];
  readonly serverErrors = new ProblemLog();
  readonly unexpected = new ProblemLog();
  private nextRequest = 0;

  constructor(
    private readonly baseUrls: string[],
    private readonly requestIdPrefix: string,
  ) {
    this.perInstance = baseUrls.map(() => 0);
  }

  get instanceCount(): number {
    return this.baseUrls.length;
  }

  async send(request: Request): Promise<Answer> {
    const requestId = `${this.requestIdPrefix}-${(this.nextRequest++).toString(36)}`;
    const headers: Record<string, string> = { 'x-request-id': requestId };
    if (request.token) headers.authorization = `Bearer ${request.token}`;
    if (request.body !== undefined) headers['content-type'] = 'application/json';
    const started = performance.now();
    const sent = { route: request.route, instance: request.instance, requestId };
    let answer: Answer;
    try {
      const response = await fetch(this.baseUrls[request.instance] + request.path, {
        method: request.method,
        headers,
        body: request.body === undefined ? undefined : JSON.stringify(request.body),
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
      const text = await response.text();
      answer = { ...sent, status: response.status, json: parseJson(text), headers: response.headers };
    } catch (error) {
      answer = { ...sent, status: 0, json: String(error), headers: new Headers() };
    }
    this.count(request, answer, performance.now() - started);
    return answer;
  }

  /** An answer that had an allowed status but the wrong content (e.g. `fail` for a fresh code). */
  reportUnexpected(answer: Answer, expected: string): void {
    this.unexpected.add({
      route: answer.route,
      instance: answer.instance,
      status: answer.status,
      requestId: answer.requestId,
      detail: `expected ${expected}, got ${excerpt(answer.json)}`,
    });
  }

  private count(request: Request, answer: Answer, ms: number): void {
    this.requests++;
    this.perInstance[request.instance]++;
    const tally = this.routes.get(request.route) ?? { statuses: {}, totalMs: 0, maxMs: 0 };
    const status = answer.status === 0 ? 'connection error' : String(answer.status);
    tally.statuses[status] = (tally.statuses[status] ?? 0) + 1;
    tally.totalMs += ms;
    tally.maxMs = Math.max(tally.maxMs, ms);
    this.routes.set(request.route, tally);
    const problem = {
      route: request.route,
      instance: request.instance,
      status: answer.status,
      requestId: answer.requestId,
      detail: excerpt(answer.json),
    };
    if (answer.status === 0 || answer.status >= 500) this.serverErrors.add(problem);
    else if (!request.expect.includes(answer.status))
      this.unexpected.add({ ...problem, detail: `expected HTTP ${request.expect.join('/')}: ${problem.detail}` });
  }
}

function parseJson(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

const excerpt = (json: unknown): string => (json === undefined ? '(no body)' : JSON.stringify(json).slice(0, 300));
