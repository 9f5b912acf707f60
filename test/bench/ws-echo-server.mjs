// The reference for the WebSocket echo benchmark: node's ws as an echo server, with
// the defaults a node app would use (no compression: the load generator offers none).
// Prints "listening on ws://127.0.0.1:PORT" once ready.
import { WebSocketServer } from 'ws';

const wss = new WebSocketServer({ host: '127.0.0.1', port: Number(process.argv[2] || 0), perMessageDeflate: false });
wss.on('connection', (ws) => {
  ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
});
wss.on('listening', () => console.log(`listening on ws://127.0.0.1:${wss.address().port}`));
process.on('SIGTERM', () => wss.close(() => process.exit(0)));
