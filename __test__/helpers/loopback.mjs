// A server of the package's compatible API and client sessions of it over loopback, for
// the tests of the server API. `rtmpApi` is the package as the test file loaded it (the
// test-hooks tests load it with a test-hooks addon).
import net from 'node:net';
import { once } from 'node:events';

/** Starts a server on a loopback port; resolves { server, port }. */
export async function startServer(rtmpApi, onSession, options) {
  const server = rtmpApi.rtmpServer().createServer(onSession, options);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, port: server.address().port };
}

/** Connects a client session (rtmpSession over a net.Socket); resolves once its handshake is done. */
export function connectClient(rtmpApi, port) {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1');
    sock.on('error', reject);
    rtmpApi.rtmpSession(sock, true, function () {
      resolve({ session: this, sock });
    });
  });
}
