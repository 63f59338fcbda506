/**
 * One screen of `slotlink top`: the proxy (CPU, memory, descriptors, event loop), its error
 * counters, and three tables (slots, links, request round trips by destination) with rates
 * against the previous snapshot, each sortable by any of its columns.
 */
import { quantile } from '../proxy/histogram.js';
import type { LinkStats, ProxyStats, SlotStats } from '../proxy/stats.js';
import { table } from './table.js';
import { formatBytes, formatRate, formatSeconds } from './units.js';

/** A cell: what it sorts by (null: unknown, always last) and what it shows. */
interface Cell {
  sort: number | string | null;
  text: string;
}

interface Column<R> {
  title: string;
  cell(row: R, ctx: Frame): Cell;
}

/** The two snapshots a screen compares, and the seconds between them (0: no previous one). */
interface Frame {
  s: ProxyStats;
  prev: ProxyStats | null;
  seconds: number;
}

/** How the tables are sorted: a column title (any table that has it sorts by it), and whether reversed. */
export interface TopSort {
  column: string;
  reverse: boolean;
}

export const DEFAULT_SORT: TopSort = { column: 'SENT/S', reverse: false };

const text = (t: string): Cell => ({ sort: t, text: t });
const count = (n: number): Cell => ({ sort: n, text: String(n) });
const bytes = (n: number): Cell => ({ sort: n, text: formatBytes(n) });

/** `now - before` per second, or unknown without a previous snapshot. */
function perSecond(f: Frame, now: number, before: number | undefined, unit: 'count' | 'bytes'): Cell {
  if (before === undefined || f.seconds <= 0) return { sort: null, text: '-' };
  const r = Math.max(0, now - before) / f.seconds;
  return { sort: r, text: unit === 'bytes' ? formatBytes(r) : formatRate(r) };
}

function previous<T>(list: T[] | undefined, key: (x: T) => string): Map<string, T> {
  return new Map((list ?? []).map((x) => [key(x), x]));
}

const slotColumns: Array<Column<SlotStats & { p?: SlotStats }>> = [
  { title: 'SLOT', cell: (x) => text(x.address) },
  { title: 'PID', cell: (x) => count(x.pid) },
  { title: 'SENT/S', cell: (x, f) => perSecond(f, x.messagesIn, x.p?.messagesIn, 'count') },
  { title: 'RECV/S', cell: (x, f) => perSecond(f, x.messagesOut, x.p?.messagesOut, 'count') },
  { title: 'SENT B/S', cell: (x, f) => perSecond(f, x.bytesIn, x.p?.bytesIn, 'bytes') },
  { title: 'RECV B/S', cell: (x, f) => perSecond(f, x.bytesOut, x.p?.bytesOut, 'bytes') },
  { title: 'BATCH/S', cell: (x, f) => perSecond(f, x.cellsIn, x.p?.cellsIn, 'count') },
  { title: 'QUEUED', cell: (x) => bytes(x.queuedBytes) },
  { title: 'PAUSED', cell: (x) => text(x.readingPaused ? 'yes' : '') },
  { title: 'BP WAITS', cell: (x) => count(x.backPressureWaits) },
];

const linkColumns: Array<Column<LinkStats & { p?: LinkStats }>> = [
  { title: 'PEER', cell: (x) => text(x.peer) },
  { title: 'STATE', cell: (x) => text(x.status.state) },
  { title: 'RTT', cell: (x) => (x.rttMs === null ? { sort: null, text: '-' } : { sort: x.rttMs, text: formatSeconds(x.rttMs / 1000) }) },
  { title: 'SENT/S', cell: (x, f) => perSecond(f, x.messagesOut, x.p?.messagesOut, 'count') },
  { title: 'RECV/S', cell: (x, f) => perSecond(f, x.messagesIn, x.p?.messagesIn, 'count') },
  { title: 'SENT B/S', cell: (x, f) => perSecond(f, x.bytesOut, x.p?.bytesOut, 'bytes') },
  { title: 'RECV B/S', cell: (x, f) => perSecond(f, x.bytesIn, x.p?.bytesIn, 'bytes') },
  { title: 'IN FLIGHT', cell: (x) => count(x.framesInFlight) },
  { title: 'UNACKED', cell: (x) => bytes(x.unackedBytes) },
  { title: 'RESENT', cell: (x) => count(x.retransmittedFrames) },
  { title: 'RECONNECTS', cell: (x) => count(x.reconnects) },
  { title: 'CREDIT STALLS', cell: (x) => count(x.creditStalls) },
];

/** A destination's round trips since the previous snapshot (or since the start, on the first screen). */
interface RoundTripRow {
  name: string;
  total: number;
  /** Requests answered in the window, and their counts per bucket. */
  answered: number;
  counts: number[];
  bounds: readonly number[];
}

function latency(x: RoundTripRow, q: number): Cell {
  const v = quantile(x.bounds, x.counts, q);
  return v === null ? { sort: null, text: '-' } : { sort: v, text: formatSeconds(v) };
}

const roundTripColumns: Array<Column<RoundTripRow>> = [
  { title: 'DESTINATION', cell: (x) => text(x.name) },
  { title: 'REQ/S', cell: (x, f) => (f.seconds > 0 && f.prev ? { sort: x.answered / f.seconds, text: formatRate(x.answered / f.seconds) } : { sort: null, text: '-' }) },
  { title: 'P50', cell: (x) => latency(x, 0.5) },
  { title: 'P99', cell: (x) => latency(x, 0.99) },
  { title: 'REQUESTS', cell: (x) => count(x.total) },
];

