// A real MQTT broker that speaks only MQTT 3.1/3.1.1 (aedes 1.x), for the
// MQTT 5 fallback test. Listens on 127.0.0.1 on a free port and prints
// "listening PORT" once ready; stops on SIGTERM.
'use strict';
const net = require('net');
const { Aedes } = require('aedes');

async function main () {
  const broker = await (Aedes.createBroker ? Aedes.createBroker() : new Aedes());
  const server = net.createServer(broker.handle);
  server.listen(0, '127.0.0.1', () => {
    process.stdout.write(`listening ${server.address().port}\n`);
  });
  const stop = () => { server.close(); broker.close(() => process.exit(0)); };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}
main().catch((e) => { console.error(e); process.exit(1); });
