import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

// docs/development.md's file map names every library file (specs aside) with its one reason to change; this keeps it
// true: a file added, moved or removed without its line in the map fails here.
const ROOT = resolve(__dirname, '../..');
const LIBRARY = join(ROOT, 'libs/background-jobs');
const HEADING = "## Where the library's parts live";

/** Every file under `libs/background-jobs/src` but specs and dot-files, as `src/<path>`. */
function libraryFiles(dir = join(LIBRARY, 'src'), prefix = 'src/'): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    if (entry.name.startsWith('.')) return [];
    if (entry.isDirectory()) return libraryFiles(join(dir, entry.name), `${prefix}${entry.name}/`);
    return entry.name.endsWith('.spec.ts') ? [] : [`${prefix}${entry.name}`];
  });
}

/**
 * Reads the map (the first code block under HEADING): a line `src/<folder>/  words` opens a folder, a line
 * `  <file>  words` names a file in it, a more indented line continues the words. Returns what does not match
 * `files`, one line each.
 */
function fileMapProblems(markdown: string, files: string[]): string[] {
  const section = markdown.split(HEADING)[1];
  const block = section?.match(/```\n([\s\S]*?)```/)?.[1];
  if (block === undefined) return [`no code block under "${HEADING}"`];
  const problems: string[] = [];
  const named = new Set<string>();
  let folder: string | undefined;
  for (const line of block.split('\n')) {
    if (line.trim() === '' || /^ {3,}\S/.test(line)) continue;
    const header = line.match(/^(src\/(?:\S*\/)?)(?:\s|$)/);
    const entry = line.match(/^ {2}([^\s/]+)(?: {2,}(\S.*))?$/);
    if (header) {
      folder = header[1];
    } else if (entry && folder !== undefined) {
      const path = `${folder}${entry[1]}`;
      if (named.has(path)) problems.push(`${path}: named twice`);
      if (entry[2] === undefined) problems.push(`${path}: no words on why it changes`);
      named.add(path);
    } else {
      problems.push(`unreadable line: "${line}"`);
    }
  }
  for (const file of files) if (!named.has(file)) problems.push(`${file}: missing from the map`);
  const existing = new Set(files);
  for (const path of named) if (!existing.has(path)) problems.push(`${path}: no such file`);
  return problems;
}

describe("docs/development.md's file map", () => {
  it('names every library file (specs aside) and nothing else', () => {
    const markdown = readFileSync(join(ROOT, 'docs/development.md'), 'utf8');
    expect(fileMapProblems(markdown, libraryFiles())).toEqual([]);
  });

  it('reports a missing file, a name that is no file, a file named twice and one without words', () => {
    const markdown = [
      '# Development',
      HEADING,
      '```',
      'src/            the entry',
      '  index.ts      the public surface',
      '                and more words',
      '  gone.ts       a file that was removed',
      'src/core/       core',
      '  a.ts          one reason',
      '  a.ts          twice',
      '  b.ts',
      '```',
    ].join('\n');
    expect(fileMapProblems(markdown, ['src/index.ts', 'src/core/a.ts', 'src/core/b.ts', 'src/core/new.ts'])).toEqual([
      'src/core/a.ts: named twice',
      'src/core/b.ts: no words on why it changes',
      'src/core/new.ts: missing from the map',
      'src/gone.ts: no such file',
    ]);
  });

  it('counts Lua scripts and dashboard assets as library files, and no spec', () => {
    const files = libraryFiles();
    expect(files).toEqual(
      expect.arrayContaining([
        'src/adapters/bullmq/lua/admit-1.lua',
        'src/operations/ui/app.css',
        'src/operations/ui/core.js',
        'src/operations/ui/index.html',
      ]),
    );
    expect(files.filter((file) => file.endsWith('.spec.ts'))).toEqual([]);
  });
});
