import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

// NOTE: own code rather than a link-check package: the common ones (markdown-link-check, remark-validate-links)
// are ESM-only or fetch the network; this needs only relative files and heading anchors, offline.

/** GitHub's heading slug: lower case, punctuation dropped, spaces to hyphens, duplicates numbered. */
export function headingSlugs(markdown: string): Set<string> {
  const slugs = new Set<string>();
  const seen = new Map<string, number>();
  for (const line of stripFences(markdown).split('\n')) {
    const match = /^#{1,6}\s+(.+?)\s*#*\s*$/.exec(line);
    if (!match) continue;
    const base = match[1]
      .replace(/`/g, '')
      .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-');
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    slugs.add(count === 0 ? base : `${base}-${count}`);
  }
  return slugs;
}

function stripFences(markdown: string): string {
  return markdown.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, '');
}

function stripCode(markdown: string): string {
  return stripFences(markdown).replace(/`[^`\n]*`/g, '');
}

/** Relative link targets of a markdown text: inline `[x](target)`, images, and reference definitions. */
export function linkTargets(markdown: string): string[] {
  const text = stripCode(markdown);
  const targets: string[] = [];
  for (const m of text.matchAll(/!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) targets.push(m[1]);
  for (const m of text.matchAll(/^\s*\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+"[^"]*")?\s*$/gm)) targets.push(m[1]);
  return targets.filter((t) => !/^[a-z][a-z0-9+.-]*:/i.test(t));
}

function markdownFiles(root: string): string[] {
  const files = [join(root, 'README.md')].filter((f) => existsSync(f));
  const walk = (dir: string): void => {
    if (!existsSync(dir)) return;
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.md')) files.push(path);
    }
  };
  walk(join(root, 'docs'));
  return files;
}

/** Every broken relative link in README.md and docs/**\/*.md, as `file: target (why)`. */
export function findBrokenLinks(root: string): string[] {
  const broken: string[] = [];
  for (const file of markdownFiles(root)) {
    const markdown = readFileSync(file, 'utf8');
    for (const target of linkTargets(markdown)) {
      const [pathPart, anchor] = target.split('#', 2);
      const resolved = pathPart ? resolve(dirname(file), decodeURIComponent(pathPart)) : file;
      const where = `${relative(root, file)}: ${target}`;
      if (!existsSync(resolved)) {
        broken.push(`${where} (no such file)`);
        continue;
      }
      if (anchor === undefined || anchor === '') continue;
      if (statSync(resolved).isDirectory() || !resolved.endsWith('.md')) {
        broken.push(`${where} (an anchor into something that is not a markdown file)`);
      } else if (!headingSlugs(readFileSync(resolved, 'utf8')).has(decodeURIComponent(anchor).toLowerCase())) {
        broken.push(`${where} (no heading #${anchor})`);
      }
    }
  }
  return broken;
}

if (require.main === module) {
  const root = resolve(__dirname, '..');
  const broken = findBrokenLinks(root);
  if (broken.length > 0) {
    console.error(`Broken links:\n  ${broken.join('\n  ')}`);
    process.exit(1);
  }
  console.log(`docs:check: every relative link in README.md and docs/ resolves (${markdownFiles(root).length} files)`);
}
