/**
 * An AbortController whose `signal` is made only when someone reads it: a run's (`ctx.signal`) and a lease's. Most
 * runs are never aborted and never look at their signal, and an AbortController with its event listeners (and the
 * garbage they leave) was a measurable part of the per-run cost (ADR 0005). The framework's own code uses
 * `aborted`, `reason` and `onAbort`, which need no signal.
 */
export class LazyAbortController {
  private controller?: AbortController;
  // NOTE: an array made on the first listener, not a Set per run: a run has one or two (timeout stage, lock loss).
  private listeners?: Array<(reason: unknown) => void>;
  private isAborted = false;
  private abortReason: unknown;

  get aborted(): boolean {
    return this.isAborted;
  }

  get reason(): unknown {
    return this.abortReason;
  }

  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.isAborted) this.controller.abort(this.abortReason);
    }
    return this.controller.signal;
  }

  /** Like AbortController.abort: the first call wins; without a reason, the reason is an `AbortError`. */
  abort(reason?: unknown): void {
    if (this.isAborted) return;
    this.isAborted = true;
    this.abortReason = reason === undefined ? new DOMException('This operation was aborted', 'AbortError') : reason;
    this.controller?.abort(this.abortReason);
    const listeners = this.listeners;
    this.listeners = undefined;
    if (listeners) for (const listener of listeners) listener(this.abortReason);
  }

  /** Calls `listener` once on abort (at once when already aborted); returns the function that unsubscribes it. */
  onAbort(listener: (reason: unknown) => void): () => void {
    if (this.isAborted) {
      listener(this.abortReason);
      return () => undefined;
    }
    (this.listeners ??= []).push(listener);
    return () => {
      const index = this.listeners?.indexOf(listener) ?? -1;
      if (index >= 0) this.listeners!.splice(index, 1);
    };
  }
}
