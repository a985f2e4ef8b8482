// Small statistics and table helpers for the benchmarks.

/** Median of a non-empty list (NaN for an empty one). */
export function median(xs) {
  const s = xs.filter((x) => !Number.isNaN(x)).sort((a, b) => a - b)
  if (s.length === 0) return NaN
  const m = s.length >> 1
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2
}

/** The p-th percentile (0..100) of a list, nearest rank. */
export function percentile(xs, p) {
  if (xs.length === 0) return NaN
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]
}

/**
 * Formats rows (arrays of cells) as a text table: the first row is the header, numbers
 * are right-aligned, text left-aligned.
 */
export function textTable(rows) {
  const widths = rows[0].map((_, j) => Math.max(...rows.map((r) => String(r[j]).length)))
  const right = rows[0].map((_, j) => rows.slice(1).every((r) => /^[-+\d.×%/ ]*$|^n\/a$/.test(String(r[j]))))
  return rows.map((r) => r.map((c, j) => (right[j] ? String(c).padStart(widths[j]) : String(c).padEnd(widths[j]))).join('  ').trimEnd()).join('\n')
}

/** Formats rows as a Markdown table (first row is the header). */
export function markdownTable(rows) {
  const line = (r) => `| ${r.join(' | ')} |`
  return [line(rows[0]), line(rows[0].map(() => '---')), ...rows.slice(1).map(line)].join('\n')
}

/** A number with `digits` significant digits (no exponent for the sizes seen here). */
export function fmt(x, digits = 3) {
  if (x === null || x === undefined || Number.isNaN(x)) return 'n/a'
  if (x === 0) return '0'
  const d = Math.max(0, digits - 1 - Math.floor(Math.log10(Math.abs(x))))
  return x.toFixed(Math.min(d, 6))
}
