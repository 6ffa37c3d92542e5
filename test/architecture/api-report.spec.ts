import { execFileSync } from 'node:child_process';
import { appendFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Extractor, ExtractorConfig, ExtractorResult } from '@microsoft/api-extractor';

// The same check as `npm run api:check`, run on a throw-away build so a test can also prove that it fails.
const ROOT = resolve(__dirname, '../..');
const LIB = join(ROOT, 'libs/background-jobs');

describe('public API report (libs/background-jobs/etc/nestjs-background-jobs.api.md)', () => {
  let out: string;

  beforeAll(() => {
    out = mkdtempSync(join(tmpdir(), 'bgj-api-'));
    execFileSync(
      process.execPath,
      [
        require.resolve('typescript/bin/tsc'),
        '-p',
        join(LIB, 'tsconfig.lib.json'),
        '--emitDeclarationOnly',
        '--outDir',
        join(out, 'dist'),
      ],
      { cwd: ROOT, stdio: 'pipe' },
    );
  }, 60_000);

  afterAll(() => rmSync(out, { recursive: true, force: true }));

  const extract = (): ExtractorResult => {
    const configObjectFullPath = join(LIB, 'api-extractor.json');
    const configObject = ExtractorConfig.loadFile(configObjectFullPath);
    configObject.mainEntryPointFilePath = join(out, 'dist/index.d.ts');
    configObject.apiReport!.reportTempFolder = join(out, 'report-temp');
    const config = ExtractorConfig.prepare({
      configObject,
      configObjectFullPath,
      packageJsonFullPath: join(LIB, 'package.json'),
    });
    // localBuild false: a difference from the committed report is an error, as in CI.
    return Extractor.invoke(config, { localBuild: false, messageCallback: (message) => (message.handled = true) });
  };

  it('matches the exported surface (run `npm run api:update` after a deliberate change)', () => {
    const result = extract();
    expect(result.apiReportChanged).toBe(false);
    expect(result.succeeded).toBe(true);
  }, 60_000);

  it('fails when an export is added without updating the report', () => {
    appendFileSync(join(out, 'dist/index.d.ts'), '\nexport declare function unreportedProbe(): void;\n');
    const result = extract();
    expect(result.apiReportChanged).toBe(true);
    expect(result.succeeded).toBe(false);
  }, 60_000);
});
