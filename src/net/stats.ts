// Request latency and packet counters as srvr/stat/mntr report them (min/avg/max in ms).

export class ServerStats {
  packetsReceived = 0;
  packetsSent = 0;
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
