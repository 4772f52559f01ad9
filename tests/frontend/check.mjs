// Checks a running profiles-gateway with the clients frontend teams use:
//  - Apollo Client's persisted-queries link against PROFILES_DOCUMENTS=apq: a miss,
//    the retry with the text, then the hash alone (POST, and GET for hashed queries);
//  - a manifest made by @apollo/generate-persisted-query-manifest (npm run manifest),
//    which the second server loaded in allowlist mode: the app's operations run by id
//    with no text ever sent, and text that is not in the manifest is refused.
// Usage: node check.mjs APQ_URL ALLOWLIST_URL
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { ApolloClient, HttpLink, InMemoryCache, gql } from "@apollo/client/core/index.js";
import { createPersistedQueryLink } from "@apollo/client/link/persisted-queries/index.js";
import { generatePersistedQueryIdsFromManifest } from "@apollo/persisted-query-lists";
import { CREATE, FIRST_PROFILES, PROFILE, TIERS } from "./src/operations.js";

const [apqUrl, allowlistUrl] = process.argv.slice(2);
if (!apqUrl || !allowlistUrl) {
  console.error("usage: node check.mjs APQ_URL ALLOWLIST_URL");
  process.exit(2);
}

const sha256 = (text) => createHash("sha256").update(text).digest("hex");

/** A fetch that records what each request sent: its method, and its body or parameters. */
function recording() {
  const sent = [];
  const recorded = async (uri, options) => {
    if (options.method === "GET") {
      const params = new URL(uri).searchParams;
      const json = (name) => (params.has(name) ? JSON.parse(params.get(name)) : undefined);
      sent.push({ method: "GET", query: params.get("query") ?? undefined, extensions: json("extensions") });
    } else {
      const body = JSON.parse(options.body);
      sent.push({ method: options.method, query: body.query, extensions: body.extensions });
    }
    return fetch(uri, options);
  };
  return { sent, fetch: recorded };
}

function client(link) {
  return new ApolloClient({ link, cache: new InMemoryCache(), defaultOptions: { query: { fetchPolicy: "network-only" } } });
}

// 1. APQ: miss, retry with the text, then the hash alone.
{
  const { sent, fetch } = recording();
  const apollo = client(createPersistedQueryLink({ sha256 }).concat(new HttpLink({ uri: apqUrl, fetch })));
  const first = await apollo.query({ query: TIERS });
  assert.deepEqual(first.data.tiers, []);
  assert.equal(sent.length, 2, "a miss, then the text");
  assert.equal(sent[0].query, undefined, "the first request sends the hash alone");
  assert.ok(sent[0].extensions.persistedQuery.sha256Hash, "with the hash");
  assert.ok(sent[1].query.includes("tiers"), "the retry sends the text");
  await apollo.query({ query: TIERS });
  assert.equal(sent.length, 3, "the server kept it: one request");
  assert.equal(sent[2].query, undefined, "the hash alone");

  const created = await apollo.mutate({ mutation: CREATE, variables: { firstName: "Ada" } });
  assert.deepEqual(created.data.createProfile.userErrors, []);
  const id = created.data.createProfile.profile.id;

  // GET for hashed queries, as a CDN-minded app sends them.
  const get = recording();
  const viaGet = client(
    createPersistedQueryLink({ sha256, useGETForHashedQueries: true }).concat(new HttpLink({ uri: apqUrl, fetch: get.fetch })),
  );
  for (let round = 0; round < 2; round++) {
    const read = await viaGet.query({ query: PROFILE, variables: { id } });
    assert.equal(read.data.profile.firstName, "Ada");
  }
  const methods = get.sent.map((r) => `${r.method} ${r.query === undefined ? "hash" : "text"}`);
  assert.deepEqual(methods, ["GET hash", "POST text", "GET hash"], "miss, text, then the hash over GET");
  console.log(`apq: ${sent.length + get.sent.length} requests, as Apollo Client's link expects`);
}

// 2. A manifest from @apollo/generate-persisted-query-manifest, in allowlist mode.
{
  const manifest = JSON.parse(readFileSync(new URL("./persisted-query-manifest.json", import.meta.url)));
  for (const operation of manifest.operations) {
    assert.equal(operation.id, sha256(operation.body), "the generator's ids are the documents' SHA-256");
  }
  const { sent, fetch } = recording();
  const link = createPersistedQueryLink(generatePersistedQueryIdsFromManifest({ loadManifest: () => manifest }));
  const apollo = client(link.concat(new HttpLink({ uri: allowlistUrl, fetch })));
  const created = await apollo.mutate({ mutation: CREATE, variables: { firstName: "Grace" } });
  assert.deepEqual(created.data.createProfile.userErrors, []);
  const read = await apollo.query({ query: PROFILE, variables: { id: created.data.createProfile.profile.id } });
  assert.equal(read.data.profile.firstName, "Grace");
  assert.deepEqual((await apollo.query({ query: TIERS })).data.tiers, []);
  const page = await apollo.query({ query: FIRST_PROFILES, variables: { first: 5 } });
  assert.deepEqual(page.data.profiles.nodes.map((p) => p.firstName), ["Grace"]);
  assert.equal(sent.length, 4, "one request each");
  assert.ok(sent.every((r) => r.query === undefined), "no text was sent");

  // Text that is not in the manifest: refused, by a plain client.
  const plain = client(new HttpLink({ uri: allowlistUrl }));
  const refused = await plain.query({ query: gql`query Other { tiers { name } }`, errorPolicy: "all" }).catch((e) => e);
  const errors = refused.errors ?? refused.graphQLErrors ?? refused.networkError?.result?.errors;
  assert.equal(errors?.[0]?.extensions?.code, "PERSISTED_QUERY_REQUIRED", JSON.stringify(refused));
  console.log(`allowlist: ${manifest.operations.length} manifest operations ran by id; other text refused`);
}
