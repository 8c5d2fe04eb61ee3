// @ts-check
// Config watching: loads a configuration tree (default /app/config, every node below it is
// a key, its data the value) and prints each change as it happens, through one persistent
// recursive watch (ZooKeeper 3.6's addWatch) instead of a one-shot watch per node that has
// to be set again after every event. The watch stays armed across reconnects, and on the
// new session after a session loss; after either the tree is read again, since changes
// made while the client was away have no events. Stop it with Ctrl-C or SIGTERM.
//
//   node config-watch.mjs [connectString]   # or CORRAL_CONNECT=host:port; default 127.0.0.1:2181
//   CONFIG_PATH=/my/config node config-watch.mjs
//
// Try it: `npx corral cli -server 127.0.0.1:2181 create /app/config/db "postgres://db1"`,
// then `set /app/config/db "postgres://db2"`, `delete /app/config/db`.
//
// A watch event says what changed (type, path), not the new value: the value printed is
// read just after the event, so when changes come fast a read can already see a later
// value; every change still has its own event, in the order the server applied them.

import { connect, ZooKeeperError } from "corral";

const connectString = process.argv[2] ?? process.env.CORRAL_CONNECT ?? "127.0.0.1:2181";
const root = process.env.CONFIG_PATH ?? "/app/config";

const client = await connect(connectString, { sessionTimeoutMs: 10_000 });

/** The configuration as last seen: path -> value. */
let config = new Map();

/** Reads one node's value; undefined if it is gone. */
async function read(/** @type {string} */ path) {
  try {
    return (await client.getData(path)).data?.toString() ?? "";
  } catch (e) {
    if (e instanceof ZooKeeperError && e.code === "NoNode") return undefined;
    throw e;
  }
}

/** Reads `path` and everything below it into `into`. */
async function load(/** @type {string} */ path, /** @type {Map<string, string>} */ into) {
  let children;
  try {
    const value = await read(path);
    if (value === undefined) return;
    if (path !== root) into.set(path, value);
    children = await client.getChildren(path);
  } catch (e) {
    if (e instanceof ZooKeeperError && e.code === "NoNode") return;
    throw e;
  }
  for (const child of children.sort()) await load(`${path === "/" ? "" : path}/${child}`, into);
}

/** Changes are handled one at a time, in the order they came. */
let handling = Promise.resolve();
const enqueue = (/** @type {() => Promise<void>} */ task) => {
  handling = handling.then(task).catch((e) => console.error(`reading a change failed: ${e instanceof Error ? e.message : e}`));
};

/** @param {import("corral").WatchEvent} event */
function onEvent(event) {
  enqueue(async () => {
    if (event.type === "NodeDeleted") {
      config.delete(event.path);
      console.log(`${event.type} ${event.path}`);
    } else if (event.type === "NodeCreated" || event.type === "NodeDataChanged") {
      const value = await read(event.path);
      if (value === undefined) {
        console.log(`${event.type} ${event.path} (deleted since)`); // its NodeDeleted comes next
        return;
      }
      config.set(event.path, value);
      console.log(`${event.type} ${event.path} = ${value}`);
    }
  });
}

// Arm the watch first, then load: a change made while loading is not missed (at worst it
// is printed after the value it set was already loaded).
await client.addWatch(root, onEvent, { recursive: true });
// A listener alone does not keep Node running while the client reconnects; a hold does.
const release = client.holdOpen();
await load(root, config);
for (const [path, value] of config) console.log(`loaded ${path} = ${value}`);
console.log(`watching ${root} (${config.size} keys)`);

// Back after a lost connection, the watch is armed again, but (as in ZooKeeper) changes
// made while the client was away fire no event: read the tree again, print what differs.
client.on("connectionState", (state) => {
  if (state === "RECONNECTED") enqueue(resync);
});
async function resync() {
  const fresh = new Map();
  await load(root, fresh);
  for (const [path, value] of fresh) if (config.get(path) !== value) console.log(`resynced ${path} = ${value}`);
  for (const path of config.keys()) if (!fresh.has(path)) console.log(`resynced, deleted ${path}`);
  config = fresh;
}

const stop = async () => {
  release();
  await client.close();
  console.log("stopped");
};
process.once("SIGTERM", stop);
process.once("SIGINT", stop);
