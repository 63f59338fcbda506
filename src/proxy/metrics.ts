/**
 * Prometheus metrics: the same stats snapshot `status` and `top` show, in the text
 * exposition format, served over HTTP at /metrics when the proxy is started with --metrics.
 * docs/metrics.md lists every family and why it is shaped so.
 *
 * Written here rather than with prom-client: every figure already lives in a plain
 * snapshot (stats.ts), which this file only prints, so prom-client's registry of mutable
 * metrics and collect callbacks would be a second copy of the state to keep in step; the
 * package keeps three runtime dependencies; and we control the output exactly (names,
 * labels, what is left out when unknown). test/metrics-promtool.test.ts checks the output
 * with promtool against live proxies carrying traffic.
 */
import http from 'node:http';
import { Exposition, type Labels } from './exposition.js';
import type { LinkStats, ProxyStats } from './stats.js';
import type { NameStats } from './name-totals.js';

type Sample = readonly [Labels, number | null];

export function renderMetrics(s: ProxyStats): string {
  const x = new Exposition();
  const node = { node: s.node };
  const one = (value: number | null): Sample[] => [[node, value]];
  x.family('slotlink_build_info', 'gauge', 'Always 1: the running version of slotlink and of Node.js in its labels.', [[{ ...node, version: s.build.version, node_version: s.build.nodeVersion }, 1]]);

  // The proxy process, under the names every Prometheus client library uses.
  const p = s.process;
  x.family('process_cpu_user_seconds_total', 'counter', 'User CPU time spent, in seconds.', [[{}, p.cpuUserSeconds]]);
  x.family('process_cpu_system_seconds_total', 'counter', 'System CPU time spent, in seconds.', [[{}, p.cpuSystemSeconds]]);
  x.family('process_cpu_seconds_total', 'counter', 'User and system CPU time spent, in seconds.', [[{}, p.cpuUserSeconds + p.cpuSystemSeconds]]);
  x.family('process_resident_memory_bytes', 'gauge', 'Resident memory size, in bytes.', [[{}, p.residentBytes]]);
  x.family('process_open_fds', 'gauge', 'Open file descriptors.', [[{}, p.openFds]]);
  x.family('process_max_fds', 'gauge', 'Most open file descriptors the process may have (its soft limit).', [[{}, p.maxFds]]);
  x.family('process_start_time_seconds', 'gauge', 'Start time of the process, seconds since the Unix epoch.', [[{}, p.startTimeSeconds]]);
  x.family('nodejs_heap_size_used_bytes', 'gauge', 'V8 heap in use, in bytes.', [[{}, p.heapUsedBytes]]);
  x.family('nodejs_heap_size_total_bytes', 'gauge', 'V8 heap allocated, in bytes.', [[{}, p.heapTotalBytes]]);
  const lag = p.eventLoopDelay;
  x.family('nodejs_eventloop_lag_p50_seconds', 'gauge', 'Median event-loop lag over the last 10 s window, in seconds.', [[{}, lag.p50]]);
  x.family('nodejs_eventloop_lag_p99_seconds', 'gauge', '99th percentile of event-loop lag over the last 10 s window, in seconds.', [[{}, lag.p99]]);
  x.family('nodejs_eventloop_lag_max_seconds', 'gauge', 'Largest event-loop lag over the last 10 s window, in seconds.', [[{}, lag.max]]);
  x.family('nodejs_eventloop_lag_mean_seconds', 'gauge', 'Mean event-loop lag over the last 10 s window, in seconds.', [[{}, lag.mean]]);

  // Registration.
  x.family('slotlink_registrations_total', 'counter', 'Processes registered since the proxy started.', one(s.registrations));
  x.family('slotlink_registrations_refused_total', 'counter', 'Registration connections refused (not permitted, malformed, or a hello refused).', one(s.registrationsRefused));
  x.family('slotlink_registration_timeouts_total', 'counter', 'Registration connections dropped for sending nothing in time.', one(s.registrationTimeouts));
  x.family('slotlink_evictions_total', 'counter', 'Slots ended by the proxy (bad input or shutdown).', one(s.evictions));
  x.family('slotlink_slots', 'gauge', 'Slots currently registered.', one(s.slots.length));

  // Routing.
  const r = s.router;
  x.family('slotlink_routed_messages_total', 'counter', 'Messages routed, by path: between local slots, from a local slot to a peer, from a peer to a local slot.', [
    [{ ...node, path: 'local' }, r.routed],
    [{ ...node, path: 'to_peer' }, r.toLinks],
    [{ ...node, path: 'from_peer' }, r.fromLinks],
  ]);
  x.family('slotlink_no_route_messages_total', 'counter', 'Sends and requests that could not be delivered (no such name, or its node unreachable), answered with an error.', one(r.noRoute));
  x.family('slotlink_requests_refused_total', 'counter', 'Requests refused with SLOTLINK_ERR_TOO_MANY_REQUESTS.', one(r.requestsRefused));
  x.family('slotlink_replies_refused_total', 'counter', 'Replies and errors that answered no request their writer had received (refused).', one(r.repliesRefused));
  x.family('slotlink_replies_dropped_total', 'counter', 'Replies whose requester had gone away before they arrived.', one(r.repliesDropped));
  const rt = s.requestRoundTrips;
  x.histogram('slotlink_request_round_trip_seconds', 'Seconds from a request passing this proxy to its answer passing back, by destination name (past 64 names: "~other").', rt.boundsSeconds, rt.byName.map((h) => [{ ...node, name: h.name }, h] as const));

  // Publish/subscribe.
  const pub = s.publications;
  x.family('slotlink_publications_total', 'counter', 'Publications, by path: read from local processes, sent to peers (once per peer with a subscriber), received from peers.', [
    [{ ...node, path: 'local' }, pub.published],
    [{ ...node, path: 'to_peer' }, pub.sentToPeers],
    [{ ...node, path: 'from_peer' }, pub.received],
  ]);
  x.family('slotlink_publications_unheard_total', 'counter', 'Publications from local processes that no subscription here or on a peer matched.', one(pub.unheard));
  x.family('slotlink_publication_copies_delivered_total', 'counter', 'Copies of publications written into subscribers\' slots.', one(pub.delivered));
  x.family('slotlink_publication_copies_dropped_total', 'counter', 'Copies of publications dropped by drop-oldest subscriptions that fell behind.', one(pub.dropped));
  const bySubscription = subscriptionTotals(s);
  x.family('slotlink_subscription_delivered_messages_total', 'counter', `Publications written into the slots of a name's subscriptions to a pattern (past ${MAX_SUBSCRIPTION_SERIES} series: "~other").`, bySubscription.map((t) => [{ ...node, name: t.name, subject: t.subject }, t.delivered] as const));
  x.family('slotlink_subscription_dropped_messages_total', 'counter', 'Publications a drop-oldest subscription dropped because its subscriber fell behind.', bySubscription.map((t) => [{ ...node, name: t.name, subject: t.subject }, t.dropped] as const));

  // Slots, by registered name: a group's processes and the processes gone add up (name-totals.ts).
  const perName: Array<[string, 'counter' | 'gauge', string, (n: NameStats) => number]> = [
    ['slotlink_slot_processes', 'gauge', 'Processes registered under the name now (a group has several; 0 for a while after the last left).', (n) => n.processes],
    ['slotlink_slot_sent_messages_total', 'counter', 'Messages the processes under the name sent (read from their slots).', (n) => n.messagesIn],
    ['slotlink_slot_received_messages_total', 'counter', 'Messages delivered into the slots of the processes under the name.', (n) => n.messagesOut],
    ['slotlink_slot_sent_bytes_total', 'counter', 'Payload bytes the processes under the name sent.', (n) => n.bytesIn],
    ['slotlink_slot_received_bytes_total', 'counter', 'Payload bytes delivered into their slots.', (n) => n.bytesOut],
    ['slotlink_slot_sent_batches_total', 'counter', 'Cells (batches of messages) read from their slots.', (n) => n.cellsIn],
    ['slotlink_slot_received_batches_total', 'counter', 'Cells (batches of messages) committed to their slots.', (n) => n.cellsOut],
    ['slotlink_slot_doorbells_rung_total', 'counter', 'Doorbells rung (the other side was asleep).', (n) => n.doorbellsRung],
    ['slotlink_slot_doorbells_saved_total', 'counter', 'State changes that needed no doorbell.', (n) => n.doorbellsSaved],
    ['slotlink_slot_backpressure_waits_total', 'counter', 'Times the proxy paused reading their slots for a full receiver.', (n) => n.backPressureWaits],
    ['slotlink_slot_queued_bytes', 'gauge', 'Bytes waiting for room in their slots now.', (n) => n.queuedBytes],
  ];
  for (const [name, type, help, get] of perName) x.family(name, type, help, s.names.map((n) => [{ ...node, name: n.name }, get(n)] as const));

  // Links, by peer.
  x.family('slotlink_peer_connections_refused_total', 'counter', 'Connections from would-be peers this proxy refused (authentication or handshake).', one(s.peerConnectionsRefused));
  const perLink: Array<[string, 'counter' | 'gauge', string, (l: LinkStats) => number | null]> = [
    ['slotlink_link_up', 'gauge', '1 while the link to the peer is up.', (l) => (l.status.state === 'up' ? 1 : 0)],
    ['slotlink_link_rtt_seconds', 'gauge', 'Last heartbeat round trip (absent until one is measured).', (l) => (l.rttMs === null ? null : l.rttMs / 1000)],
    ['slotlink_link_sent_messages_total', 'counter', 'Messages sent to the peer.', (l) => l.messagesOut],
    ['slotlink_link_received_messages_total', 'counter', 'Messages received from the peer.', (l) => l.messagesIn],
    ['slotlink_link_sent_bytes_total', 'counter', 'Payload bytes sent to the peer.', (l) => l.bytesOut],
    ['slotlink_link_received_bytes_total', 'counter', 'Payload bytes received from the peer.', (l) => l.bytesIn],
    ['slotlink_link_frames_in_flight', 'gauge', 'DATA frames sent and not yet acknowledged.', (l) => l.framesInFlight],
    ['slotlink_link_unacked_bytes', 'gauge', 'Bytes sent and not yet acknowledged.', (l) => l.unackedBytes],
    ['slotlink_link_waiting_messages', 'gauge', 'Messages waiting in the link\'s streams to leave (for their turn, room or credit).', (l) => l.waitingMessages],
    ['slotlink_link_waiting_bytes', 'gauge', 'Payload bytes of the messages waiting to leave.', (l) => l.waitingBytes],
    ['slotlink_link_pipe_window_bytes', 'gauge', 'Bytes the link lets be written and not yet acknowledged now (its pipe window).', (l) => l.pipeBytes],
    ['slotlink_link_retransmitted_frames_total', 'counter', 'Frames sent again after a reconnect.', (l) => l.retransmittedFrames],
    ['slotlink_link_duplicate_frames_dropped_total', 'counter', 'Frames received again after a reconnect, and dropped.', (l) => l.duplicatesDropped],
    ['slotlink_link_reconnects_total', 'counter', 'Times the link came back up.', (l) => l.reconnects],
    ['slotlink_link_peer_restarts_total', 'counter', 'Times the peer was found to have restarted (a new session).', (l) => l.peerRestarts],
    ['slotlink_link_credit_stalls_total', 'counter', 'Times a stream to the peer had to wait for credit.', (l) => l.creditStalls],
    ['slotlink_link_expressed_messages_total', 'counter', 'Requests and answers of streams with nothing waiting that left at once, past bulk waiting on the link.', (l) => l.messagesExpressed],
    ['slotlink_link_credit_unconfirmed_units', 'gauge', 'Credit units sent and not yet known to be in the peer\'s slots.', (l) => l.unconfirmedUnits],
    ['slotlink_link_credit_held_units', 'gauge', 'Credit units received from the peer and not yet in local slots (or answered).', (l) => l.heldUnits],
  ];
  for (const [name, type, help, get] of perLink) x.family(name, type, help, s.links.map((l) => [{ ...node, peer: l.peer }, get(l)] as const));
  return x.text();
}

/** Series of per-subscription families at most: past it, the rest add up under name and subject "~other". */
const MAX_SUBSCRIPTION_SERIES = 1024;

/** Subscriptions added up by subscriber name and pattern (a group's members, and subscriptions repeated). */
function subscriptionTotals(s: ProxyStats): Array<{ name: string; subject: string; delivered: number; dropped: number }> {
  const totals = new Map<string, { name: string; subject: string; delivered: number; dropped: number }>();
  for (const sub of s.subscriptions) {
    let key = `${sub.name}\n${sub.subject}`;
    if (!totals.has(key) && totals.size >= MAX_SUBSCRIPTION_SERIES - 1) key = '~other';
    let t = totals.get(key);
    if (!t) totals.set(key, (t = key === '~other' ? { name: '~other', subject: '~other', delivered: 0, dropped: 0 } : { name: sub.name, subject: sub.subject, delivered: 0, dropped: 0 }));
    t.delivered += sub.delivered;
    t.dropped += sub.dropped;
  }
  return [...totals.values()];
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
