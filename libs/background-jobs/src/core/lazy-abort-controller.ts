/**
 * An AbortController whose `signal` is made only when someone reads it: a run's (`ctx.signal`) and a lease's. Most
 * runs are never aborted and never look at their signal, and an AbortController with its event listeners (and the
 * garbage they leave) was a measurable part of the per-run cost (bench/README.md). The framework's own code uses
 * `aborted`, `reason` and `onAbort`, which need no signal.
 */
export class LazyAbortController {
  private controller?: AbortController;
  private readonly listeners = new Set<(reason: unknown) => void>();
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
    for (const listener of [...this.listeners]) listener(this.abortReason);
  }

  /** Calls `listener` once on abort (at once when already aborted); returns the function that unsubscribes it. */
  onAbort(listener: (reason: unknown) => void): () => void {
    if (this.isAborted) {
      listener(this.abortReason);
      return () => undefined;
    }
    const once = (reason: unknown) => {
      this.listeners.delete(once);
      listener(reason);
    };
    this.listeners.add(once);
    return () => this.listeners.delete(once);
  }
}
