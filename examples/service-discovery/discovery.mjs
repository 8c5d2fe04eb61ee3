// @ts-check
// Service discovery. A service instance registers itself as an ephemeral node
// /services/<service>/<address>: it is there while the instance's session lives, and goes
// by itself when the process dies (once the server expires its session) or at once when it
// stops cleanly. A client lists the instances and follows every change with a persistent
// watch on the service's node.
//
//   node discovery.mjs register SERVICE ADDRESS [connectString]   # e.g. register api 10.0.0.7:8080
//   node discovery.mjs watch SERVICE [connectString]
//
// connectString defaults to CORRAL_CONNECT, else 127.0.0.1:2181. Both run until SIGTERM or
// Ctrl-C. A killed instance stays listed for up to the session timeout (10 s requested
// here; the server may clamp it): pick it to suit how fast clients must stop calling it.

import { connect, ZooKeeperError } from "corral";

const [command, service, ...rest] = process.argv.slice(2);
const address = command === "register" ? rest.shift() : undefined;
const connectString = rest[0] ?? process.env.CORRAL_CONNECT ?? "127.0.0.1:2181";
if ((command !== "register" && command !== "watch") || service === undefined || (command === "register" && address === undefined)) {
  console.error("usage: discovery.mjs register SERVICE ADDRESS [connectString] | watch SERVICE [connectString]");
  process.exit(64);
}

const SERVICES = "/services";
const dir = `${SERVICES}/${service}`;
const client = await connect(connectString, { sessionTimeoutMs: 10_000 });

/** @param {unknown} e @param {string} code */
const isCode = (e, code) => e instanceof ZooKeeperError && e.code === code;

/** Creates a persistent node unless it exists. */
async function createIfMissing(/** @type {string} */ path) {
  try {
    await client.create(path);
  } catch (e) {
    if (!isCode(e, "NodeExists")) throw e;
  }
}

// ---- an instance: register, stay registered, deregister --------------------------------------

async function register(/** @type {string} */ addr) {
  const node = `${dir}/${addr}`;
  const data = JSON.stringify({ address: addr, pid: process.pid });
  /** Sessions this process had before: their node may linger until they expire. */
  const previous = new Set();
  client.on("connectionState", (state, info) => {
    // A new session after LOST: the old one's ephemeral is gone (or about to be); register again.
    if (state === "RECONNECTED" && info.previousSessionId !== undefined) {
      previous.add(info.previousSessionId);
      createNode().then(
        () => console.log(`registered ${node} again, on a new session`),
        (e) => console.error(`registering again failed: ${e instanceof Error ? e.message : e}`),
      );
    }
  });
  const createNode = async () => {
    for (;;) {
      try {
        await client.create(node, data, { mode: "ephemeral" });
        return;
      } catch (e) {
        if (!isCode(e, "NodeExists")) throw e;
        const stat = await client.exists(node);
        if (stat === null) continue;
        if (stat.ephemeralOwner === client.sessionId) return; // ours: a re-sent create went through
        if (!previous.has(stat.ephemeralOwner)) throw new Error(`${node} is registered by another session`);
        await client.delete(node, { version: stat.version }).catch((e) => {
          if (!isCode(e, "NoNode")) throw e;
        });
      }
    }
  };
  await createIfMissing(SERVICES);
  await createIfMissing(dir);
  await createNode();
  console.log(`registered ${node}`);
  // Stands in for the service's own work (an HTTP server, say) that keeps the process up,
  // also while the client reconnects.
  const release = client.holdOpen();
  onStop(async () => {
    release();
    await client.close(); // the ephemeral node goes with the session, now
    console.log(`deregistered ${node}`);
  });
}

// ---- a client: list, and follow the changes --------------------------------------------------

async function watch() {
  let shown = "";
  let listing = Promise.resolve();
  const list = () => {
    listing = listing.then(async () => {
      /** @type {string[]} */
      let instances;
      try {
        instances = (await client.getChildren(dir)).sort();
      } catch (e) {
        if (!isCode(e, "NoNode")) throw e;
        instances = [];
      }
      const line = `instances ${service}: ${instances.length === 0 ? "(none)" : instances.join(", ")}`;
      if (line !== shown) console.log((shown = line));
    }).catch((e) => console.error(`listing failed: ${e instanceof Error ? e.message : e}`));
  };
  // A persistent watch on the service node fires on each child added or removed (and on
  // the node's creation); it stays armed through reconnects and after a session loss.
  await client.addWatch(dir, list);
  // Changes made while the connection was down may have no event of their own: list again.
  client.on("connectionState", (state) => {
    if (state === "RECONNECTED") list();
  });
  const release = client.holdOpen(); // keeps running through reconnects
  list();
  await listing;
  console.log(`watching ${dir}`);
  onStop(async () => {
    release();
    await client.close();
  });
}

/** Runs `stop` once on SIGTERM or SIGINT. */
function onStop(/** @type {() => Promise<void>} */ stop) {
  let stopping = false;
  const handler = () => {
    if (stopping) return;
    stopping = true;
    stop().then(
      () => console.log("stopped"),
      (e) => {
        console.error(e);
        process.exitCode = 1;
      },
    );
  };
  process.once("SIGTERM", handler);
  process.once("SIGINT", handler);
}

if (command === "register") await register(/** @type {string} */ (address));
else await watch();
