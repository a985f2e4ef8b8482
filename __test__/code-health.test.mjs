// Code health rules that a review can miss, checked on every run: no import cycles
// between the Rust source files, a `// SAFETY:` comment on every `unsafe` block, and the
// sans-IO core (src/proto) free of tokio, napi, sockets and the clock.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const src = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'src');

/** Every .rs file under src, as paths relative to it. */
function rustFiles(dir = src) {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) return rustFiles(full);
    return name.endsWith('.rs') ? [path.relative(src, full)] : [];
  });
}

/** The module path of a file: proto/media/mod.rs → proto::media, lib.rs → (crate). */
function modulePath(file) {
  const parts = file.replace(/\.rs$/, '').split(path.sep);
  if (parts.at(-1) === 'mod' || parts.at(-1) === 'lib') parts.pop();
  return parts.join('::');
}

/** The code of a file without its `#[cfg(test)] mod tests { ... }` block and comments. */
function productionCode(text) {
  const cut = text.search(/#\[cfg\(test\)\]\s*mod tests\s*\{/);
  return (cut >= 0 ? text.slice(0, cut) : text).replace(/\/\/.*$/gm, '');
}

/** The paths of a file's `use` items, one level of braces expanded: a::{b, c::d}. */
function usePaths(code) {
  const paths = [];
  for (const m of code.matchAll(/\b(pub(?:\([^)]*\))?\s+)?use\s+([^;]+);/g)) {
    const reexport = Boolean(m[1]);
    const whole = m[2].replace(/\s+/g, '');
    const brace = /^(.*?)\{(.*)\}$/.exec(whole);
    if (!brace) {
      paths.push({ path: whole, reexport });
      continue;
    }
    let depth = 0;
    let item = '';
    for (const ch of brace[2] + ',') {
      if (ch === '{') depth++;
      if (ch === '}') depth--;
      if (ch === ',' && depth === 0) {
        if (item) paths.push({ path: brace[1] + item.replace(/::\{.*$/, ''), reexport });
        item = '';
      } else item += ch;
    }
  }
  return paths;
}

const isRoot = (file) => /(^|[\\/])(mod|lib)\.rs$/.test(file);

/**
 * The file-level import graph of the crate: an edge f → g when a `use` in f names an
 * item of g. A name that a module root (mod.rs, lib.rs) re-exports from a child leads
 * to the child's file; a root's own edges to its descendants (it declares and
 * re-exports them) are left out.
 */
function importGraph(files) {
  const byModule = new Map(files.map((f) => [modulePath(f), f]));
  const parsed = new Map(files.map((f) => [f, usePaths(productionCode(readFileSync(path.join(src, f), 'utf8')))]));
  const absolute = (file, p) => {
    let segs = p.split('::').filter(Boolean);
    const here = modulePath(file).split('::').filter(Boolean);
    if (segs[0] === 'crate') return segs.slice(1);
    if (segs[0] === 'self') return [...here, ...segs.slice(1)];
    if (segs[0] !== 'super') {
      // A child module by its bare name (`pub use payload::Payload;`), else std or
      // another crate.
      return byModule.has([...here, segs[0]].join('::')) ? [...here, ...segs] : null;
    }
    const base = here.slice();
    while (segs[0] === 'super') { base.pop(); segs = segs.slice(1); }
    return [...base, ...segs];
  };
  const resolve = (segs, depth = 0) => {
    for (let n = segs.length; n >= 0; n--) {
      const target = byModule.get(segs.slice(0, n).join('::'));
      if (target === undefined) continue;
      const name = segs[n];
      if (isRoot(target) && name && depth < 8) {
        for (const u of parsed.get(target)) {
          const full = absolute(target, u.path);
          if (u.reexport && full && (full.at(-1) === name || full.at(-1) === '*')) {
            const through = resolve(full.at(-1) === '*' ? [...full.slice(0, -1), name] : full, depth + 1);
            if (through) return through;
          }
        }
      }
      return target;
    }
    return null;
  };
  const graph = new Map();
  for (const f of files) {
    const deps = new Set();
    for (const u of parsed.get(f)) {
      const segs = absolute(f, u.path);
      const target = segs && resolve(segs);
      if (!target || target === f) continue;
      const mod = modulePath(f);
      if (isRoot(f) && (mod === '' || modulePath(target).startsWith(mod + '::'))) continue;
      deps.add(target);
    }
    graph.set(f, deps);
  }
  return graph;
}

test('no import cycles between the files of src/', () => {
  const graph = importGraph(rustFiles());
  const relay = path.join('runtime', 'relay.rs');
  const connection = path.join('runtime', 'connection.rs');
  assert.ok(graph.get(relay).has(connection), 'the scan sees relay.rs import connection.rs');
  assert.ok(graph.get(relay).has(path.join('proto', 'chunk', 'payload.rs')), 'and names re-exported by chunk/mod.rs lead to their file');
  const cycles = [];
  const state = new Map();
  const stack = [];
  const visit = (f) => {
    state.set(f, 'open');
    stack.push(f);
    for (const g of graph.get(f)) {
      if (state.get(g) === 'open') cycles.push([...stack.slice(stack.indexOf(g)), g].join(' -> '));
      else if (!state.has(g)) visit(g);
    }
    stack.pop();
    state.set(f, 'done');
  };
  for (const f of graph.keys()) if (!state.has(f)) visit(f);
  assert.deepEqual(cycles, [], `import cycles:\n${cycles.join('\n')}`);
});

test('every unsafe block in src/ has a SAFETY comment', () => {
  const missing = [];
  let blocks = 0;
  for (const file of rustFiles()) {
    const lines = readFileSync(path.join(src, file), 'utf8').split('\n');
    lines.forEach((line, i) => {
      const code = line.replace(/\/\/.*$/, '');
      if (!/\bunsafe\s*\{/.test(code)) return;
      blocks++;
      const before = lines.slice(Math.max(0, i - 6), i + 1).join('\n');
      if (!/SAFETY:/.test(before)) missing.push(`${file}:${i + 1}`);
    });
  }
  console.log(`unsafe blocks in src/: ${blocks}`);
  assert.deepEqual(missing, [], `unsafe without a // SAFETY: comment within the 6 lines above:\n${missing.join('\n')}`);
});

test('the sans-IO core (src/proto) uses no tokio, napi, sockets or clock', () => {
  const bad = [];
  for (const file of rustFiles().filter((f) => f.startsWith('proto' + path.sep))) {
    const code = productionCode(readFileSync(path.join(src, file), 'utf8'));
    for (const pattern of [/\btokio\b/, /\bnapi(_derive)?\b/, /std::net\b/, /Instant::now|SystemTime::now/]) {
      if (pattern.test(code)) bad.push(`${file}: ${pattern}`);
    }
  }
  assert.deepEqual(bad, []);
});
