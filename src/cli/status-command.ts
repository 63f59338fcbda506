/** `slotlink status`: the proxy's slots and directory, as a table or JSON. */
import { requestStatus } from '../client/registration.js';
import { defaultSocketPath } from '../defaults.js';
import type { ProxyStats } from '../proxy/stats.js';
import type { Command } from './args.js';

export const statusCommand: Command = {
  name: 'status',
  summary: 'show the proxy\'s slots, counters and directory',
  usage: `Usage: slotlink status [--socket PATH] [--json]

Asks the proxy on PATH for a snapshot of its slots (name, pid, messages and bytes in
and out, batches, doorbells, back-pressure), its links to other proxies (state, round
trip, frames, resends, reconnects, credit stalls) and the names it knows.`,
  options: { socket: { type: 'string' }, json: { type: 'boolean' } },
  async run(v) {
    const s = (await requestStatus(String(v.socket ?? defaultSocketPath()))) as ProxyStats;
    if (v.json) {
      process.stdout.write(JSON.stringify(s, null, 2) + '\n');
      return 0;
    }
    const lines = [
      `node ${s.node}  pid ${s.pid}  socket ${s.socket}  up ${(s.uptimeMs / 1000).toFixed(0)} s  registrations ${s.registrations}  evictions ${s.evictions}`,
      `routed ${s.router.routed}  no-route ${s.router.noRoute}  replies-dropped ${s.router.repliesDropped}`,
      '',
      ['SLOT', 'NAME', 'PID', 'MSGS IN', 'MSGS OUT', 'BYTES IN', 'BYTES OUT', 'BATCHES IN', 'BELLS RUNG', 'BELLS SAVED', 'QUEUED', 'BP WAITS'].join('\t'),
      ...s.slots.map((x) => [x.id, x.address, x.pid, x.messagesIn, x.messagesOut, x.bytesIn, x.bytesOut, x.cellsIn, x.doorbellsRung, x.doorbellsSaved, x.queuedBytes, x.backPressureWaits].join('\t')),
      ...(s.links.length === 0 ? [] : ['', ['PEER', 'STATE', 'SINCE', 'RTT MS', 'FRAMES OUT', 'FRAMES IN', 'UNACKED', 'RESENT', 'RECONNECTS', 'CREDIT STALLS'].join('\t')]),
      ...s.links.map((l) => [l.peer, l.status.state, new Date(l.status.since).toISOString(), l.rttMs === null ? '-' : l.rttMs.toFixed(2), l.framesOut, l.framesIn, l.unackedBytes, l.retransmittedFrames, l.reconnects, l.creditStalls].join('\t')),
      '',
      `names here: ${s.directory.map((d) => d.name).join(' ') || '-'}`,
      ...s.remoteDirectory.map((r) => `names on ${r.node}: ${r.names.join(' ') || '-'}`),
    ];
    process.stdout.write(lines.join('\n') + '\n');
    return 0;
  },
};
