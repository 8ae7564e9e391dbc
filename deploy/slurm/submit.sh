#!/bin/bash
# Submits a sharded refundsim run to Slurm: an array of N shard tasks, then a
# merge job that starts only if every task succeeded (--dependency=afterok).
#   N=8 SCENARIO=scenarios/guizhou-2016.toml PATHS=10000 WORK=/shared/run1 deploy/slurm/submit.sh
# Prints the two job ids. Extra arguments go to both sbatch calls (e.g. -p PARTITION).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
N=${N:?set N, the number of shards}
export SCENARIO PATHS WORK SEED OUT REFUNDSIM
mkdir -p "${WORK:?set WORK}"
array=$(sbatch --parsable --export=ALL --chdir="$PWD" --output="$WORK/shard-%a.log" "$@" \
    --array=1-"$N" "$here/run.sbatch")
array=${array%%;*}
merge=$(sbatch --parsable --export=ALL --chdir="$PWD" --output="$WORK/merge.log" "$@" \
    --dependency=afterok:"$array" "$here/run.sbatch" merge "$N")
echo "$array $merge"
