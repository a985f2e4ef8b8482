// The live server on every core, with node:cluster. The workers listen on one port:
// the native listener does not go through cluster's handle sharing, so each worker
// binds the port itself with SO_REUSEPORT (`reusePort`, on by default in a worker) and
// the kernel spreads incoming connections across them.
//
//   PORT=1935 WORKERS=4 node examples/cluster.js
//
// Publishers and players meet whichever worker they reach: the primary runs an origin
// on a private loopback port, each worker pushes the publications it receives to it
// (examples/push.js) and pulls from it the streams its players watch that another
// worker has (examples/edge.js). A stream published and played in one worker stays
// there; one played in several workers crosses to the origin once and to each of them
// once.
//
// Each worker prints "worker PID accepted HOST:PORT" for every connection (not with
// RTMP_QUIET=1). A worker that dies after it listened is replaced.

'use strict';

const cluster = require('node:cluster');
const os = require('node:os');
const { createLiveServer, combineHooks, sayer } = require('./server.js');
const { edgeHooks } = require('./edge.js');
const { pushHooks } = require('./push.js');

const quiet = Boolean(process.env.RTMP_QUIET);

function runPrimary() {
  const workers = Number(process.env.WORKERS || os.availableParallelism());
  const origin = createLiveServer({ quiet: true });
  const listening = new Set();
  let port;
  let announced = false;
  // The first worker binds $PORT (0: any free port); the others bind the port it got.
  const fork = () => cluster.fork({
    PORT: String(port ?? process.env.PORT ?? 1935),
    ORIGIN: `rtmp://127.0.0.1:${origin.address().port}`,
  });
  cluster.on('message', (worker, msg) => {
    if (!msg || msg.listening === undefined) return;
    listening.add(worker.id);
    if (port === undefined) {
      port = msg.listening;
      for (let i = 1; i < workers; i++) fork();
    }
    if (listening.size === workers && !announced) {
      announced = true;
      console.log(`RTMP server listening on rtmp://127.0.0.1:${port}/live (${workers} workers)`);
    }
  });
  cluster.on('exit', (worker, code, signal) => {
    if (!listening.delete(worker.id)) {
      console.error(`worker ${worker.process.pid} exited (${signal || code}) before it listened`);
      process.exit(1);
    }
    console.error(`worker ${worker.process.pid} exited (${signal || code}); starting another`);
    fork();
  });
  origin.listen(0, '127.0.0.1', fork);
}

function runWorker() {
  const origin = process.env.ORIGIN;
  const say = sayer(quiet);
  const server = createLiveServer({
    quiet,
    ...combineHooks(
      edgeHooks({ origin, say }),
      pushHooks({ urlFor: (stream) => `${origin}/${stream.name}`, say }),
    ),
  });
  server.on('error', (err) => {
    console.error(`worker ${process.pid}: ${err.code} ${err.message}`);
    process.exit(1);
  });
  if (!quiet) {
    server.on('connection', (sock) => console.log(`worker ${process.pid} accepted ${sock.remoteAddress}:${sock.remotePort}`));
  }
  server.listen(Number(process.env.PORT), () => process.send({ listening: server.address().port }));
}

if (cluster.isPrimary) runPrimary();
else runWorker();
