"""Drives kazoo's lock recipes for Corral's interop tests.

Reads one command per line on stdin and answers one line on stdout:
  lock PATH TIMEOUT        -> "acquired" | "timeout"   (kazoo WriteLock)
  rlock PATH TIMEOUT       -> "acquired" | "timeout"   (kazoo ReadLock)
  release                  -> "released"
  quit
"""
import sys

from kazoo.client import KazooClient
from kazoo.exceptions import LockTimeout

hosts = sys.argv[1]
zk = KazooClient(hosts=hosts, timeout=10)
zk.start(timeout=15)
held = []
print("ready", flush=True)
for line in sys.stdin:
    parts = line.split()
    if not parts:
        continue
    cmd = parts[0]
    if cmd in ("lock", "rlock"):
        path, timeout = parts[1], float(parts[2])
        lock = zk.WriteLock(path) if cmd == "lock" else zk.ReadLock(path)
        try:
            ok = lock.acquire(timeout=timeout)
        except LockTimeout:
            ok = False
        if ok:
            held.append(lock)
        print("acquired" if ok else "timeout", flush=True)
    elif cmd == "release":
        while held:
            held.pop().release()
        print("released", flush=True)
    elif cmd == "quit":
        break
zk.stop()
zk.close()
