import { safeText } from './text.js';

/** The small logging surface the core and transport use; the extension backs it with a LogOutputChannel, the CLI with stderr. */
export interface Logger {
  trace(message: string): void;
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export const silentLogger: Logger = {
  trace() {},
  debug() {},
  info() {},
  warn() {},
  error() {},
};

/** A logger whose messages reach `inner` with every control byte but newline and tab escaped (host text is in them). */
export function safeLogger(inner: Logger): Logger {
  return {
    trace: (m) => inner.trace(safeText(m)),
    debug: (m) => inner.debug(safeText(m)),
    info: (m) => inner.info(safeText(m)),
    warn: (m) => inner.warn(safeText(m)),
    error: (m) => inner.error(safeText(m)),
  };
}
