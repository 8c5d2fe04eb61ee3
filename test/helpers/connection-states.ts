// Waiting for the client's connection state announcements, for the fake-clock unit tests
// and the fault-proxy integration tests alike.

import type { Client, ConnectionState, ConnectionStateInfo } from "../../src/client/index.js";

/** Resolves with the info of the next announcement of `state`. */
export function next(c: Client, state: ConnectionState): Promise<ConnectionStateInfo> {
  return new Promise((resolve) => {
    const l = (s: ConnectionState, info: ConnectionStateInfo): void => {
      if (s !== state) return;
      c.off("connectionState", l);
      resolve(info);
    };
    c.on("connectionState", l);
  });
}
