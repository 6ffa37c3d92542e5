import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as ts from 'typescript';

// Every optional property of a public options interface (contracts/*Options, JobDefaults) documents its default
// with `@default`, so the docs a user reads in their editor cannot drift from the behaviour silently.
const CONTRACTS = resolve(__dirname, '../../libs/background-jobs/src/contracts');

function undocumentedOptions(): string[] {
  const problems: string[] = [];
  for (const file of readdirSync(CONTRACTS).filter((f) => f.endsWith('.ts') && !f.endsWith('.spec.ts'))) {
    const source = ts.createSourceFile(file, readFileSync(join(CONTRACTS, file), 'utf8'), ts.ScriptTarget.ES2022, true);
    const visit = (node: ts.Node, owner: string): void => {
      if (ts.isPropertySignature(node) && node.questionToken) {
        const name = `${owner}.${node.name.getText(source)}`;
        const tags = ts.getJSDocTags(node).map((tag) => tag.tagName.text);
        if (!tags.includes('default')) problems.push(`${file}: ${name} has no @default`);
      }
    };
    // NOTE: direct members only; a nested literal (`completed?: { count?: … }`) is covered by its parent's @default.
    source.forEachChild((node) => {
      if (ts.isInterfaceDeclaration(node) && /(Options|Defaults)$/.test(node.name.text))
        node.members.forEach((m) => visit(m, node.name.text));
    });
  }
  return problems;
}

describe('public option docs', () => {
  it('every optional option in contracts/ has JSDoc with @default', () => {
    expect(undocumentedOptions()).toEqual([]);
  });
});
