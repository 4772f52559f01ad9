// A webhook receiver for bench/events.py: answers 204 to every POST, counts them and
// the distinct webhook-ids. GET /stats → {"requests": n, "distinct": m}; POST /reset.
//   node bench/receiver.mjs   (prints the port it listens on)
import http from "node:http";

let requests = 0;
const ids = new Set();
const server = http.createServer((request, response) => {
  if (request.method === "GET") {
    response.writeHead(200, { "content-type": "application/json" });
    response.end(JSON.stringify({ requests, distinct: ids.size }));
    return;
  }
  if (request.url === "/reset") {
    requests = 0;
    ids.clear();
    response.writeHead(204).end();
    return;
  }
  request.resume();
  request.on("end", () => {
    requests += 1;
    ids.add(request.headers["webhook-id"]);
    response.writeHead(204).end();
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, "127.0.0.1", () => console.log(server.address().port));
