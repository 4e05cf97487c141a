// A small HTTP proxy in front of a test server, for the network faults a client must survive: WebSocket upgrades
// refused (a network that blocks them), upgraded sockets going silent, and answers lost after the server acted.
import { createServer, request, type IncomingMessage } from 'node:http';
import { connect, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

export interface TestProxy {
  url: string;
  /** Where requests and upgrades go from now on (a load balancer moving clients to another instance). */
  target: string;
  /** Requests matching this are answered 404 without reaching the server (an endpoint it does not have). */
  notFound(match: (req: IncomingMessage) => boolean): void;
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
  const upstream = () => new URL(proxy.target);
  let missing = (_req: IncomingMessage) => false;
  const tunnels = new Set<{ client: Socket; backend: Socket }>();
  let lose = { count: 0, match: (_req: IncomingMessage) => false };

  const server = createServer((req, res) => {
    if (missing(req)) {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":{"code":"NOT_FOUND","message":"hidden by the test proxy"}}');
      return;
    }
    const { hostname, port } = upstream();
    const cut = lose.count > 0 && lose.match(req);
    if (cut) lose.count--;
    const forward = request({ host: hostname, port, method: req.method, path: req.url, headers: req.headers }, (answer) => {
      if (cut) {
        proxy.lost++;
        answer.resume();
        res.socket?.destroy();
        return;
      }
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    forward.on('error', () => res.socket?.destroy());
    req.pipe(forward);
  });

  server.on('upgrade', (req, client: Socket, head: Buffer) => {
    if (proxy.refuseUpgrades) {
      proxy.refused++;
      client.destroy();
      return;
    }
    const { hostname, port } = upstream();
    const backend = connect(Number(port), hostname, () => {
      const lines = [`${req.method} ${req.url} HTTP/1.1`];
      for (let i = 0; i < req.rawHeaders.length; i += 2) lines.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`);
      backend.write(`${lines.join('\r\n')}\r\n\r\n`);
      backend.write(head);
      backend.pipe(client).pipe(backend);
    });
    const tunnel = { client, backend };
    tunnels.add(tunnel);
    // A side that closed is ended on the other after what it sent was flushed (a close frame must get through);
    // a side that failed is cut.
    const end = () => {
      tunnels.delete(tunnel);
      client.end();
      backend.end();
    };
    const cut = () => {
      tunnels.delete(tunnel);
      client.destroy();
      backend.destroy();
    };
    client.on('error', cut).on('close', end);
    backend.on('error', cut).on('close', end);
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const proxy: TestProxy = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    target,
    notFound(match) {
      missing = match;
    },
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
