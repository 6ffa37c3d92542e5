// NOTE: the messages of composition (durable steps, sleep, continuations, batches): one file beside the others'.
const show = (value: unknown): string => {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
};

export const EMPTY_BATCH = (noTenants = false): string =>
  noTenants
    ? `batch() got only per-tenant runs without a tenant, and the TENANT_DIRECTORY listed no tenant: a batch needs ` +
      `at least one run. Nothing was enqueued. Fix: skip the call when there is no tenant.`
    : `batch() got no runs: a batch needs at least one. Nothing was enqueued. Fix: skip the call when there is nothing to run.`;

export const BATCH_TOO_LARGE = (count: number, max: number, perTenant = false): string =>
  `batch() got ${perTenant ? `at least ${count} runs (a per-tenant run without a tenant counts one per tenant)` : `${count} runs`}, ` +
  `over the maximum of ${max} per batch. Nothing was enqueued. ` +
  `Fix: split the work into batches of at most ${max} runs (a callback of one batch may start the next).`;

export const INVALID_BATCH_OPTION = (option: string, value: unknown, expected: string): string =>
  `batch() got an invalid ${option}: ${show(value)}; expected ${expected}. Nothing was enqueued. ` +
  `Fix: pass { onComplete?: { job, data? }, onSuccess?: { job, data? } }.`;

export const BATCH_TIMED_OUT = (batchId: string, cancelled: number): string =>
  `Batch ${batchId} reached its timeoutMs with ${cancelled} child run(s) not ended: they are cancelled and counted ` +
  `cancelled, the batch ends failed. Fix: raise timeoutMs if those runs need longer, or find what holds them.`;

export const INVALID_BATCH_ID = (batchId: unknown): string =>
  `getBatch() got an invalid batch id ${show(batchId)}: expected the batchId batch() returned. Fix: pass that id.`;

export const INVALID_STEP_NAME = (jobId: string, name: unknown): string =>
  `Job "${jobId}" called ctx.step with name ${show(name)}: expected a non-empty string of at most 200 characters. ` +
  `The run fails without retry. Fix: name each step with a fixed string, e.g. ctx.step('charge', …).`;

export const STEP_NAME_REUSED = (jobId: string, executionId: string, name: string): string =>
  `Job "${jobId}" (execution ${executionId}) called ctx.step("${name}") twice in one run: a step's kept result is ` +
  `found by its name, so a second step of that name would get the first one's result. The run fails without retry. ` +
  `Fix: give each step its own name (in a loop: ctx.step(\`send:\${item.id}\`, …)).`;

export const STEP_RESULT_TOO_LARGE = (jobId: string, name: string, problem: string): string =>
  `Job "${jobId}": the result of step "${name}" cannot be kept on the run: ${problem}. The run fails without retry. ` +
  `Fix: return ids or a small summary from the step and keep large data in your own store, or raise maxPayloadBytes.`;

export const INVALID_SLEEP = (jobId: string, call: 'sleep' | 'sleepUntil', value: unknown): string =>
  `Job "${jobId}" called ctx.${call} with ${show(value)}: expected ` +
  (call === 'sleep' ? `a finite number of milliseconds ≥ 0` : `a valid Date`) +
  `. The run fails without retry. Fix: ` +
  (call === 'sleep'
    ? `pass a duration in ms, e.g. ctx.sleep(60_000).`
    : `pass a valid Date, e.g. ctx.sleepUntil(new Date(Date.now() + 60_000)).`);

export const INVALID_AFTER = (jobId: string, value: unknown, maxIds: number): string =>
  `enqueue("${jobId}") got after: ${show(value)}: expected an execution id or a non-empty array of at most ${maxIds} ` +
  `execution ids. Nothing was enqueued. Fix: pass the ids enqueue() returned, e.g. { after: [idA, idB] }.`;

export const UNKNOWN_DEPENDENCY = (jobId: string, executionId: string): string =>
  `enqueue("${jobId}") got after: "${executionId}", but no execution has that id (never enqueued, or removed by ` +
  `history retention). Nothing was enqueued. Fix: pass the id enqueue() returned for a run that still exists.`;

export const INVALID_DEPENDENCY_POLICY = (jobId: string, value: unknown): string =>
  `enqueue("${jobId}") got onDependencyFailure: ${show(value)}: expected 'cancel' or 'run', together with after. ` +
  `Nothing was enqueued. Fix: pass { after, onDependencyFailure: 'run' } or leave it out ('cancel').`;

export const DEPENDENCY_FAILED = (
  jobId: string,
  dependencyId: string,
  dependencyJob: string,
  state: string,
  why?: string,
): string =>
  `Continuation of job "${jobId}" cancelled: its dependency ${dependencyId} (job "${dependencyJob}") ended ${state}` +
  `${why ? `: ${why}` : ''}. Fix: enqueue with onDependencyFailure: 'run' to run it anyway, or retry the dependency ` +
  `and enqueue the continuation again.`;
