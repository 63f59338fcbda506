/** `slotlink proxy`: run the proxy daemon until SIGTERM/SIGINT, then drain and exit; SIGHUP reloads its configuration. */
import { createLogger, defaultLogLevel, LogLevel } from '../log.js';
import { Proxy } from '../proxy/proxy.js';
import type { Command } from './args.js';
import { logFormat, logLevel, proxyFlags, proxyHelp, proxyOptions, reloadOptions, settingsFrom, unreloadable } from './proxy-config.js';

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
    let v = settingsFrom(flags);
    const log = createLogger({ pretty: logFormat(v) === 'pretty', level: logLevel(v) });
    const proxy = new Proxy({ ...proxyOptions(v), logger: log });
    await proxy.start();
    // SIGHUP reads the configuration again and applies what may change while running.
    process.on('SIGHUP', () => {
      try {
        const next = settingsFrom(flags);
        const fixed = unreloadable(v, next);
        if (fixed.length > 0) {
          log.error('configuration reload refused: these settings change only with a restart', { keys: fixed });
          return;
        }
        const level = logLevel(next) ?? defaultLogLevel();
        const { added, removed } = proxy.reload(reloadOptions(next));
        v = next;
        // Said at the more verbose of the old and new level, so a reload that quiets the log
        // and one that makes it louder both say so.
        const louder = LogLevel[level] < LogLevel[log.level];
        if (louder) log.setLevel(level);
        log.info('configuration reloaded', { peersAdded: added, peersRemoved: removed, logLevel: level });
        if (!louder) log.setLevel(level);
      } catch (err) {
        log.error('configuration reload refused', { err });
      }
    });
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
