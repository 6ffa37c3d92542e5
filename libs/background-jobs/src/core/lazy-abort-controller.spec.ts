import { JobAbortedError } from '../contracts';
import { LazyAbortController } from './lazy-abort-controller';

describe('LazyAbortController', () => {
  it('behaves like an AbortController whether its signal is read before or after the abort', () => {
    const early = new LazyAbortController();
    const signal = early.signal;
    const seen: unknown[] = [];
    signal.addEventListener('abort', () => seen.push(signal.reason));
    const reason = new JobAbortedError('cancelled', 'cancelled on request');
    early.abort(reason);
    expect(signal.aborted).toBe(true);
    expect(seen).toEqual([reason]);

    const late = new LazyAbortController();
    late.abort(reason);
    expect(late.signal.aborted).toBe(true);
    expect(late.signal.reason).toBe(reason);
  });

  it('keeps the first reason, and defaults to an AbortError', () => {
    const controller = new LazyAbortController();
    const first = new JobAbortedError('timeout', 'too slow');
    controller.abort(first);
    controller.abort(new JobAbortedError('shutdown', 'later'));
    expect(controller.reason).toBe(first);
    expect(controller.signal.reason).toBe(first);

    const plain = new LazyAbortController();
    plain.abort();
    expect(plain.reason).toBeInstanceOf(DOMException);
    expect((plain.reason as DOMException).name).toBe('AbortError');
    expect(plain.signal.reason).toBe(plain.reason);
  });

  it('calls onAbort listeners once, at once when already aborted, and not after unsubscribing', () => {
    const controller = new LazyAbortController();
    const calls: string[] = [];
    controller.onAbort(() => calls.push('a'));
    const stop = controller.onAbort(() => calls.push('b'));
    stop();
    controller.abort('why');
    controller.abort('again');
    controller.onAbort((reason) => calls.push(`late:${String(reason)}`));
    expect(calls).toEqual(['a', 'late:why']);
    expect(controller.aborted).toBe(true);
  });
});
