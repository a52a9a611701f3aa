// Readable text for a reply's data (pure): lists of objects become aligned
// tables, objects become `key: value` lines (with their lists of objects as
// indented tables), nested objects are shown as `k=v k=v`, empty objects as
// nothing at all (the command simply succeeded).

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** One cell: scalars as themselves, lists comma-separated, objects as k=v pairs. */
export function cell(v: unknown): string {
  if (v === null || v === undefined) return '-';
  if (Array.isArray(v)) return v.map(cell).join(',');
  if (isPlainObject(v))
    return Object.entries(v)
      .map(([k, x]) => `${k}=${cell(x)}`)
      .join(' ');
  return String(v);
}

/** An aligned table of `rows`, columns in order of first appearance, numbers right-aligned. */
export function table(rows: Record<string, unknown>[]): string[] {
  const cols: string[] = [];
  for (const r of rows) for (const k of Object.keys(r)) if (!cols.includes(k)) cols.push(k);
  const cells = rows.map((r) => cols.map((c) => cell(r[c])));
  const numeric = cols.map((c) => rows.every((r) => r[c] === undefined || typeof r[c] === 'number'));
  const width = cols.map((c, i) => Math.max(c.length, ...cells.map((row) => row[i]!.length)));
  const fmt = (vals: string[]) =>
    vals
      .map((v, i) => (numeric[i] ? v.padStart(width[i]!) : i === vals.length - 1 ? v : v.padEnd(width[i]!)))
      .join('  ')
      .replace(/\s+$/, '');
  return [fmt(cols.map((c) => c.toUpperCase())), ...cells.map(fmt)];
}

const isRowList = (v: unknown): v is Record<string, unknown>[] =>
  Array.isArray(v) && v.length > 0 && v.every(isPlainObject);

/** The text for `data`, as lines (no trailing newline). */
export function render(data: unknown): string[] {
  if (isRowList(data)) return table(data);
  if (Array.isArray(data)) return data.length === 0 ? ['(none)'] : data.map(cell);
  if (!isPlainObject(data)) return [cell(data)];
  const out: string[] = [];
  for (const [k, v] of Object.entries(data)) {
    if (isRowList(v)) {
      out.push(`${k}:`);
      for (const l of table(v)) out.push(`  ${l}`);
    } else if (Array.isArray(v) && v.every((x) => typeof x === 'string') && (k === 'lines' || v.join(', ').length > 72)) {
      out.push(`${k}:`);
      for (const l of v as string[]) out.push(`  ${l}`);
    } else out.push(`${k}: ${Array.isArray(v) ? v.map(cell).join(', ') : cell(v)}`);
  }
  return out;
}
