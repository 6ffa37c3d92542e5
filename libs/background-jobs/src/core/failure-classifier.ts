import { FailureClassifier, FailureKind, PermanentJobError, TransientJobError } from '../contracts';

const NETWORK_CODES = new Set(['ECONNRESET', 'ETIMEDOUT', 'ECONNREFUSED', 'EAI_AGAIN', 'EPIPE']);
const VALIDATION_NAMES = new Set([
  'ValidationError',
  'ZodError',
  'ValiError',
  'TypeError',
  'RangeError',
  'SyntaxError',
]);

/** Normalises anything thrown into an Error, keeping the original as `cause`. */
export function toError(thrown: unknown): Error {
  if (thrown instanceof Error) return thrown;
  let text: string;
  if (typeof thrown === 'string') text = thrown;
  else {
    try {
      text = JSON.stringify(thrown) ?? String(thrown);
    } catch {
      text = String(thrown);
    }
  }
  return new Error(`Non-error thrown: ${text}`, { cause: thrown });
}

function httpStatusOf(error: Record<string, unknown>): number | undefined {
  const response = error.response as Record<string, unknown> | undefined;
  const candidates = [error.status, error.statusCode, response?.status, response?.statusCode];
  for (const candidate of candidates) {
    const n = typeof candidate === 'string' ? Number(candidate) : candidate;
    if (typeof n === 'number' && Number.isInteger(n) && n >= 100 && n < 600) return n;
  }
  return undefined;
}

/**
 * The built-in rules, after the host's classifier:
 * permanent — PermanentJobError, `retryable: false`, validation errors, HTTP 4xx other than 408/429;
 * transient — TransientJobError, `retryable: true`, Node network codes, HTTP 408/429/5xx;
 * anything else — `unknownKind`.
 */
export function classifyFailure(
  thrown: unknown,
  hostClassifier?: FailureClassifier,
  unknownKind: 'transient' | 'permanent' = 'transient',
): FailureKind {
  return recognisedFailureKind(thrown, hostClassifier) ?? unknownKind;
}

/** The kind the host's classifier or a built-in rule gives `thrown`; undefined when none recognises it. */
export function recognisedFailureKind(thrown: unknown, hostClassifier?: FailureClassifier): FailureKind | undefined {
  const fromHost = hostClassifier?.(thrown);
  if (fromHost) return fromHost;
  if (thrown instanceof PermanentJobError) return 'permanent';
  if (thrown instanceof TransientJobError) return 'transient';
  if (typeof thrown !== 'object' || thrown === null) return undefined;
  const error = thrown as Record<string, unknown>;
  if (error.retryable === false) return 'permanent';
  if (error.retryable === true) return 'transient';
  if (typeof error.code === 'string' && NETWORK_CODES.has(error.code)) return 'transient';
  const cause = error.cause as Record<string, unknown> | undefined;
  if (cause && typeof cause.code === 'string' && NETWORK_CODES.has(cause.code)) return 'transient';
  const status = httpStatusOf(error);
  if (status !== undefined) {
    if (status === 408 || status === 429 || status >= 500) return 'transient';
    if (status >= 400) return 'permanent';
  }
  if (typeof error.name === 'string' && VALIDATION_NAMES.has(error.name)) return 'permanent';
  return undefined;
}
