// A small HTTP proxy in front of a test server, for the network faults a client must survive: WebSocket upgrades
// refused (a network that blocks them), upgraded sockets going silent, and answers lost after the server acted.
import { createServer, request, type IncomingMessage } from 'node:http';
import { connect, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

export interface TestProxy {
  url: string;
  /** Refuse WebSocket upgrades (the connection is dropped, as by a proxy that does not speak them). */
  refuseUpgrades: boolean;
  /** Upgrades refused so far. */
  refused: number;
  /** Stops passing anything from the server on the WebSocket connections open now. */
  silenceSockets(): void;
  /** The server gets the next `count` requests matching `match`, the client's connection is cut before the answer. */
  loseAnswers(count: number, match: (req: IncomingMessage) => boolean): void;
  /** Requests whose answer was cut. */
  lost: number;
  close(): Promise<void>;
}

export async function startProxy(target: string): Promise<TestProxy> {
  const upstream = new URL(target);
  const tunnels = new Set<{ client: Socket; backend: Socket }>();
  let lose = { count: 0, match: (_req: IncomingMessage) => false };

  const server = createServer((req, res) => {
    const cut = lose.count > 0 && lose.match(req);
    if (cut) lose.count--;
    const forward = request(
      { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers },
      (answer) => {
        if (cut) {
          proxy.lost++;
          answer.resume();
          res.socket?.destroy();
          return;
        }
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    forward.on('error', () => res.socket?.destroy());
    req.pipe(forward);
  });

  server.on('upgrade', (req, client: Socket, head: Buffer) => {
    if (proxy.refuseUpgrades) {
      proxy.refused++;
      client.destroy();
      return;
    }
    const backend = connect(Number(upstream.port), upstream.hostname, () => {
      const lines = [`${req.method} ${req.url} HTTP/1.1`];
      for (let i = 0; i < req.rawHeaders.length; i += 2) lines.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`);
      backend.write(`${lines.join('\r\n')}\r\n\r\n`);
      backend.write(head);
      backend.pipe(client).pipe(backend);
    });
    const tunnel = { client, backend };
    tunnels.add(tunnel);
    const end = () => {
      tunnels.delete(tunnel);
      client.destroy();
      backend.destroy();
    };
    client.on('error', end).on('close', end);
    backend.on('error', end).on('close', end);
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const proxy: TestProxy = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    refuseUpgrades: false,
    refused: 0,
    lost: 0,
    silenceSockets() {
      for (const { client, backend } of tunnels) {
        backend.unpipe(client);
        backend.pause();
      }
    },
    loseAnswers(count, match) {
      lose = { count, match };
    },
    async close() {
      for (const { client, backend } of tunnels) {
        client.destroy();
        backend.destroy();
      }
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
  return proxy;
}
