// Datastar server-sent events from Node, exactly as the SDK specification says.
// Run: node examples/sse-server.mjs (serves one stream, reads it back, exits)
import http from 'node:http';
import { sse } from 'nitro-wasm/datastar';

const server = http.createServer((req, res) => {
  const stream = sse(res);
  stream.patchSignals({ n: 1 });
  stream.patchElements('<p id="x">hi</p>');
  stream.close();
});
server.listen(0, '127.0.0.1', async () => {
  const res = await fetch(`http://127.0.0.1:${server.address().port}/`);
  console.log(res.headers.get('content-type'));
  console.log(await res.text());
  server.close();
});
