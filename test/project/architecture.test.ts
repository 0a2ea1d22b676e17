// ARCHITECTURE.md is the map of the source: it must name every file under src/, assembly/ and shaders/
// by its path, and every path it names must exist, so that the map cannot drift from the tree.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const map = readFileSync('ARCHITECTURE.md', 'utf8');
const named = new Set([...map.matchAll(/`((?:src|assembly|shaders|scripts|test|bench|examples|docs)\/[^`\s*<]+)`/g)].map((m) => m[1]));

/** The source files git knows (tracked, or new and not ignored): generated files are ignored. */
function sourceFiles(): string[] {
  const out = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', 'src', 'assembly', 'shaders'], { encoding: 'utf8' });
  return out.split('\n').filter((f) => f && existsSync(f));
}

describe('ARCHITECTURE.md', () => {
  it('names every source file by its path', () => {
    const missing = sourceFiles().filter((f) => !named.has(f));
    expect(missing, 'source files ARCHITECTURE.md does not name').toEqual([]);
  });

  it('names no path that does not exist', () => {
    const stale = [...named].filter((p) => !existsSync(p.replace(/\/$/, '')));
    expect(stale, 'paths in ARCHITECTURE.md that are not in the tree').toEqual([]);
  });
});
