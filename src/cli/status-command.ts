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
and out, batches, doorbells, back-pressure) and its directory.`,
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
    ];
    process.stdout.write(lines.join('\n') + '\n');
    return 0;
  },
};
