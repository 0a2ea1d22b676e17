// Every public symbol carries TSDoc: TypeDoc with notDocumented validation and warnings as errors.
import { execFileSync } from 'node:child_process';
import { expect, it } from 'vitest';

it('the API reference builds with every public symbol documented', () => {
  let out = '';
  try {
    out = execFileSync(process.execPath, ['node_modules/typedoc/bin/typedoc', '--emit', 'none'], { encoding: 'utf8', stdio: 'pipe' });
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string };
    throw new Error(`typedoc failed:\n${err.stdout ?? ''}${err.stderr ?? ''}`);
  }
  expect(out).not.toMatch(/\[warning\]|\[error\]/);
}, 120_000);
