/** The JSON log lines the app writes to stdout (pino), captured while `start` ... `stop` runs. */
export interface CapturedLogs {
  /** Every line so far, parsed. */
  lines(): Record<string, unknown>[];
  /** Everything captured so far, as written. */
  text(): string;
  stop(): void;
}

/** Captures pino's JSON lines from process.stdout and passes anything else through. */
export function captureLogs(): CapturedLogs {
  const captured: string[] = [];
  const write = process.stdout.write.bind(process.stdout);
  const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: unknown, ...rest: unknown[]) => {
    const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8');
    if (text.startsWith('{"level"')) {
      captured.push(text);
      const callback = rest.find((arg) => typeof arg === 'function') as (() => void) | undefined;
      callback?.();
      return true;
    }
    return (write as (...args: unknown[]) => boolean)(chunk, ...rest);
  });
  return {
    lines: () =>
      captured.flatMap((text) =>
        text
          .split('\n')
          .filter((line) => line.length > 0)
          .map((line) => JSON.parse(line) as Record<string, unknown>),
      ),
    text: () => captured.join(''),
    stop: () => spy.mockRestore(),
  };
}
