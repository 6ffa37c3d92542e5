import { ExecutionContext, UnauthorizedException } from '@nestjs/common';
import { JobDefinitionError } from '../contracts';
import { isOperationsReadOnly, OperationsTokenGuard } from './operations-token.guard';
import { OPERATIONS_TOKEN_INVALID, OPERATIONS_TOKEN_MISSING } from './operations.messages';

const TOKEN = 'a'.repeat(16) + '-full-access';
const READ_ONLY = 'r'.repeat(16) + '-read-only';

function contextFor(authorization?: string): { context: ExecutionContext; request: object } {
  const request = { headers: authorization === undefined ? {} : { authorization } };
  const context = { switchToHttp: () => ({ getRequest: () => request }) } as unknown as ExecutionContext;
  return { context, request };
}

describe('OperationsTokenGuard', () => {
  const guard = new OperationsTokenGuard({ token: TOKEN, readOnlyToken: READ_ONLY });

  it('lets the configured bearer token through with full rights', () => {
    const { context, request } = contextFor(`Bearer ${TOKEN}`);
    expect(guard.canActivate(context)).toBe(true);
    expect(isOperationsReadOnly(request)).toBe(false);
  });

  it('lets the read-only token through and marks the request read-only', () => {
    const { context, request } = contextFor(`Bearer ${READ_ONLY}`);
    expect(guard.canActivate(context)).toBe(true);
    expect(isOperationsReadOnly(request)).toBe(true);
  });

  it.each([
    ['no header', undefined],
    ['a wrong token', `Bearer ${TOKEN}x`],
    ['a prefix of the token', `Bearer ${TOKEN.slice(0, -1)}`],
    ['another scheme', `Basic ${TOKEN}`],
    ['the token without a scheme', TOKEN],
  ])('refuses %s with 401', (_what, header) => {
    expect(() => guard.canActivate(contextFor(header).context)).toThrow(UnauthorizedException);
  });

  it('stops the boot when the token is missing, short or holds whitespace, naming the fix', () => {
    expect(() => new OperationsTokenGuard({ token: undefined as unknown as string })).toThrow(
      new JobDefinitionError(OPERATIONS_TOKEN_MISSING('token')),
    );
    expect(() => new OperationsTokenGuard({ token: 'short' })).toThrow(
      new JobDefinitionError(OPERATIONS_TOKEN_INVALID('token', 16)),
    );
    expect(() => new OperationsTokenGuard({ token: TOKEN, readOnlyToken: 'has a space in it!' })).toThrow(
      new JobDefinitionError(OPERATIONS_TOKEN_INVALID('readOnlyToken', 16)),
    );
  });
});
