/** `slotlink status`: the proxy's slots and directory, as a table or JSON. */
import { requestStatus } from '../client/registration.js';
import { defaultSocketPath } from '../contract/defaults.js';
import type { ProxyStats } from '../proxy/stats.js';
import type { Command } from './args.js';
import { table } from './table.js';
import { formatBytes } from './units.js';

export const statusCommand: Command = {
  name: 'status',
  summary: 'show the proxy\'s slots, counters and directory',
  usage: `Usage: slotlink status [--socket PATH] [--json]

Asks the proxy on PATH for a snapshot (without registering a slot): the proxy process
(CPU time, memory, descriptors), its counters (errors included), its slots (name, pid,
messages and bytes each way, batches, doorbells, back pressure), its links to other
proxies (state, round trip, messages, frames in flight, resends, reconnects, credit
stalls), its subscriptions (delivered, dropped) and the names and subjects it knows. --json prints the whole snapshot, request round-trip
histograms and per-name totals included.`,
  options: { socket: { type: 'string' }, json: { type: 'boolean' } },
  async run(v) {
    const s = (await requestStatus(String(v.socket ?? defaultSocketPath()))) as ProxyStats;
    if (v.json) {
      process.stdout.write(JSON.stringify(s, null, 2) + '\n');
      return 0;
    }
    const p = s.process;
    const lines = [
      `node ${s.node}  pid ${s.pid}  socket ${s.socket}  up ${(s.uptimeMs / 1000).toFixed(0)} s  registrations ${s.registrations} (refused ${s.registrationsRefused}, timed out ${s.registrationTimeouts})  evictions ${s.evictions}`,
      `slotlink ${s.build.version}  node.js ${s.build.nodeVersion}  cpu ${(p.cpuUserSeconds + p.cpuSystemSeconds).toFixed(2)} s  rss ${formatBytes(p.residentBytes)}  fds ${p.openFds}/${p.maxFds ?? '-'}`,
      `published ${s.publications.published}  to-peers ${s.publications.sentToPeers}  from-peers ${s.publications.received}  copies ${s.publications.delivered}  dropped ${s.publications.dropped}  unheard ${s.publications.unheard}`,
      `routed ${s.router.routed}  no-route ${s.router.noRoute}  replies-dropped ${s.router.repliesDropped}  replies-refused ${s.router.repliesRefused}  requests-refused ${s.router.requestsRefused}  peer-connections-refused ${s.peerConnectionsRefused}`,
      '',
      ...table([
        ['SLOT', 'PID', 'MSGS SENT', 'MSGS RECEIVED', 'BYTES SENT', 'BYTES RECEIVED', 'BATCHES SENT', 'BELLS RUNG', 'BELLS SAVED', 'QUEUED', 'BP WAITS'],
        ...s.slots.map((x) => [x.address, x.pid, x.messagesIn, x.messagesOut, x.bytesIn, x.bytesOut, x.cellsIn, x.doorbellsRung, x.doorbellsSaved, x.queuedBytes, x.backPressureWaits]),
      ]),
      ...(s.links.length === 0
        ? []
        : [
            '',
            ...table([
              ['PEER', 'STATE', 'SINCE', 'RTT MS', 'MSGS SENT', 'MSGS RECEIVED', 'IN FLIGHT', 'UNACKED B', 'RESENT', 'RECONNECTS', 'CREDIT STALLS'],
              ...s.links.map((l) => [l.peer, l.status.state, new Date(l.status.since).toISOString(), l.rttMs === null ? '-' : l.rttMs.toFixed(2), l.messagesOut, l.messagesIn, l.framesInFlight, l.unackedBytes, l.retransmittedFrames, l.reconnects, l.creditStalls]),
            ]),
          ]),
      ...(s.subscriptions.length === 0
        ? []
        : ['', ...table([['SUBSCRIBER', 'ID', 'SUBJECT', 'POLICY', 'DELIVERED', 'DROPPED', 'QUEUED'], ...s.subscriptions.map((x) => [x.address, x.id, x.subject, x.policy, x.delivered, x.dropped, x.queuedBytes])])]),
      '',
      `names here: ${s.directory.map((d) => d.name).join(' ') || '-'}`,
      ...s.remoteDirectory.map((r) => `names on ${r.node}: ${r.names.join(' ') || '-'}${r.subjects.length ? `  subjects: ${r.subjects.join(' ')}` : ''}`),
    ];
    process.stdout.write(lines.join('\n') + '\n');
    return 0;
  },
};