/** Every column title, in the order the screen shows them (what --sort and the keys choose from). */
export const SORTABLE_COLUMNS: string[] = [...new Set([...slotColumns, ...linkColumns, ...roundTripColumns].map((c) => c.title))];

/** The title `name` means: case, spaces, dashes and underscores aside ("sent-b/s" is "SENT B/S"); null when none. */
export function findColumn(name: string): string | null {
  const norm = (t: string) => t.toLowerCase().replace(/[\s_-]+/g, '');
  return SORTABLE_COLUMNS.find((t) => norm(t) === norm(name)) ?? null;
}

function compare(a: Cell, b: Cell, reverse: boolean): number {
  if (a.sort === null || b.sort === null) return a.sort === b.sort ? 0 : a.sort === null ? 1 : -1;
  // Numbers largest first (the busiest on top, as in top(1)); names in alphabetical order.
  const order = typeof a.sort === 'number' && typeof b.sort === 'number' ? b.sort - a.sort : String(a.sort).localeCompare(String(b.sort));
  return reverse ? -order : order;
}

function render<R>(columns: Array<Column<R>>, rows: R[], f: Frame, sort: TopSort): string[] {
  const cells = rows.map((r) => columns.map((c) => c.cell(r, f)));
  const by = columns.findIndex((c) => c.title === sort.column);
  if (by >= 0) cells.sort((a, b) => compare(a[by]!, b[by]!, sort.reverse));
  const head = columns.map((c) => (c.title === sort.column ? `${c.title}${sort.reverse ? '^' : '*'}` : c.title));
  return table([head, ...cells.map((r) => r.map((c) => c.text))]);
}

function roundTripRows(s: ProxyStats, prev: ProxyStats | null): RoundTripRow[] {
  const rt = s.requestRoundTrips;
  const before = previous(prev?.requestRoundTrips.byName, (x) => x.name);
  return rt.byName.map((h) => {
    const p = before.get(h.name);
    // A histogram dropped and made anew since (its name idle a while) counts from zero.
    const fresh = !p || p.count > h.count;
    const counts = h.counts.map((c, i) => (fresh ? c : c - (p.counts[i] ?? 0)));
    return { name: h.name, total: h.count, answered: fresh ? h.count : h.count - p.count, counts, bounds: rt.boundsSeconds };
  });
}

/** CPU used between the two snapshots, in % of one core (since the start on the first screen). */
function cpuPercent(s: ProxyStats, prev: ProxyStats | null): number {
  const cpu = (x: ProxyStats) => x.process.cpuUserSeconds + x.process.cpuSystemSeconds;
  const wall = (s.uptimeMs - (prev?.uptimeMs ?? 0)) / 1000;
  return wall > 0 ? (100 * (cpu(s) - (prev ? cpu(prev) : 0))) / wall : 0;
}

/** One screen: the snapshot, with rates against the previous one; `keys` says how to change the sort. */
export function renderTop(s: ProxyStats, prev: ProxyStats | null, sort: TopSort = DEFAULT_SORT, keys = false): string {
  // Rates over the proxy's own clock: the time between its two snapshots, not between our requests.
  const f: Frame = { s, prev, seconds: prev ? (s.uptimeMs - prev.uptimeMs) / 1000 : 0 };
  const p = s.process;
  const r = s.router;
  const lag = p.eventLoopDelay.p99;
  const slotsBefore = previous(prev?.slots, (x) => x.address);
  const linksBefore = previous(prev?.links, (x) => x.peer);
  const lines = [
    `slotlink top — node ${s.node}, pid ${s.pid}, ${s.slots.length} slots, ${s.links.length} links, up ${(s.uptimeMs / 1000).toFixed(0)} s`,
    `proxy: cpu ${cpuPercent(s, prev).toFixed(1)} %  rss ${formatBytes(p.residentBytes)}  heap ${formatBytes(p.heapUsedBytes)}  fds ${p.openFds}/${p.maxFds ?? '-'}  event-loop lag p99 ${lag === null ? '-' : formatSeconds(lag)}`,
    `errors: registrations refused ${s.registrationsRefused}  registration timeouts ${s.registrationTimeouts}  peer connections refused ${s.peerConnectionsRefused}  requests refused ${r.requestsRefused}  replies refused ${r.repliesRefused}  replies dropped ${r.repliesDropped}  undeliverable (no route) ${r.noRoute}  evictions ${s.evictions}`,
    `sort: ${sort.column}${sort.reverse ? ', reversed' : ' (numbers largest first, names A to Z)'} — ${keys ? 'keys: < > column, r reverse, q quit' : 'flags: --sort COLUMN, --reverse'}`,
    '',
    ...render(slotColumns, s.slots.map((x) => ({ ...x, p: slotsBefore.get(x.address) })), f, sort),
  ];
  if (s.links.length > 0) lines.push('', ...render(linkColumns, s.links.map((x) => ({ ...x, p: linksBefore.get(x.peer) })), f, sort));
  const rt = roundTripRows(s, prev);
  if (rt.length > 0) lines.push('', ...render(roundTripColumns, rt, f, sort));
  return lines.join('\n') + '\n';
}
