import pino from 'pino';
import { InvalidEnvironmentError } from './config/environment';
import { DatabaseStartError } from './database/open-database';

/**
 * A start that failed, as one JSON line on stderr (the log is JSON from its first line). A setting the
 * operator got wrong (an invalid environment, a database that cannot be opened) is named with the
 * reason and no stack trace; anything else is a bug and keeps its stack.
 */
export function reportStartFailure(program: string, error: unknown): void {
  // Synchronous: the process exits right after this line.
  const log = pino(pino.destination({ dest: 2, sync: true }));
  if (error instanceof InvalidEnvironmentError) {
    log.fatal(
      { problems: error.problems },
      `${program} failed to start: invalid configuration: ${error.problems.join('; ')}`,
    );
  } else if (error instanceof DatabaseStartError) {
    log.fatal(`${program} failed to start: ${error.message}`);
  } else {
    // Name, code and stack only, not the error's other properties: they may hold what it was given (a
    // URL's `input` with its password, a failed statement's parameters, a driver error's SQL).
    const { name, code, stack } = (error ?? {}) as Error & { code?: unknown };
    log.fatal(
      { err: { name, code, stack } },
      `${program} failed to start: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
}
