import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { loadESLint } from 'eslint';

// Each fixture is linted as if it lived at its `// lint-as:` path, with the repo's own .eslintrc.js.
// A violation must be reported by the rule named in `// expect:`; a clean fixture must produce no error.
const ROOT = resolve(__dirname, '../..');
const FIXTURES = join(ROOT, 'test/fixtures/layering');

interface Fixture {
  file: string;
  lintAs: string;
  expect: string;
  code: string;
}

const fixtures: Fixture[] = readdirSync(FIXTURES)
  .filter((file) => file.endsWith('.fixture.ts'))
  .sort()
  .map((file) => {
    const code = readFileSync(join(FIXTURES, file), 'utf8');
    const lintAs = /^\/\/ lint-as: (.+)$/m.exec(code)?.[1];
    const expect = /^\/\/ expect: (.+)$/m.exec(code)?.[1];
    if (!lintAs || !expect)
      throw new Error(`${file}: needs '// lint-as: <path>' and '// expect: <rule id | clean>' lines`);
    // NOTE: imports are resolved from the virtual file's folder, so that folder must exist on disk.
    if (!existsSync(dirname(join(ROOT, lintAs))))
      throw new Error(`${file}: lint-as folder ${dirname(lintAs)} does not exist`);
    return { file, lintAs, expect, code };
  });

describe('layering lint rules (npm run lint)', () => {
  let eslint: InstanceType<Awaited<ReturnType<typeof loadESLint>>>;

  beforeAll(async () => {
    const LegacyESLint = await loadESLint({ useFlatConfig: false });
    eslint = new LegacyESLint({
      cwd: ROOT,
      // NOTE: the virtual files are not on disk, so the type-aware parts of the config (parserOptions.project and
      // the one rule needing type information) are switched off; the layering rules need no types.
      overrideConfig: { parserOptions: { project: null }, rules: { '@typescript-eslint/no-floating-promises': 'off' } },
    });
  });

  it('has both violations and clean code among its fixtures', () => {
    expect(fixtures.filter((f) => f.expect === 'clean').length).toBeGreaterThan(0);
    expect(fixtures.filter((f) => f.expect !== 'clean').length).toBeGreaterThan(0);
  });

  it.each(fixtures.map((f) => [f.file, f] as const))('%s', async (_name, fixture) => {
    const [result] = await eslint.lintText(fixture.code, { filePath: join(ROOT, fixture.lintAs) });
    const errors = result.messages.filter((m) => m.severity === 2);
    if (fixture.expect === 'clean') {
      expect(errors).toEqual([]);
    } else {
      expect(errors.map((m) => m.ruleId)).toContain(fixture.expect);
      // NOTE: the import rules carry our layering message; max-lines has ESLint's own.
      const message = fixture.expect === 'max-lines' ? /Maximum allowed is 300/ : /Layering: /;
      expect(errors.find((m) => m.ruleId === fixture.expect)?.message).toMatch(message);
    }
  });
});
