// The entry of a server child process started by corral/testing: `corral server
// start-foreground CONF` (src/cli/main.ts) that also dies with its parent. The parent holds
// the write end of this process's stdin; when the parent ends in any way (a normal exit, a
// crash, kill -9), the pipe closes and this process kills itself at once (SIGKILL: the same
// semantics as the kill -9 of TestingCluster.kill), first removing the temporary directory
// it was told it owns (CORRAL_TESTING_OWNED_DIR), so an aborted test run leaves no server and
// no temp dir behind. It never reads what arrives on stdin.

import { rmSync } from "node:fs";

const ownedDir = process.env["CORRAL_TESTING_OWNED_DIR"];

function parentGone(): void {
  if (ownedDir !== undefined && ownedDir !== "") {
    try {
      rmSync(ownedDir, { recursive: true, force: true });
    } catch {
      // best effort: the process dies either way
    }
  }
  process.kill(process.pid, "SIGKILL");
}

process.stdin.on("end", parentGone);
process.stdin.on("error", parentGone);
process.stdin.resume();
// main.ts runs the command at its top level and sets process.exitCode; the import settles
// once the server has stopped (SIGTERM/SIGINT). Then stdin must stop holding the loop open.
await import("../cli/main.js");
process.stdin.off("end", parentGone);
process.stdin.off("error", parentGone);
process.stdin.destroy();
