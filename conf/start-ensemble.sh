#!/usr/bin/env bash
# Starts every server of a sample ensemble (conf/ensemble-3 or conf/ensemble-3-observer)
# in the background, logs under ./data, after writing each data dir's myid file.
#   conf/start-ensemble.sh conf/ensemble-3
# Stop them with: kill $(cat data/ensemble-3/*/corral.pid)
set -euo pipefail
sample_dir=$(cd "${1:?usage: conf/start-ensemble.sh conf/<sample>}" && pwd)
sample=$(basename "$sample_dir")
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
for cfg in "$sample_dir"/zoo*.cfg; do
  n=$(basename "$cfg" .cfg); n=${n#zoo}
  dir="data/$sample/$n"
  mkdir -p "$dir"
  echo "$n" > "$dir/myid"
  node dist/src/cli/main.js server start-foreground "$cfg" > "$dir/corral.log" 2>&1 &
  echo $! > "$dir/corral.pid"
  echo "server $n: pid $!, log $dir/corral.log"
done
