import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { findBrokenLinks, headingSlugs } from '../../scripts/check-doc-links';

describe('doc links (npm run docs:check)', () => {
  it('every relative link in README.md and docs/ resolves to a file and heading', () => {
    expect(findBrokenLinks(resolve(__dirname, '../..'))).toEqual([]);
  });

  it('reports a missing file and a missing heading, and ignores links inside code', () => {
    const root = mkdtempSync(join(tmpdir(), 'bgj-links-'));
    try {
      mkdirSync(join(root, 'docs'));
      writeFileSync(join(root, 'docs/a.md'), '# A page\n\n## The lock versus the domain’s atomic claim\n');
      writeFileSync(
        join(root, 'README.md'),
        [
          '[ok](docs/a.md#a-page) [ok too](docs/a.md#the-lock-versus-the-domains-atomic-claim) [web](https://example.com/x)',
          '[gone](docs/missing.md) [no heading](docs/a.md#nope)',
          '`[in code](docs/nowhere.md)`',
          '```md\n[in a block](docs/nowhere-either.md)\n```',
        ].join('\n'),
      );
      expect(findBrokenLinks(root)).toEqual([
        'README.md: docs/missing.md (no such file)',
        'README.md: docs/a.md#nope (no heading #nope)',
      ]);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('numbers duplicate headings like GitHub', () => {
    expect([...headingSlugs('# Setup\n## Setup\n### `forRoot()` options')]).toEqual([
      'setup',
      'setup-1',
      'forroot-options',
    ]);
  });
});
