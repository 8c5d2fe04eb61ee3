/**
 * Loopback port allocation for tests, benchmarks and throwaway ensembles.
 *
 * Asking the kernel for port 0 and closing the socket again is racy in a way that
 * bites parallel test runs: the port it hands out comes from the ephemeral range,
 * and the very next outgoing connection of any process (a client dialling a server)
 * may be given the same port before our server binds it — EADDRINUSE. So ports are
 * taken from below the kernel's ephemeral range, where no outgoing connection ever
 * lands, each process walking its own slice of that range (by vitest worker id or
 * pid) so that concurrent processes rarely try the same port; every candidate is
 * still checked with an exclusive bind before it is handed out.
 */
import { readFileSync } from "node:fs";
import { createServer } from "node:net";

const LOWEST = 10_000;
const SLICES = 16;

function ephemeralFloor(): number {
  try {
    const text = readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8");
    const low = Number.parseInt(text.trim().split(/\s+/)[0] ?? "", 10);
    if (Number.isInteger(low) && low > LOWEST + SLICES * 64) return low;
  } catch {
    // Not Linux: fall through to IANA's dynamic range floor.
  }
  return 49_152;
}

const floor = ephemeralFloor();
const sliceSize = Math.floor((floor - LOWEST) / SLICES);
const workerId = Number.parseInt(process.env.VITEST_POOL_ID ?? process.env.VITEST_WORKER_ID ?? "", 10);
const slice = (Number.isInteger(workerId) ? workerId : process.pid) % SLICES;
const sliceStart = LOWEST + slice * sliceSize;
// Start somewhere pid-dependent inside the slice so that successive processes in the
// same slice (e.g. a child server and its parent test) do not retrace each other.
let cursor = (process.pid * 7919) % sliceSize;

function bindable(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once("error", () => resolve(false));
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/**
 * A port on `host` (loopback) that nobody was listening on a moment ago, outside
 * the kernel's ephemeral range. The cursor only comes back to a port after a whole
 * slice (over a thousand ports) has been handed out.
 */
export async function freePort(host = "127.0.0.1"): Promise<number> {
  for (let tries = 0; tries < sliceSize; tries++) {
    const port = sliceStart + cursor;
    cursor = (cursor + 1) % sliceSize;
    if (await bindable(port, host)) return port;
  }
  throw new Error(`no free port left in ${sliceStart}-${sliceStart + sliceSize - 1} on ${host}`);
}

/** `count` distinct free ports. */
export async function freePorts(count: number, host = "127.0.0.1"): Promise<number[]> {
  const ports: number[] = [];
  for (let i = 0; i < count; i++) ports.push(await freePort(host));
  return ports;
}
