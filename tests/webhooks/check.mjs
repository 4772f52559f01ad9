// Checks a running profiles-gateway (auth off, on loopback) with clients it did not
// write: each webhook delivery is verified by the `standardwebhooks` package (and a
// tampered one is refused by it), and a `graphql-ws` client subscribed to
// `profileEvents` over graphql-transport-ws sees the same changes. Then graphql-ws
// sees the protocol's close codes: 4408 for a client that initialises too late (the
// server runs with `PROFILES_WEBSOCKET_INIT_TIMEOUT=1s`) and 4409 for a subscribe
// reusing a running id.
//
//   PROFILES_WEBSOCKET_INIT_TIMEOUT=1s profiles-gateway &
//   node check.mjs http://127.0.0.1:8000/graphql
import http from "node:http";
import { Webhook } from "standardwebhooks";
import { createClient } from "graphql-ws";
import WebSocket from "ws";

const endpoint = process.argv[2];
if (!endpoint) {
  console.error("usage: node check.mjs GRAPHQL_URL");
  process.exit(2);
}

async function graphql(query, variables = {}) {
  const response = await fetch(endpoint, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ query, variables }),
  });
  const body = await response.json();
  if (body.errors) throw new Error(JSON.stringify(body.errors));
  return body.data;
}

// The receiver: verifies with the secret once it is known.
let verifier;
const verified = [];
const problems = [];
const receiver = http.createServer((request, response) => {
  let body = "";
  request.on("data", (chunk) => (body += chunk));
  request.on("end", () => {
    try {
      const event = verifier.verify(body, request.headers);
      verified.push(event);
      try {
        verifier.verify(body.replace("profile.", "profile!"), request.headers);
        problems.push("a tampered body verified");
      } catch {
        // refused, as it must be
      }
      response.writeHead(204).end();
    } catch (error) {
      problems.push(`a delivery did not verify: ${error.message}`);
      response.writeHead(400).end();
    }
  });
});
await new Promise((resolve) => receiver.listen(0, "127.0.0.1", resolve));
const hook = `http://127.0.0.1:${receiver.address().port}/hook`;

const created = await graphql(
  `mutation($i: WebhookInput!) { createWebhook(input: $i) { webhook { id } secret userErrors { field code } } }`,
  { i: { url: hook, events: ["*"], description: "standardwebhooks check" } },
);
verifier = new Webhook(created.createWebhook.secret);

const subscriber = createClient({ url: endpoint.replace(/^http/, "ws"), webSocketImpl: WebSocket, lazy: false });
const seen = [];
const subscribed = new Promise((resolve, reject) => {
  subscriber.subscribe(
    { query: "subscription { profileEvents { id type profileId version } }" },
    { next: (message) => seen.push(message.data.profileEvents), error: reject, complete: resolve },
  );
});
subscribed.catch((error) => problems.push(`subscription failed: ${JSON.stringify(error)}`));
await new Promise((resolve) => setTimeout(resolve, 500));

const { createProfile } = await graphql(`mutation { createProfile(input: { firstName: "Ann", email: "ann@example.com" }) { profile { id } } }`);
const id = createProfile.profile.id;
await graphql(`mutation($id: UUID!) { updateProfile(id: $id, input: { lastName: "Lee" }) { profile { version } } }`, { id });

const deadline = Date.now() + 30_000;
while ((verified.length < 2 || seen.length < 2) && problems.length === 0 && Date.now() < deadline) {
  await new Promise((resolve) => setTimeout(resolve, 100));
}
await subscriber.dispose();
receiver.close();

// The code of the close a graphql-ws client made with `options` is told of, after `act(client)`.
function closedWith(options, act = () => {}) {
  let client;
  const closed = new Promise((resolve) => {
    client = createClient({
      url: endpoint.replace(/^http/, "ws"),
      webSocketImpl: WebSocket,
      retryAttempts: 0,
      onNonLazyError: () => {},
      on: { closed: (event) => resolve(event.code) },
      ...options,
    });
    act(client);
    setTimeout(() => resolve("no close within 10 s"), 10_000).unref();
  });
  return closed.finally(() => client.dispose());
}
const late = await closedWith({
  lazy: false,
  connectionParams: () => new Promise((resolve) => setTimeout(() => resolve({}), 2_000)),
});
if (late !== 4408) problems.push(`a connection_init later than the timeout: closed with ${late}, not 4408`);
const ignore = { next: () => {}, error: () => {}, complete: () => {} };
const reused = await closedWith({ lazy: true, generateID: () => "same" }, (client) => {
  client.subscribe({ query: "subscription { profileEvents { id } }" }, ignore);
  client.subscribe({ query: "subscription { profileEvents { id } }" }, ignore);
});
if (reused !== 4409) problems.push(`a subscribe reusing a running id: closed with ${reused}, not 4409`);

const types = (events) => events.map((e) => `${e.type}@${e.version}`).join(", ");
if (verified.length !== 2) problems.push(`2 verified deliveries expected, got ${verified.length}`);
if (seen.length !== 2) problems.push(`2 subscription events expected, got ${seen.length}`);
if (types(verified) !== "profile.created@1, profile.updated@2") problems.push(`deliveries: ${types(verified)}`);
if (types(seen) !== types(verified)) problems.push(`subscription saw ${types(seen)}`);
if (seen.some((e, i) => e.id !== verified[i]?.id)) problems.push("the subscription and the webhook disagree on event ids");
if (problems.length) {
  console.error(problems.join("\n"));
  process.exit(1);
}
console.log(
  `standardwebhooks verified ${verified.length} deliveries; graphql-ws saw ${types(seen)}, then closes ${late} and ${reused}`,
);
process.exit(0);
