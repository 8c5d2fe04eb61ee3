// The committed ensemble configuration, kept apart from the tree, as ZooKeeper keeps
// zoo.cfg.dynamic.<version> apart from its data: `dataDir/committedConfig` holds the
// dynamic configuration text (`server.N=...` lines and `version=<hex zxid>`) of the last
// configuration this member knows committed.
//
// Why a file: a restarted member's tree is rebuilt by replaying its whole log, including
// a reconfig txn it logged but never saw committed. Taking that tree's /zookeeper/config
// as committed let a member count quorums of a configuration the ensemble may never
// adopt (driver simulator seeds 16956, 14636). With this file the replayed configuration
// is only the last seen one: quorums need a majority of both until the leader's sync
// settles it (commit, TRUNC or SNAP).
//
// Written like the epoch files (epochs.ts: temp file, sync, rename, directory sync), by
// the driver before it persists anything else of the Ready batch that committed the
// configuration, so no later txn is logged (and acked) before the file is durable.

import type { Disk } from "./disk.js";
import { readOptionalFile, replaceFiles } from "./epochs.js";

export const COMMITTED_CONFIG_FILE = "committedConfig";

/** The committed configuration's text, or undefined when this data directory has none yet. */
export async function readCommittedConfig(disk: Disk, dir: string): Promise<string | undefined> {
  return (await readOptionalFile(disk, dir, COMMITTED_CONFIG_FILE))?.toString("utf8");
}

/** Replaces the committed configuration atomically; durable when it resolves. */
export async function writeCommittedConfig(disk: Disk, dir: string, text: string): Promise<void> {
  await replaceFiles(disk, dir, [[COMMITTED_CONFIG_FILE, Buffer.from(text.endsWith("\n") ? text : `${text}\n`, "utf8")]]);
}
