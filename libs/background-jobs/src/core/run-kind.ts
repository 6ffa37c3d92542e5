/**
 * What a run is. One value decides the stages a run passes and what its body does, instead of flags each file
 * combines on its own:
 * - `plain`: enqueued or triggered; executes the job.
 * - `tick`: made by the job's recurring schedule; misfire, pause and last-run apply.
 * - `fan-out` / `fan-out-tick`: a per-tenant job at host level (enqueued, or a tick): enqueues one `fan-out-child`
 *   per tenant instead of executing, and takes no lock and no tenant slot of its own.
 * - `fan-out-child`: one tenant's run of a fan-out; executes the job for that tenant.
 * - `batch-child`: a run of a batch (`BackgroundJobs.batch`); its final state counts towards the batch.
 * - `callback`: a batch's `onComplete` or `onSuccess` run; `ctx.batch` holds the batch's counts.
 * - `continuation`: enqueued with `after`; waits parked until its dependencies have ended (`ctx.dependencies`).
 */
export type RunKind =
  'plain' | 'tick' | 'fan-out' | 'fan-out-tick' | 'fan-out-child' | 'batch-child' | 'callback' | 'continuation';

interface RunKindTraits {
  /** Enqueues children instead of executing the job. */
  readonly fansOut: boolean;
  /** Made by a recurring schedule: the schedule's stages (misfire, pause, last run) apply. */
  readonly tick: boolean;
}

const TRAITS: Record<RunKind, RunKindTraits> = {
  plain: { fansOut: false, tick: false },
  tick: { fansOut: false, tick: true },
  'fan-out': { fansOut: true, tick: false },
  'fan-out-tick': { fansOut: true, tick: true },
  'fan-out-child': { fansOut: false, tick: false },
  'batch-child': { fansOut: false, tick: false },
  callback: { fansOut: false, tick: false },
  continuation: { fansOut: false, tick: false },
};

/** Every kind, in a fixed order (a job's chains are built once per kind). */
export const RUN_KINDS = Object.keys(TRAITS) as RunKind[];

/** Absent is `plain`: what most runs are, so a transport need not mark them. */
export const fansOut = (kind: RunKind | undefined): boolean => TRAITS[kind ?? 'plain'].fansOut;
export const isTick = (kind: RunKind | undefined): boolean => TRAITS[kind ?? 'plain'].tick;

/** The kind of a tick of a schedule whose template carries `kind` (a fan-out's template makes fan-out ticks). */
export const tickOf = (kind: RunKind): RunKind => (fansOut(kind) ? 'fan-out-tick' : 'tick');

/** True for a value that names a kind (what a transport reads back from storage). */
export const isRunKind = (value: unknown): value is RunKind => typeof value === 'string' && value in TRAITS;
