/**
 * Every relative link in the project's Markdown resolves: the file (or folder) exists and, when
 * the link names a heading of a Markdown file (`file.md#heading`), that heading exists there
 * (GitHub's anchors: lower case, punctuation dropped, spaces as hyphens). Code blocks and spans are
 * skipped; links to the web are not fetched.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const SKIP = new Set(['node_modules', 'build', '.git']);

function markdownFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (SKIP.has(e.name) || e.name.startsWith('.')) continue;
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...markdownFiles(p));
    else if (e.name.endsWith('.md')) out.push(p);
  }
  return out;
}

/** The text outside fenced code blocks and inline code. */
function prose(md: string): string {
  return md.replace(/^(```|~~~)[\s\S]*?^\1/gm, '').replace(/`[^`\n]*`/g, '');
}

export function slug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

function anchors(file: string): Set<string> {
  const out = new Set<string>();
  const counts = new Map<string, number>();
  for (const m of prose(readFileSync(file, 'utf8')).matchAll(/^#{1,6}\s+(.+?)\s*#*\s*$/gm)) {
    const s = slug(m[1]!);
    const n = counts.get(s) ?? 0;
    out.add(n === 0 ? s : `${s}-${n}`);
    counts.set(s, n + 1);
  }
  return out;
}

/** Broken relative links of one Markdown file, as "target: why". */
export function brokenLinks(file: string): string[] {
  const broken: string[] = [];
  for (const m of prose(readFileSync(file, 'utf8')).matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) {
    const target = m[1]!;
    if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // https:, mailto: ...
    const [path, anchor] = target.split('#', 2) as [string, string | undefined];
    const dest = path === '' ? file : resolve(dirname(file), decodeURIComponent(path));
    if (!existsSync(dest)) {
      broken.push(`${target}: no such file`);
      continue;
    }
    if (anchor && statSync(dest).isFile() && dest.endsWith('.md') && !anchors(dest).has(anchor.toLowerCase())) broken.push(`${target}: no heading #${anchor}`);
  }
  return broken;
}

test('every relative link in the Markdown of the project resolves (file and heading)', () => {
  const files = markdownFiles(root);
  assert.ok(files.some((f) => f.endsWith(join('docs', 'ARCHITECTURE.md'))), 'docs/ARCHITECTURE.md exists');
  const broken = files.flatMap((f) => brokenLinks(f).map((b) => `${relative(root, f)}: ${b}`));
  assert.equal(broken, []);
});

test('the check itself finds a missing file and a missing heading', () => {
  const arch = join(root, 'docs', 'ARCHITECTURE.md');
  assert.ok(anchors(arch).has('4-the-key-management-layer-hostkm'));
  assert.is(slug('2. Layers, folders and the dependency rule'), '2-layers-folders-and-the-dependency-rule');
  const dir = mkdtempSync(join(tmpdir(), 'qkdn-md-'));
  try {
    const f = join(dir, 'x.md');
    writeFileSync(f, `# Top\n[ok](x.md#top) [gone](missing.md) [bad](${relative(dir, arch)}#no-such-heading) [web](https://example.org/a.md)\n\`[code](nowhere.md)\`\n`);
    assert.equal(brokenLinks(f), ['missing.md: no such file', `${relative(dir, arch)}#no-such-heading: no heading #no-such-heading`]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
