/**
 * How proxies reach and authenticate each other. Three modes:
 *  - `tls`: mutual TLS with certificates from a CA both trust; a peer's node name must be
 *    its certificate's common name (or a DNS subject-alternative name).
 *  - `secret`: TLS 1.3 with a pre-shared key derived from a shared secret: the handshake
 *    only completes between holders of the secret, and everything is encrypted.
 *  - `plaintext`: no authentication or encryption; only when the operator asks for it.
 */
import { hkdfSync } from 'node:crypto';
import net from 'node:net';
import tls from 'node:tls';

export type LinkSecurity =
  | { mode: 'tls'; cert: Buffer; key: Buffer; ca: Buffer }
  | { mode: 'secret'; secret: Buffer }
  | { mode: 'plaintext' };

/** What the transport proved about the other end before any frame is read. */
export interface PeerIdentity {
  /** The node name the authentication vouches for (null in plaintext mode). */
  node: string | null;
}

// AES-GCM first, and the server's order honoured: with AES instructions it is several times
// faster than ChaCha20, which OpenSSL otherwise picked here (see docs/benchmarks.md).
const PSK_CIPHERS = 'TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256';
const TLS_CIPHERS = [PSK_CIPHERS, ...tls.DEFAULT_CIPHERS.split(':').filter((c) => !c.startsWith('TLS_'))].join(':');

function pskFrom(secret: Buffer): Buffer {
  return Buffer.from(hkdfSync('sha256', secret, 'slotlink-link-psk-v1', '', 32));
}

function commonName(cert: tls.PeerCertificate | undefined): string | null {
  const cn: string | string[] | undefined = cert?.subject?.CN;
  return Array.isArray(cn) ? (cn[0] ?? null) : (cn ?? null);
}

function certNames(cert: tls.PeerCertificate): string[] {
  const cn = commonName(cert);
  const names = cn ? [cn] : [];
  for (const part of (cert.subjectaltname ?? '').split(',')) {
    const m = part.trim().match(/^DNS:(.+)$/);
    if (m) names.push(m[1]!);
  }
  return names;
}

/** A listening server, and how to give it new keys without dropping its connections. */
export interface LinkServer {
  server: net.Server;
  /** New certificates or a new secret for the connections that come next (same mode). */
  rotate(security: LinkSecurity): void;
}

/**
 * A listening server; `onSocket` gets each connection once it is authenticated.
 * `onRefused` is told about every connection that failed authentication.
 */
export function createLinkServer(security: LinkSecurity, handshakeTimeoutMs: number, onSocket: (socket: net.Socket, who: PeerIdentity) => void, onRefused: (remote: string, why: string) => void): LinkServer {
  if (security.mode === 'plaintext') return { server: net.createServer((s) => onSocket(s, { node: null })), rotate: () => {} };
  let psk = security.mode === 'secret' ? pskFrom(security.secret) : null;
  const options: tls.TlsOptions =
    security.mode === 'tls'
      ? { cert: security.cert, key: security.key, ca: security.ca, requestCert: true, rejectUnauthorized: true, minVersion: 'TLSv1.2', ciphers: TLS_CIPHERS, honorCipherOrder: true, handshakeTimeout: handshakeTimeoutMs }
      : {
          // Node's default waits 120 s for a silent connection; a peer has no reason to be slow.
          handshakeTimeout: handshakeTimeoutMs,
          // The identity a client sends is the node name it claims; its HELLO must match.
          pskCallback: (s, identity) => {
            (s as tls.TLSSocket & { slotlinkIdentity?: string }).slotlinkIdentity = identity;
            return psk!;
          },
          ciphers: PSK_CIPHERS,
          honorCipherOrder: true,
          minVersion: 'TLSv1.3',
        };
  const server = tls.createServer(options, (socket) => {
    const node = security.mode === 'tls' ? commonName(socket.getPeerCertificate()) : pskIdentity(socket);
    onSocket(socket, { node });
  });
  server.on('tlsClientError', (err, socket) => {
    onRefused(`${socket.remoteAddress}:${socket.remotePort}`, err.message.split('\n')[0]!);
    // With a listener for this event Node leaves the socket open (a handshake timeout included).
    socket.destroy();
  });
  const rotate = (next: LinkSecurity) => {
    if (next.mode === 'secret') psk = pskFrom(next.secret);
    else if (next.mode === 'tls') server.setSecureContext({ cert: next.cert, key: next.key, ca: next.ca, minVersion: 'TLSv1.2', ciphers: TLS_CIPHERS, honorCipherOrder: true });
  };
  return { server, rotate };
}

/** With a PSK, the identity the client sent is its node name. */
function pskIdentity(socket: tls.TLSSocket): string | null {
  return (socket as tls.TLSSocket & { slotlinkIdentity?: string }).slotlinkIdentity ?? null;
}

/**
 * Dials a peer and resolves once the transport is authenticated; `expectedNode` is the
 * node the peer must prove to be (certificate name) where the mode can tell.
 */
export function dialLink(security: LinkSecurity, host: string, port: number, localNode: string, expectedNode: string, timeoutMs: number): Promise<{ socket: net.Socket; who: PeerIdentity }> {
  return new Promise((resolve, reject) => {
    let socket: net.Socket;
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no answer from ${host}:${port} within ${timeoutMs} ms`));
    }, timeoutMs);
    const done = (who: PeerIdentity) => {
      clearTimeout(timer);
      socket.off('error', fail);
      resolve({ socket, who });
    };
    const fail = (err: Error) => {
      clearTimeout(timer);
      socket.destroy();
      reject(err);
    };
    if (security.mode === 'plaintext') {
      socket = net.connect({ host, port }, () => done({ node: null }));
    } else if (security.mode === 'tls') {
      socket = tls.connect(
        {
          host,
          port,
          cert: security.cert,
          key: security.key,
          ca: security.ca,
          minVersion: 'TLSv1.2',
          checkServerIdentity: (_host, cert) =>
            certNames(cert).includes(expectedNode) ? undefined : new Error(`peer certificate names ${certNames(cert).join(', ') || 'nothing'}, expected node "${expectedNode}"`),
        },
        () => done({ node: commonName((socket as tls.TLSSocket).getPeerCertificate()) }),
      );
    } else {
      const psk = pskFrom(security.secret);
      socket = tls.connect(
        { host, port, pskCallback: () => ({ psk, identity: localNode }), ciphers: PSK_CIPHERS, minVersion: 'TLSv1.3', checkServerIdentity: () => undefined },
        () => done({ node: expectedNode }),
      );
    }
    socket.once('error', fail);
  });
}
