/** The PostgreSQL the suites use: 127.0.0.1:5432, trust auth, database `test` (TEST_DATABASE_URL overrides). */
export function testDatabaseUrl(): string {
  return process.env.TEST_DATABASE_URL ?? 'postgres://root@127.0.0.1:5432/test';
}
