import { CanActivate, ExecutionContext, ForbiddenException, Injectable, UnauthorizedException } from '@nestjs/common';
import { createHash, timingSafeEqual } from 'node:crypto';
import { JobDefinitionError } from '../contracts';
import { OPERATIONS_READ_ONLY_ACTION, OPERATIONS_TOKEN_INVALID, OPERATIONS_TOKEN_MISSING } from './operations.messages';

/** Options of {@link OperationsTokenGuard}. */
export interface OperationsTokenGuardOptions {
  /** The bearer token that grants every operation (read and act). At least 16 characters. */
  token: string;
  /**
   * A second bearer token that grants reading only: its requests see every page and listing, and every action
   * (cancel, retry, pause, trigger, enqueue, delete) answers 403.
   * @default undefined (no read-only access)
   */
  readOnlyToken?: string;
}

/** Set on a request by a guard that grants reading only; the operations surface then refuses every action (403). */
export const OPERATIONS_READ_ONLY = Symbol.for('nestjs-background-jobs:operations-read-only');

/** Marks a request as read-only: for a host guard that lets some users look but not act. */
export function markOperationsReadOnly(request: object): void {
  (request as Record<symbol, unknown>)[OPERATIONS_READ_ONLY] = true;
}

/** Whether a guard marked this request read-only. */
export function isOperationsReadOnly(request: object): boolean {
  return (request as Record<symbol, unknown>)[OPERATIONS_READ_ONLY] === true;
}

const MIN_TOKEN_LENGTH = 16;

// NOTE: both sides are hashed first so that timingSafeEqual compares equal lengths: the time taken says nothing
// about the token's length or about how many leading characters matched.
const digest = (value: string): Buffer => createHash('sha256').update(value, 'utf8').digest();

/**
 * The simplest safe guard for the operations surface: `Authorization: Bearer <token>` compared in constant time with
 * a configured token (and, when given, a read-only token). Hosts with their own auth bring their own guard instead.
 *
 * ```ts
 * operations: { guard: new OperationsTokenGuard({ token: process.env.OPS_TOKEN! }), ui: true }
 * ```
 */
export class OperationsTokenGuard implements CanActivate {
  private readonly token: Buffer;
  private readonly readOnlyToken: Buffer | undefined;

  constructor(options: OperationsTokenGuardOptions) {
    OperationsTokenGuard.check('token', options?.token);
    if (options.readOnlyToken !== undefined) OperationsTokenGuard.check('readOnlyToken', options.readOnlyToken);
    this.token = digest(options.token);
    this.readOnlyToken = options.readOnlyToken === undefined ? undefined : digest(options.readOnlyToken);
  }

  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<{ headers: Record<string, string | string[] | undefined> }>();
    const header = request.headers.authorization;
    const match = typeof header === 'string' ? /^Bearer (\S+)$/i.exec(header) : null;
    if (match) {
      const presented = digest(match[1]);
      // NOTE: both comparisons always run, so the time taken does not say which token (if any) matched.
      const full = timingSafeEqual(presented, this.token);
      const readOnly = this.readOnlyToken !== undefined && timingSafeEqual(presented, this.readOnlyToken);
      if (full) return true;
      if (readOnly) {
        markOperationsReadOnly(request);
        return true;
      }
    }
    throw new UnauthorizedException('A valid operations token is required (Authorization: Bearer <token>).');
  }

  private static check(field: string, value: unknown): void {
    if (value === undefined || value === null || value === '') {
      throw new JobDefinitionError(OPERATIONS_TOKEN_MISSING(field));
    }
    if (typeof value !== 'string' || value.length < MIN_TOKEN_LENGTH || /\s/.test(value)) {
      throw new JobDefinitionError(OPERATIONS_TOKEN_INVALID(field, MIN_TOKEN_LENGTH));
    }
  }
}

/**
 * Runs after the host's guard on the REST surface: a request the host's guard marked read-only may read (GET, HEAD)
 * and nothing else.
 */
@Injectable()
export class ReadOnlyActionsGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<{ method?: string }>();
    if (request.method !== 'GET' && request.method !== 'HEAD' && isOperationsReadOnly(request)) {
      throw new ForbiddenException(OPERATIONS_READ_ONLY_ACTION(request.method ?? '?'));
    }
    return true;
  }
}
