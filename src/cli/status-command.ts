/** `slotlink status`: the proxy's slots and directory, as a table or JSON. */
import { requestStatus } from '../client/registration.js';
import { defaultSocketPath } from '../contract/defaults.js';
import type { ProxyStats } from '../proxy/stats.js';
import type { Command } from './args.js';
import { table } from './table.js';

export const statusCommand: Command = {
  name: 'status',
  summary: 'show the proxy\'s slots, counters and directory',
  usage: `Usage: slotlink status [--socket PATH] [--json]

Asks the proxy on PATH for a snapshot of its slots (name, pid, messages and bytes in
and out, batches, doorbells, back-pressure), its links to other proxies (state, round
trip, messages, frames in flight, resends, reconnects, credit stalls) and the names it
knows.`,
  options: { socket: { type: 'string' }, json: { type: 'boolean' } },
  async run(v) {
    const s = (await requestStatus(String(v.socket ?? defaultSocketPath()))) as ProxyStats;
    if (v.json) {
      process.stdout.write(JSON.stringify(s, null, 2) + '\n');
      return 0;
    }
    const lines = [
      `node ${s.node}  pid ${s.pid}  socket ${s.socket}  up ${(s.uptimeMs / 1000).toFixed(0)} s  registrations ${s.registrations} (refused ${s.registrationsRefused}, timed out ${s.registrationTimeouts})  evictions ${s.evictions}`,
      `routed ${s.router.routed}  no-route ${s.router.noRoute}  replies-dropped ${s.router.repliesDropped}  replies-refused ${s.router.repliesRefused}  requests-refused ${s.router.requestsRefused}`,
      '',
      ...table([
        ['SLOT', 'PID', 'MSGS IN', 'MSGS OUT', 'BYTES IN', 'BYTES OUT', 'BATCHES IN', 'BELLS RUNG', 'BELLS SAVED', 'QUEUED', 'BP WAITS'],
        ...s.slots.map((x) => [x.address, x.pid, x.messagesIn, x.messagesOut, x.bytesIn, x.bytesOut, x.cellsIn, x.doorbellsRung, x.doorbellsSaved, x.queuedBytes, x.backPressureWaits]),
      ]),
      ...(s.links.length === 0
        ? []
        : [
            '',
            ...table([
              ['PEER', 'STATE', 'SINCE', 'RTT MS', 'MSGS OUT', 'MSGS IN', 'IN FLIGHT', 'UNACKED B', 'RESENT', 'RECONNECTS', 'CREDIT STALLS'],
              ...s.links.map((l) => [l.peer, l.status.state, new Date(l.status.since).toISOString(), l.rttMs === null ? '-' : l.rttMs.toFixed(2), l.messagesOut, l.messagesIn, l.framesInFlight, l.unackedBytes, l.retransmittedFrames, l.reconnects, l.creditStalls]),
            ]),
          ]),
      '',
      `names here: ${s.directory.map((d) => d.name).join(' ') || '-'}`,
      ...s.remoteDirectory.map((r) => `names on ${r.node}: ${r.names.join(' ') || '-'}`),
    ];
    process.stdout.write(lines.join('\n') + '\n');
    return 0;
  },
};
