import { PermanentJobError, TransientJobError } from '../contracts';
import { classifyFailure, toError } from './failure-classifier';

const withProps = (props: Record<string, unknown>, name = 'Error') =>
  Object.assign(Object.assign(new Error('boom'), { name }), props);

describe('classifyFailure: the built-in rules', () => {
  it.each<[string, unknown, 'transient' | 'permanent']>([
    ['PermanentJobError', new PermanentJobError('bad input'), 'permanent'],
    ['TransientJobError', new TransientJobError('later'), 'transient'],
    ['retryable: false', withProps({ retryable: false }), 'permanent'],
    ['retryable: true', withProps({ retryable: true }), 'transient'],
    ['ECONNRESET', withProps({ code: 'ECONNRESET' }), 'transient'],
    ['ETIMEDOUT', withProps({ code: 'ETIMEDOUT' }), 'transient'],
    ['ECONNREFUSED', withProps({ code: 'ECONNREFUSED' }), 'transient'],
    ['EAI_AGAIN', withProps({ code: 'EAI_AGAIN' }), 'transient'],
    ['EPIPE', withProps({ code: 'EPIPE' }), 'transient'],
    [
      'a network code on the cause (fetch failed)',
      Object.assign(new TypeError('fetch failed'), { cause: { code: 'ECONNREFUSED' } }),
      'transient',
    ],
    ['status 429', withProps({ status: 429 }), 'transient'],
    ['status 503', withProps({ status: 503 }), 'transient'],
    ['statusCode 500', withProps({ statusCode: 500 }), 'transient'],
    ['response.status 502', withProps({ response: { status: 502 } }), 'transient'],
    ['response.status "504" as a string', withProps({ response: { status: '504' } }), 'transient'],
    ['status 408', withProps({ status: 408 }), 'transient'],
    ['status 404', withProps({ status: 404 }), 'permanent'],
    ['statusCode 400', withProps({ statusCode: 400 }), 'permanent'],
    ['a ValidationError', withProps({}, 'ValidationError'), 'permanent'],
    ['a ZodError', withProps({}, 'ZodError'), 'permanent'],
    ['a TypeError (a bug: retrying cannot help)', new TypeError('x is undefined'), 'permanent'],
    ['an unknown Error', new Error('who knows'), 'transient'],
    ['a thrown string', 'oops', 'transient'],
    ['a thrown plain object', { reason: 'x' }, 'transient'],
    ['undefined', undefined, 'transient'],
  ])('%s → %s', (_label, thrown, expected) => {
    expect(classifyFailure(thrown)).toBe(expected);
  });

  it('unknown errors follow unknownErrorKind', () => {
    expect(classifyFailure(new Error('who knows'), undefined, 'permanent')).toBe('permanent');
    expect(classifyFailure(withProps({ code: 'ECONNRESET' }), undefined, 'permanent')).toBe('transient');
  });

  it("the host's classifier is asked first, and undefined defers to the rules", () => {
    const host = (error: unknown) => ((error as Error).message === 'quota' ? 'permanent' : undefined);
    expect(classifyFailure(new TransientJobError('quota'), host)).toBe('permanent');
    expect(classifyFailure(new TransientJobError('other'), host)).toBe('transient');
  });
});

describe('toError: a thrown non-Error is wrapped', () => {
  it.each<[unknown, string]>([
    ['oops', 'Non-error thrown: oops'],
    [{ reason: 'x' }, 'Non-error thrown: {"reason":"x"}'],
    [42, 'Non-error thrown: 42'],
    [undefined, 'Non-error thrown: undefined'],
  ])('%j → %s', (thrown, message) => {
    const error = toError(thrown);
    expect(error).toBeInstanceOf(Error);
    expect(error.message).toBe(message);
    expect(error.cause).toBe(thrown);
  });

  it('keeps an Error as it is', () => {
    const error = new RangeError('r');
    expect(toError(error)).toBe(error);
  });
});
