// A child process of the idle scenario holding one slice of the sockets: the file-descriptor limit is 20,000 per
// process, so the client side of ~20,000 sockets needs more than one process. Protocol over the IPC channel:
//   parent {cmd:'init', …} → child mints its tokens → {ready:true}
//   parent {cmd:'go'}      → child connects        → {connected, failed, firstError, ms, closedEarly}
//   parent {cmd:'close'}   → child closes everything and exits.
import { connectMany, type Conn, type ConnectSpec, type Transport } from './clients.ts';
import { tokenMinter } from './lib.ts';

interface Init {
  cmd: 'init';
  transport: Transport;
  port: number;
  secret: string;
  /** Connection numbers [from, from + count); connection j belongs to user 1 + floor(j / devices). */
  from: number;
  count: number;
  devices: number;
  concurrency: number;
  budgetMs: number;
}

const LIFETIME_MS = 15 * 60_000; // a forgotten worker still ends
setTimeout(() => process.exit(2), LIFETIME_MS).unref();

let init: Init;
const specs: ConnectSpec[] = [];
let conns: Conn[] = [];
let closedEarly = 0;

process.on('message', async (msg: { cmd: string } & Partial<Init>) => {
  if (msg.cmd === 'init') {
    init = msg as Init;
    const mint = tokenMinter(init.secret);
    for (let j = init.from; j < init.from + init.count; j++) {
      const userId = 1 + Math.floor(j / init.devices);
      specs.push({ userId, token: await mint(userId), on: (type: string) => type === 'close' && closedEarly++ });
    }
    process.send!({ ready: true });
  } else if (msg.cmd === 'go') {
    const rep = await connectMany(init.transport, init.port, specs, init.concurrency, init.budgetMs);
    conns = rep.conns;
    process.send!({ connected: conns.length, failed: rep.failed, firstError: rep.firstError, ms: rep.ms, closedEarly });
  } else if (msg.cmd === 'status') {
    process.send!({ open: conns.length - closedEarly, closedEarly });
  } else if (msg.cmd === 'close') {
    for (const c of conns) c.close();
    setTimeout(() => process.exit(0), 200);
  }
});
