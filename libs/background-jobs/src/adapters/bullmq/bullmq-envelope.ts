import { JobFailure } from '../../contracts';

/** What the framework stores as BullMQ job data; `bgj` marks jobs and schedulers as ours. */
export interface JobEnvelope {
  bgj: 1;
  tenantId: string | null;
  payload?: unknown;
  /** Fingerprint of a recurring definition, so an unchanged boot does not rewrite its scheduler. */
  fp?: string;
  /** A per-tenant job's tick or trigger: the run enqueues one child per tenant. */
  fanOut?: true;
  /** Set by the worker when an attempt fails: BullMQ itself records only the message. */
  failure?: JobFailure;
  /** The enqueuing caller's trace context (W3C headers), when OpenTelemetry is present. */
  trace?: Record<string, string>;
}

/** What the framework stores as a BullMQ job's return value. */
export type ResultEnvelope =
  | { bgj: 1; outcome: 'completed'; value?: unknown }
  | { bgj: 1; outcome: 'skipped'; reason: string };

export const isEnvelope = (data: unknown): data is JobEnvelope =>
  typeof data === 'object' && data !== null && (data as { bgj?: unknown }).bgj === 1;
