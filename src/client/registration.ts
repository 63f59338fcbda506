/**
 * Registering with the proxy from a process. The socket is connected and read by the
 * addon until the welcome arrives, because the welcome carries the slot's descriptors
 * (SCM_RIGHTS) and a libuv stream read would discard them. Afterwards the same socket
 * becomes an ordinary net.Socket that stays open for the life of the process.
 */
import net from 'node:net';
import { NotPermittedError, ProxyUnavailableError, RegistrationError, SyscallError, errorFromWire } from '../errors.js';
import { native } from '../native/binding.js';
import { ControlDecoder, ControlOp, MAX_STATUS_FRAME, encodeControl, type ControlFrame, type ProcessHello, type Welcome } from '../contract/registration.js';

export interface Registration {
  welcome: Welcome;
  /** memfd, proxy doorbell, process doorbell. */
  fds: [number, number, number];
  socket: net.Socket;
  /** Frames that arrived right after the welcome. */
  more: ControlFrame[];
}

export function register(socketPath: string, hello: ProcessHello, timeoutMs: number): Promise<Registration> {
  let fd: number;
  try {
    fd = native.unixConnect(socketPath);
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'ENOENT' || code === 'ECONNREFUSED') return Promise.reject(new ProxyUnavailableError(socketPath, err));
    if (code === 'EACCES' || code === 'EPERM')
      return Promise.reject(new NotPermittedError(`uid ${process.getuid?.()} may not open the proxy's socket ${socketPath}: run as the proxy's user or as a member of its --group`));
    return Promise.reject(new SyscallError(`connecting to ${socketPath}`, err));
  }
  try {
    native.sendFds(fd, encodeControl(hello), []);
  } catch (err) {
    native.close(fd);
    return Promise.reject(new SyscallError('sending hello to the proxy', err));
  }
  return new Promise((resolve, reject) => {
    const decoder = new ControlDecoder();
    const fds: number[] = [];
    let done = false;
    const finish = (err: Error | null, frames: ControlFrame[] = []) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      watcher.close();
      if (err) {
        for (const f of fds) native.close(f);
        native.close(fd);
        reject(err);
        return;
      }
      const welcome = frames[0] as Welcome;
      const socket = new net.Socket({ fd, readable: true, writable: true });
      resolve({ welcome, fds: fds as [number, number, number], socket, more: frames.slice(1) });
    };
    const onReadable = () => {
      for (;;) {
        let got;
        try {
          got = native.recvFds(fd, 64 * 1024);
        } catch (err) {
          return finish(new SyscallError('reading the proxy\'s answer', err));
        }
        if (got === null) return;
        fds.push(...got.fds);
        if (got.truncated) return finish(new RegistrationError('the proxy sent more descriptors than expected'));
        if (got.data.length === 0) return finish(new RegistrationError(`the proxy at ${socketPath} closed the connection before answering`));
        let frames: ControlFrame[];
        try {
          frames = decoder.push(got.data);
        } catch (err) {
          return finish(err as Error);
        }
        if (frames.length === 0) continue;
        const first = frames[0]!;
        if (first.op === ControlOp.REFUSED) return finish(errorFromWire(first.code, first.message));
        if (first.op !== ControlOp.WELCOME) return finish(new RegistrationError(`expected a welcome from the proxy, got "${first.op}"`));
        if (fds.length !== 3) return finish(new RegistrationError(`the welcome carried ${fds.length} descriptors, expected 3`));
        return finish(null, frames);
      }
    };
    const watcher = new native.Watcher(fd, onReadable, false);
    watcher.start();
    const timer = setTimeout(() => finish(new RegistrationError(`no answer from the proxy at ${socketPath} within ${timeoutMs} ms`)), timeoutMs);
  });
}

/** Asks a proxy for its stats snapshot over the registration socket. */
export function requestStatus(socketPath: string, timeoutMs = 5000): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const decoder = new ControlDecoder(MAX_STATUS_FRAME);
    const socket = net.connect(socketPath);
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new RegistrationError(`no status from the proxy at ${socketPath} within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.on('connect', () => socket.write(encodeControl({ op: ControlOp.STATUS })));
    socket.on('data', (chunk: Buffer) => {
      try {
        for (const f of decoder.push(chunk)) {
          if (f.op === ControlOp.STATUS && 'status' in f) {
            clearTimeout(timer);
            socket.destroy();
            resolve(f.status);
          }
        }
      } catch (err) {
        clearTimeout(timer);
        socket.destroy();
        reject(err);
      }
    });
    socket.on('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(err.code === 'ENOENT' || err.code === 'ECONNREFUSED' ? new ProxyUnavailableError(socketPath, err) : err);
    });
  });
}
