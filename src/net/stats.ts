// Request latency and packet counters as srvr/stat/mntr report them (min/avg/max in ms).

export class ServerStats {
  /** When these stats were created (monotonic ms): mntr's zk_uptime counts from here. */
  readonly #startedAtMs = performance.now();
  packetsReceived = 0;
  packetsSent = 0;
  /** Bytes read from and written to client sockets; never reset (Prometheus counters). */
  bytesReceived = 0;
  bytesSent = 0;
  #latencyMin = Number.POSITIVE_INFINITY;
  #latencyMax = 0;
  #latencyTotal = 0;
  #latencyCount = 0;

  recordLatency(ms: number): void {
    if (ms < this.#latencyMin) this.#latencyMin = ms;
    if (ms > this.#latencyMax) this.#latencyMax = ms;
    this.#latencyTotal += ms;
    this.#latencyCount++;
  }

  get latencyMinMs(): number {
    return this.#latencyCount === 0 ? 0 : this.#latencyMin;
  }

  get latencyMaxMs(): number {
    return this.#latencyMax;
  }

  get latencyAvgMs(): number {
    return this.#latencyCount === 0 ? 0 : this.#latencyTotal / this.#latencyCount;
  }

  /** The average as ZooKeeper reports it: rounded half-up to 4 decimals. */
  get latencyAvgRoundedMs(): number {
    return Math.round(this.latencyAvgMs * 10_000) / 10_000;
  }

  /** Milliseconds since the stats were created; `reset()` does not restart it (as in ZooKeeper). */
  get uptimeMs(): number {
    return Math.floor(performance.now() - this.#startedAtMs);
  }

  get requestCount(): number {
    return this.#latencyCount;
  }

  reset(): void {
    this.packetsReceived = 0;
    this.packetsSent = 0;
    this.#latencyMin = Number.POSITIVE_INFINITY;
    this.#latencyMax = 0;
    this.#latencyTotal = 0;
    this.#latencyCount = 0;
  }
}
