#!/usr/bin/env bash
# Starts every server of this sample ensemble in the background (logs under ./data),
# after writing each data dir's myid file. Stop them with: kill $(cat data/<sample>/*/corral.pid)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
sample=$(basename "$here")
root=$(cd "$here/../.." && pwd)
cd "$root"
for cfg in "$here"/zoo*.cfg; do
  n=$(basename "$cfg" .cfg); n=${n#zoo}
  dir="data/$sample/$n"
  mkdir -p "$dir"
  echo "$n" > "$dir/myid"
  node dist/src/cli/main.js server start-foreground "$cfg" > "$dir/corral.log" 2>&1 &
  echo $! > "$dir/corral.pid"
  echo "server $n: pid $!, log $dir/corral.log"
done
