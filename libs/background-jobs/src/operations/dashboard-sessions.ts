import { Injectable } from '@nestjs/common';
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { DEFAULTS } from '../core';

/** One signed-in dashboard: what its cookie's id maps to. */
export interface DashboardSession {
  readonly id: string;
  /** The token signed in with: presented to the host's guard on each request, so the guard still decides. */
  readonly token: string;
  /** The value page actions send in the CSRF header. */
  readonly csrf: string;
  readonly expiresAt: number;
}

/**
 * Dashboard sessions, kept in this process's memory: the cookie holds only a random id, the token stays on the
 * server. A session ends at sign-out, after `DEFAULTS.dashboardSession.ttlMs`, or when the process restarts;
 * behind a load balancer each instance keeps its own (sticky sessions, or sign in again).
 */
@Injectable()
export class DashboardSessions {
  private readonly sessions = new Map<string, DashboardSession>();

  constructor(
    private readonly ttlMs: number = DEFAULTS.dashboardSession.ttlMs,
    private readonly max: number = DEFAULTS.dashboardSession.max,
    private readonly now: () => number = Date.now,
  ) {}

  create(token: string): DashboardSession {
    this.prune();
    // NOTE: Map keeps insertion order: past the cap, the oldest sign-in goes first.
    while (this.sessions.size >= this.max) this.sessions.delete(this.sessions.keys().next().value as string);
    const session: DashboardSession = {
      id: randomBytes(32).toString('base64url'),
      token,
      csrf: randomBytes(32).toString('base64url'),
      expiresAt: this.now() + this.ttlMs,
    };
    this.sessions.set(keyOf(session.id), session);
    return session;
  }

  /** The live session a cookie's id names, or undefined (unknown, ended or expired). */
  get(id: string | undefined): DashboardSession | undefined {
    if (!id) return undefined;
    const key = keyOf(id);
    const session = this.sessions.get(key);
    if (!session) return undefined;
    if (session.expiresAt <= this.now()) {
      this.sessions.delete(key);
      return undefined;
    }
    return session;
  }

  end(id: string | undefined): void {
    if (id) this.sessions.delete(keyOf(id));
  }

  /** Whether `presented` is the session's CSRF value, compared in constant time. */
  static csrfMatches(session: DashboardSession, presented: unknown): boolean {
    if (typeof presented !== 'string') return false;
    return timingSafeEqual(digest(presented), digest(session.csrf));
  }

  private prune(): void {
    const now = this.now();
    for (const [key, session] of this.sessions) if (session.expiresAt <= now) this.sessions.delete(key);
  }
}

const digest = (value: string): Buffer => createHash('sha256').update(value, 'utf8').digest();
// NOTE: sessions are looked up by a hash of the id, so the map's lookup time says nothing about a guessed id.
const keyOf = (id: string): string => digest(id).toString('base64');
