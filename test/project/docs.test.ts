// Every public symbol carries TSDoc: TypeDoc with notDocumented validation and warnings as errors.
import { execFileSync } from 'node:child_process';
import { expect, it } from 'vitest';

it('the API reference builds with every public symbol documented', () => {
  let out: string;
  try {
    out = execFileSync(process.execPath, ['node_modules/typedoc/bin/typedoc', '--emit', 'none'], { encoding: 'utf8', stdio: 'pipe' });
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string };
    throw new Error(`typedoc failed:\n${err.stdout ?? ''}${err.stderr ?? ''}`, { cause: e });
  }
  expect(out).not.toMatch(/\[warning\]|\[error\]/);
}, 120_000);

// Guides link to each other and to files in the repository; a renamed file or heading breaks a link
// silently, so each relative link (and its #anchor) must resolve.
it('every relative link in the README and the guides resolves, anchors included', async () => {
  const { readFileSync, readdirSync, existsSync } = await import('node:fs');
  const { dirname, join, resolve } = await import('node:path');
  const slug = (h: string) =>
    h
      .trim()
      .toLowerCase()
      .replace(/[`*_]/g, '')
      .replace(/[^\p{L}\p{N} -]/gu, '')
      .replace(/ /g, '-');
  const anchors = (file: string) => new Set([...readFileSync(file, 'utf8').matchAll(/^#{1,6} (.+)$/gm)].map((m) => slug(m[1])));
  const files = [
    'README.md',
    'ARCHITECTURE.md',
    ...readdirSync('docs')
      .filter((f) => f.endsWith('.md'))
      .map((f) => join('docs', f)),
  ];
  const broken: string[] = [];
  for (const file of files) {
    const text = readFileSync(file, 'utf8').replace(/```[\s\S]*?```/g, '');
    for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
      if (/^[a-z]+:/.test(target)) continue;
      const [path, anchor] = target.split('#');
      const to = path ? resolve(dirname(file), path) : resolve(file);
      if (!existsSync(to)) broken.push(`${file}: ${target} (no such file)`);
      else if (anchor && to.endsWith('.md') && !anchors(to).has(anchor)) broken.push(`${file}: ${target} (no such heading)`);
    }
  }
  expect(broken).toEqual([]);
});
