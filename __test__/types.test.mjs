// index.d.ts types the documented API: a TypeScript program using it compiles with
// `tsc --strict --noEmit` (a type error fails this test).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { runCommand } from './helpers/process.mjs';

const require = createRequire(import.meta.url);
const tsc = require.resolve('typescript/bin/tsc');
const program = fileURLToPath(new URL('types/usage.ts', import.meta.url));

test('a program using every documented API type-checks under tsc --strict', async () => {
  const r = await runCommand(process.execPath, [tsc, '--strict', '--noEmit', '--target', 'es2022', '--module', 'nodenext',
    '--moduleResolution', 'nodenext', '--types', 'node', '--skipLibCheck', 'false', program], { timeoutMs: 120000 });
  assert.equal(r.code, 0, `${r.stdout}${r.stderr}`);
});
