import { CanActivate, ExecutionContext, ForbiddenException, Injectable, UnauthorizedException } from '@nestjs/common';
import { timingSafeEqual } from 'node:crypto';

/** Why a request to the operations surface was refused, or null when it may pass. */
export function refuseOpsRequest(authorization: string | undefined): { status: 401 | 403; message: string } | null {
  const token = process.env.OPS_TOKEN;
  if (!token) return { status: 403, message: 'The operations surface is closed: set OPS_TOKEN to open it.' };
  const match = /^Bearer (.+)$/.exec(authorization ?? '');
  if (!match) return { status: 401, message: 'Send Authorization: Bearer <OPS_TOKEN>.' };
  const given = Buffer.from(match[1]);
  const expected = Buffer.from(token);
  if (given.length !== expected.length || !timingSafeEqual(given, expected))
    return { status: 403, message: 'Wrong operations token.' };
  return null;
}

/** Where the dashboard is and how to open it, for the start-up lines. */
export function dashboardLine(port: number): string {
  const url = `http://127.0.0.1:${port}/jobs/ui`;
  return process.env.OPS_TOKEN
    ? `${url} (sign in with the OPS_TOKEN value)`
    : `${url} is closed: set OPS_TOKEN and sign in with its value`;
}

/** Guards `/jobs` (and, through `refuseOpsRequest`, `/admin/queues`) with the bearer token in OPS_TOKEN. */
@Injectable()
export class OpsTokenGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<{ headers: Record<string, string | undefined> }>();
    const refusal = refuseOpsRequest(request.headers.authorization);
    if (refusal?.status === 401) throw new UnauthorizedException(refusal.message);
    if (refusal) throw new ForbiddenException(refusal.message);
    return true;
  }
}
