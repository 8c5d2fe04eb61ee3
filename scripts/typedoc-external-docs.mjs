// A typedoc plugin (typedoc.json "plugin"): doc comments for the few symbols the client
// re-exports from src/jute, whose declarations carry none (ACL and Stat are types computed
// from jute schemas; WatcherType and AddWatchMode are constant tables). Keyed by the name
// below the entry point's module, so it holds however many entry points typedoc.json
// lists. A comment written on the declaration itself wins; once src/jute documents these,
// delete their entries here.

import { Comment, Converter } from "typedoc";

/** Qualified name (without the module) -> the comment's text. */
export const EXTERNAL_DOCS = {
  ACL:
    "One entry of a node's ACL: `perms`, a bit set (read 1, write 2, create 4, delete 8, admin 16; 31 for all), " +
    'granted to `id`, `{ scheme, id }`: `{ scheme: "world", id: "anyone" }`, `{ scheme: "auth", id: "" }` (whoever the creating session authenticated as), ' +
    '`{ scheme: "digest", id: "user:base64(sha1(user:password))" }`, `{ scheme: "ip", id: "10.0.0.0/8" }`.',
  Stat:
    "A node's Stat, as ZooKeeper's: `czxid`, `mzxid` and `pzxid` (the transactions that created the node, last set its data, last changed its children), " +
    "`ctime` and `mtime` (ms since the epoch), `version`, `cversion` and `aversion` (changes to its data, children and ACL), " +
    "`ephemeralOwner` (the owning session, 0n for a persistent node), `dataLength` and `numChildren`. The 64-bit fields are bigints.",
  "WatcherType.__type.Children": "Child watches (getChildren).",
  "WatcherType.__type.Data": "Data watches (getData, and exists on a node that exists or not).",
  "WatcherType.__type.Any": "Every kind of watch.",
  "WatcherType.__type.Persistent": "Persistent watches (addWatch).",
  "WatcherType.__type.PersistentRecursive": "Persistent recursive watches (addWatch with `recursive`).",
  "AddWatchMode.__type.Persistent": "Fires on every change of the node, until removed.",
  "AddWatchMode.__type.PersistentRecursive": "Fires on every change of the node or any node below it, until removed.",
};

/** The reflection's name below its module (or the project), e.g. "WatcherType.__type.Any". */
function nameBelowModule(reflection) {
  const parts = [];
  for (let r = reflection; r !== undefined && !r.kindOf?.(2 /* Module */) && r.parent !== undefined; r = r.parent) parts.unshift(r.name);
  return parts.join(".");
}

/** typedoc's plugin entry point. */
export function load(app) {
  app.converter.on(Converter.EVENT_RESOLVE_BEGIN, (context) => {
    for (const reflection of Object.values(context.project.reflections)) {
      const text = EXTERNAL_DOCS[nameBelowModule(reflection)];
      if (text !== undefined && !reflection.hasComment()) reflection.comment = new Comment([{ kind: "text", text }]);
    }
  });
}
