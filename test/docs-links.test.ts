import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { repoRoot } from '../stack/layout.js';

// The README and docs/*.md: every relative link names a file or folder of the repo, and every #anchor a heading
// of the page it points to, as GitHub renders them. No servers: this reads files only.

/** The README stays a front door: the manual lives in docs/. */
const README_MAX_LINES = 220;

/** A link that does not lead where it says, as `file:line target: why`. */
type Problem = string;

/** The text with fenced code blocks (``` or ~~~) blanked out, line breaks kept so that line numbers hold. */
function withoutFences(text: string): string {
  let fence: string | undefined;
  return text
    .split('\n')
    .map((line) => {
      const marker = /^ {0,3}(`{3,}|~{3,})/.exec(line)?.[1];
      if (fence === undefined) {
        if (marker === undefined) return line;
        fence = marker;
        return '';
      }
      const closes = marker !== undefined && marker[0] === fence[0] && marker.length >= fence.length;
      if (closes && line.trim() === marker) fence = undefined;
      return '';
    })
    .join('\n');
}

/** Inline code spans replaced by a placeholder (their line breaks kept): `[a](b)` inside one is no link. */
const withoutCodeSpans = (text: string) =>
  text.replace(/(`+)[\s\S]*?(?<!`)\1(?!`)/g, (span) => '`code`' + span.replace(/[^\n]/g, ''));

/**
 * GitHub's anchor for a heading: lowercase; everything but letters, digits, spaces, hyphens and underscores
 * removed; spaces become hyphens. A link in the heading counts by its text.
 */
function slug(heading: string): string {
  return heading
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1')
    .toLowerCase()
    .replace(/[^\p{L}\p{N} _-]/gu, '')
    .replace(/ /g, '-');
}

/** Every anchor a markdown page offers: its headings' slugs (a repeated one gets -1, -2, …) and HTML ids. */
function anchors(markdown: string): Set<string> {
  const found = new Set<string>();
  const seen = new Map<string, number>();
  const add = (base: string) => {
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    found.add(count === 0 ? base : `${base}-${count}`);
  };
  const lines = withoutFences(markdown).split('\n');
  lines.forEach((line, i) => {
    const atx = /^ {0,3}#{1,6}(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$/.exec(line);
    if (atx) return add(slug((atx[1] ?? '').trim()));
    // A setext heading: a paragraph line underlined with === or ---.
    const previous = lines[i - 1];
    if (/^ {0,3}(=+|-+)[ \t]*$/.test(line) && previous?.trim() && !/^ {0,3}([#>|*+-]|\d+[.)])/.test(previous)) {
      add(slug(previous.trim()));
    }
  });
  for (const match of markdown.matchAll(/<[a-z][^>]*\s(?:id|name)="([^"]+)"/gi)) found.add(match[1]!);
  return found;
}

/** Every link of a markdown text outside code: inline `[text](target)`, images, and `[ref]: target` definitions. */
function links(markdown: string): { target: string; line: number }[] {
  const prose = withoutCodeSpans(withoutFences(markdown));
  const lineOf = (index: number) => prose.slice(0, index).split('\n').length;
  const inline = /!?\[(?:[^[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]*)>?(?:\s+(?:"[^"]*"|'[^']*'))?\s*\)/g;
  const definitions = /^ {0,3}\[[^\]]+\]:[ \t]*<?([^\s>]+)>?/gm;
  return [...prose.matchAll(inline), ...prose.matchAll(definitions)]
    .map((m) => ({ target: m[1]!, line: lineOf(m.index) }))
    .sort((a, b) => a.line - b.line);
}

const isExternal = (target: string) => /^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith('//');

/** What is wrong with the links of `file` (a path inside `root`); empty when every one resolves. */
function brokenLinks(root: string, file: string): Problem[] {
  const markdown = readFileSync(file, 'utf8');
  const where = (line: number, target: string) => `${path.relative(root, file)}:${line} ${target}`;
  const problems: Problem[] = [];
  for (const { target, line } of links(markdown)) {
    if (isExternal(target)) continue;
    const hash = target.indexOf('#');
    const linkPath = decodeURIComponent(hash < 0 ? target : target.slice(0, hash));
    const anchor = hash < 0 ? undefined : decodeURIComponent(target.slice(hash + 1));
    const resolved =
      linkPath === ''
        ? file
        : linkPath.startsWith('/')
          ? path.join(root, linkPath)
          : path.resolve(path.dirname(file), linkPath);
    const inside = path.relative(root, resolved);
    if (inside.startsWith('..') || path.isAbsolute(inside)) {
      problems.push(`${where(line, target)}: leaves the repository`);
      continue;
    }
    if (!existsSync(resolved)) {
      problems.push(`${where(line, target)}: no such file or folder`);
      continue;
    }
    if (anchor === undefined) continue;
    if (resolved.endsWith('.md') && statSync(resolved).isFile()) {
      if (!anchors(readFileSync(resolved, 'utf8')).has(anchor)) {
        problems.push(`${where(line, target)}: no heading #${anchor} in ${path.relative(root, resolved)}`);
      }
    } else if (!(statSync(resolved).isFile() && /^L\d+(-L\d+)?$/.test(anchor))) {
      problems.push(`${where(line, target)}: #${anchor} is no heading (only a .md file has them) nor a line`);
    }
  }
  return problems;
}

const pages = [
  'README.md',
  'stack/README.md',
  'ops/README.md',
  ...readdirSync(path.join(repoRoot, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .sort()
    .map((name) => `docs/${name}`),
];

t.test("anchors follow GitHub's slugs; a repeated heading gets -1, -2; code blocks hold no headings", async (t) => {
  t.equal(slug('Purchases: what a `201` means'), 'purchases-what-a-201-means');
  t.equal(slug("Why not ioredis's failover detector"), 'why-not-iorediss-failover-detector');
  t.equal(slug('The state folder, crashes & ports — by hand'), 'the-state-folder-crashes--ports--by-hand');
  t.equal(slug('snake_case and [a link](x.md)'), 'snake_case-and-a-link');
  const page = ['# Tests', '## Tests', '```bash', '# not a heading', '```', '## Tests ##', 'Setext', '---'].join('\n');
  t.same([...anchors(page)].sort(), ['setext', 'tests', 'tests-1', 'tests-2']);
});

t.test('the checker catches a missing file, a missing heading and a link out of the repo', async (t) => {
  const root = t.testdir({
    'README.md': [
      '# Home',
      '[ok](docs/a.md#part-two) [ok](#home) [ok](docs) [ok](src/x.ts#L3) [web](https://example.com/#nothing)',
      '[gone](docs/b.md) [bad anchor](docs/a.md#part-three) [here](#nowhere) `[in code](nope.md)`',
      '```',
      '[in a fence](nope.md)',
      '```',
      '[out](../elsewhere.md) [mail](mailto:someone@example.com)',
    ].join('\n'),
    docs: { 'a.md': '# Part one\n\n## Part two\n\n[back](../README.md#home) [back](../README.md#away)\n' },
    src: { 'x.ts': 'export {};\n' },
  });
  t.same(brokenLinks(root, path.join(root, 'README.md')), [
    'README.md:3 docs/b.md: no such file or folder',
    'README.md:3 docs/a.md#part-three: no heading #part-three in docs/a.md',
    'README.md:3 #nowhere: no heading #nowhere in README.md',
    'README.md:7 ../elsewhere.md: leaves the repository',
  ]);
  t.same(brokenLinks(root, path.join(root, 'docs/a.md')), [
    'docs/a.md:5 ../README.md#away: no heading #away in README.md',
  ]);
});

for (const page of pages) {
  t.test(`${page}: every relative link and #anchor resolves`, async (t) => {
    const file = path.join(repoRoot, page);
    t.ok(links(readFileSync(file, 'utf8')).length > 0, 'it has links to check');
    t.same(brokenLinks(repoRoot, file), []);
  });
}

t.test('the README is a front door that still gives the two set-up commands', async (t) => {
  t.ok(pages.length > 1, 'docs/ holds the pages');
  const readme = readFileSync(path.join(repoRoot, 'README.md'), 'utf8');
  const lines = readme.replace(/\n$/, '').split('\n').length;
  t.ok(lines <= README_MAX_LINES, `README.md has ${lines} lines (at most ${README_MAX_LINES})`);
  t.match(readme, '`npm start`');
  t.match(readme, '`npm test`');
});
