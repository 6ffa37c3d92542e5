import { Logger } from '@nestjs/common';
import { DependencyStore, WakeRun } from '../../core';

/** Continuations of the embedded transport, in memory: one process, so plain maps are atomic. */
export class LocalDependencies extends DependencyStore {
  private readonly logger = new Logger('BackgroundJobs');
  /** Dependency → the dependents waiting on it. */
  private readonly dependents = new Map<string, Set<string>>();
  /** Dependent → its queue and the dependencies it still waits on. */
  private readonly waiting = new Map<string, { queue: string; on: Set<string> }>();
  private wake: WakeRun = async () => false;

  async wait(dependentId: string, queue: string, dependencyIds: string[]): Promise<void> {
    if (dependencyIds.length === 0) return;
    this.waiting.set(dependentId, { queue, on: new Set(dependencyIds) });
    for (const id of dependencyIds) {
      let set = this.dependents.get(id);
      if (!set) this.dependents.set(id, (set = new Set()));
      set.add(dependentId);
    }
  }

  async pending(dependentId: string): Promise<number> {
    return this.waiting.get(dependentId)?.on.size ?? 0;
  }

  async ended(executionId: string): Promise<void> {
    const dependents = this.dependents.get(executionId);
    if (!dependents) return;
    this.dependents.delete(executionId);
    for (const dependentId of dependents) {
      const entry = this.waiting.get(dependentId);
      if (!entry) continue;
      entry.on.delete(executionId);
      if (entry.on.size > 0) continue;
      this.waiting.delete(dependentId);
      this.wakeUp(entry.queue, dependentId);
    }
  }

  async forget(dependentId: string): Promise<void> {
    this.waiting.delete(dependentId);
  }

  async park(dependentId: string, queue: string): Promise<void> {
    if ((await this.pending(dependentId)) === 0) this.wakeUp(queue, dependentId);
  }

  wakeWith(wake: WakeRun): void {
    this.wake = wake;
  }

  private wakeUp(queue: string, dependentId: string): void {
    this.wake(queue, dependentId).catch((error: Error) =>
      this.logger.warn(`Waking continuation ${dependentId} failed: ${error.message}`),
    );
  }
}
