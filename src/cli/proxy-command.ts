/** `slotlink proxy`: run the proxy daemon until SIGTERM/SIGINT, then drain and exit. */
import { createLogger } from '../log.js';
import { Proxy } from '../proxy/proxy.js';
import type { Command } from './args.js';
import { logFormat, proxyFlags, proxyHelp, proxyOptions, settingsFrom } from './proxy-config.js';

/** What a proxy started with an IPC channel (by startProxyProcess) tells its parent once it listens. */
export interface ProxyReady {
  event: 'proxy-ready';
  socket: string;
  linkPort: number | null;
  metricsPort: number | null;
  incarnation: string;
}

export const proxyCommand: Command = {
  name: 'proxy',
  summary: 'run the proxy daemon for this host',
  get usage() {
    return proxyHelp();
  },
  options: proxyFlags(),
  async run(flags: Record<string, unknown>) {
    const v = settingsFrom(flags);
    const proxy = new Proxy({ ...proxyOptions(v), logger: createLogger({ pretty: logFormat(v) === 'pretty' }) });
    await proxy.start();
    if (process.send) {
      const ready: ProxyReady = { event: 'proxy-ready', socket: proxy.socketPath, linkPort: proxy.linkPort, metricsPort: proxy.metricsPort, incarnation: proxy.incarnation };
      process.send(ready);
      process.channel?.unref(); // the channel must not keep the proxy alive, nor its end stop it
    }
    await new Promise<void>((resolve) => {
      const stop = () => resolve();
      process.once('SIGTERM', stop);
      process.once('SIGINT', stop);
    });
    await proxy.stop();
    return 0;
  },
};
