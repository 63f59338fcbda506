/**
 * Prometheus metrics: the same stats snapshot `status` shows, in the text exposition
 * format, served over HTTP at /metrics when the proxy is started with --metrics.
 */
import http from 'node:http';
import type { ProxyStats } from './stats.js';

type Kind = 'counter' | 'gauge';
interface Family {
  name: string;
  help: string;
  kind: Kind;
  samples: Array<{ labels: Record<string, string>; value: number }>;
}

function escape(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

export function renderMetrics(s: ProxyStats): string {
  const families: Family[] = [];
  const family = (name: string, kind: Kind, help: string) => {
    const f: Family = { name: `slotlink_${name}`, help, kind, samples: [] };
    families.push(f);
    return f;
  };
  const node = { node: s.node };
  family('registrations_total', 'counter', 'Processes registered since the proxy started.').samples.push({ labels: node, value: s.registrations });
  family('evictions_total', 'counter', 'Slots ended by the proxy (bad input or shutdown).').samples.push({ labels: node, value: s.evictions });
  family('slots', 'gauge', 'Slots currently registered.').samples.push({ labels: node, value: s.slots.length });
  family('routed_total', 'counter', 'Messages routed between local slots.').samples.push({ labels: node, value: s.router.routed });
  family('no_route_total', 'counter', 'Messages answered with SLOTLINK_ERR_NO_ROUTE.').samples.push({ labels: node, value: s.router.noRoute });
  family('replies_refused_total', 'counter', 'Replies and errors that answered no request their writer had received (refused).').samples.push({ labels: node, value: s.router.repliesRefused });
  family('requests_refused_total', 'counter', 'Requests refused with SLOTLINK_ERR_TOO_MANY_REQUESTS.').samples.push({ labels: node, value: s.router.requestsRefused });
  family('registrations_refused_total', 'counter', 'Registration connections refused (not permitted, malformed, or a hello refused).').samples.push({ labels: node, value: s.registrationsRefused });
  family('registration_timeouts_total', 'counter', 'Registration connections dropped for sending nothing in time.').samples.push({ labels: node, value: s.registrationTimeouts });

  const perSlot: Array<[string, Kind, string, (x: ProxyStats['slots'][number]) => number]> = [
    ['slot_messages_in_total', 'counter', 'Messages read from the slot (sent by the process).', (x) => x.messagesIn],
    ['slot_messages_out_total', 'counter', 'Messages written into the slot (for the process).', (x) => x.messagesOut],
    ['slot_bytes_in_total', 'counter', 'Payload bytes read from the slot.', (x) => x.bytesIn],
    ['slot_bytes_out_total', 'counter', 'Payload bytes written into the slot.', (x) => x.bytesOut],
    ['slot_batches_in_total', 'counter', 'Cells (batches) read from the slot.', (x) => x.cellsIn],
    ['slot_batches_out_total', 'counter', 'Cells (batches) committed to the slot.', (x) => x.cellsOut],
    ['slot_doorbells_rung_total', 'counter', 'Doorbells rung (the other side was asleep).', (x) => x.doorbellsRung],
    ['slot_doorbells_saved_total', 'counter', 'State changes that needed no doorbell.', (x) => x.doorbellsSaved],
    ['slot_backpressure_waits_total', 'counter', 'Times the proxy paused reading the slot for a full receiver.', (x) => x.backPressureWaits],
    ['slot_queued_bytes', 'gauge', 'Bytes waiting for room in the slot.', (x) => x.queuedBytes],
  ];
  for (const [name, kind, help, get] of perSlot) {
    const f = family(name, kind, help);
    for (const x of s.slots) f.samples.push({ labels: { ...node, name: x.name, address: x.address }, value: get(x) });
  }
  const perLink: Array<[string, Kind, string, (x: ProxyStats['links'][number]) => number]> = [
    ['link_up', 'gauge', '1 while the link to the peer is up.', (x) => (x.status.state === 'up' ? 1 : 0)],
    ['link_rtt_seconds', 'gauge', 'Last heartbeat round trip.', (x) => (x.rttMs ?? 0) / 1000],
    ['link_messages_out_total', 'counter', 'Messages sent to the peer.', (x) => x.messagesOut],
    ['link_messages_in_total', 'counter', 'Messages received from the peer.', (x) => x.messagesIn],
    ['link_bytes_out_total', 'counter', 'Payload bytes sent to the peer.', (x) => x.bytesOut],
    ['link_bytes_in_total', 'counter', 'Payload bytes delivered from the peer.', (x) => x.bytesIn],
    ['link_frames_in_flight', 'gauge', 'DATA frames sent and not yet acknowledged.', (x) => x.framesInFlight],
    ['link_unacked_bytes', 'gauge', 'Bytes sent and not yet acknowledged.', (x) => x.unackedBytes],
    ['link_retransmitted_frames_total', 'counter', 'Frames sent again after a reconnect.', (x) => x.retransmittedFrames],
    ['link_reconnects_total', 'counter', 'Times the link came back up.', (x) => x.reconnects],
    ['link_credit_stalls_total', 'counter', 'Times a sender had to wait for credit.', (x) => x.creditStalls],
  ];
  for (const [name, kind, help, get] of perLink) {
    const f = family(name, kind, help);
    for (const x of s.links) f.samples.push({ labels: { ...node, peer: x.peer }, value: get(x) });
  }
  const out: string[] = [];
  for (const f of families) {
    out.push(`# HELP ${f.name} ${f.help}`, `# TYPE ${f.name} ${f.kind}`);
    for (const x of f.samples) {
      const labels = Object.entries(x.labels).map(([k, v]) => `${k}="${escape(v)}"`).join(',');
      out.push(`${f.name}{${labels}} ${Number.isFinite(x.value) ? x.value : 0}`);
    }
  }
  return out.join('\n') + '\n';
}

/** Whether the proxy is ready for traffic, and why not. */
export interface Readiness {
  ready: boolean;
  /** Each configured peer's link state ("up" when ready). */
  peers: Record<string, string>;
}

/**
 * Serves /metrics, /healthz (the proxy answers: it is alive) and /readyz (200 once every
 * configured peer's link is up, 503 with the states until then); resolves with the bound port.
 */
export async function serveMetrics(host: string, port: number, stats: () => ProxyStats, readiness: () => Readiness): Promise<{ server: http.Server; port: number }> {
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0];
    if (req.method !== 'GET') return void res.writeHead(405, { allow: 'GET', 'content-type': 'text/plain' }).end('slotlink: only GET is served here\n');
    switch (path) {
      case '/metrics':
        return void res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(renderMetrics(stats()));
      case '/healthz':
        return void res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
      case '/readyz': {
        const r = readiness();
        return void res.writeHead(r.ready ? 200 : 503, { 'content-type': 'application/json' }).end(JSON.stringify(r) + '\n');
      }
      default:
        res.writeHead(404, { 'content-type': 'text/plain' }).end('slotlink: GET /metrics, /healthz or /readyz\n');
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  server.unref();
  return { server, port: (server.address() as { port: number }).port };
}
