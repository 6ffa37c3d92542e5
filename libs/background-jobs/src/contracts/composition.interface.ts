/** One durable step of a run (`ctx.step`), as the run's record shows it. */
export interface JobStep {
  name: string;
  /** `completed`: its result is kept and handed back on a retry or resume; `failed`: it threw and runs again then. */
  state: 'completed' | 'failed';
  startedAt: Date;
  finishedAt: Date;
  durationMs: number;
  /** What the step threw (`failed` steps). */
  error?: string;
}
