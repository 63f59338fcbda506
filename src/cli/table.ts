/** Columns aligned for a terminal: the first left-aligned, the rest right-aligned. */
export function table(rows: Array<Array<string | number>>): string[] {
  const cells = rows.map((r) => r.map(String));
  const widths = cells[0]!.map((_, i) => Math.max(...cells.map((r) => r[i]!.length)));
  return cells.map((r) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  '));
}
