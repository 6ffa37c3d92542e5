// Writes each ```ts block of the first-hour docs that follows a `<!-- compiled as <path> -->` comment to
// <out>/<path>, so that pack-smoke.sh's ESM app type-checks them (tsc --noEmit) and runs the tests among them (Vitest):
// a doc block that no longer fits the published types fails the smoke instead of a new user.
// Usage: node scripts/pack-smoke/doc-snippets.js <monorepo root> <out dir>
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const DOCS = ['README.md', 'docs/quickstart.md', 'docs/testing.md'];
const BLOCK = /<!-- compiled as (\S+) -->\n(?:[ \t]*\n)*```ts\n([\s\S]*?)\n```\n/g;

const [root, out] = process.argv.slice(2);
if (!root || !out) fail('usage: doc-snippets.js <monorepo root> <out dir>');

function fail(message) {
  console.error(`pack-smoke doc snippets: ${message}`);
  process.exit(1);
}

const written = new Map();
for (const doc of DOCS) {
  const text = fs.readFileSync(path.join(root, doc), 'utf8');
  const blocks = [...text.matchAll(BLOCK)];
  const markers = text.split('<!-- compiled as ').length - 1;
  // NOTE: a marker not above a ```ts block (blank lines between are fine: Prettier adds one) would compile nothing,
  // silently: every marker must match.
  if (blocks.length === 0) fail(`${doc} marks no block "<!-- compiled as <path> -->"`);
  if (blocks.length !== markers)
    fail(`${doc} has ${markers} markers but ${blocks.length} of them are directly above a \`\`\`ts block`);
  for (const [, file, code] of blocks) {
    if (path.isAbsolute(file) || file.split('/').includes('..') || !file.endsWith('.ts')) {
      fail(`${doc}: "${file}" is not a relative .ts path inside the app`);
    }
    const previous = written.get(file);
    if (previous && previous.code !== code) fail(`${doc} and ${previous.doc} give ${file} different contents`);
    written.set(file, { doc, code });
    fs.mkdirSync(path.dirname(path.join(out, file)), { recursive: true });
    fs.writeFileSync(path.join(out, file), `${code}\n`);
  }
}
console.log(`   ${written.size} files from the blocks of ${DOCS.join(', ')}: ${[...written.keys()].sort().join(', ')}`);
