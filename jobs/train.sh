#!/bin/bash
# Hybrid MPI x OpenMP training on a workstation: RANKS ranks x THREADS OpenMP threads each,
# with plain mpirun (the SLURM version is slurm/train.sbatch).
#
#   jobs/train.sh PREPARED.h5 RUN.h5 [train options...]
#
# Knobs (environment variables, default after =):
#   REINFORCER=reinforcer   the executable: a path, or a name found on PATH
#   RANKS=2                 MPI ranks (1: no mpirun)
#   THREADS=1               OpenMP threads per rank (--threads, OMP_NUM_THREADS)
#   MPIRUN=mpirun           mpirun, and MPIRUN_ARGS= extra options for it (as root Open MPI also
#                           wants OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1; more
#                           ranks than cores, --oversubscribe)
#   CHECKPOINT=RUN.h5.checkpoint.h5   the checkpoint: a present one is resumed (--resume);
#                           removed when the run finishes
# SIGTERM or SIGUSR1 to this script is forwarded: reinforcer checkpoints at its next sync round
# and exits 75; run the same command again to continue. Exit: reinforcer's exit code.
set -u
if [ $# -lt 2 ]; then
  echo "usage: jobs/train.sh PREPARED.h5 RUN.h5 [train options]" >&2
  exit 2
fi
prepared=$1 output=$2
shift 2
REINFORCER=${REINFORCER:-reinforcer}
RANKS=${RANKS:-2}
THREADS=${THREADS:-1}
MPIRUN=${MPIRUN:-mpirun}
MPIRUN_ARGS=${MPIRUN_ARGS:-}
read -r -a mpirun_args <<<"$MPIRUN_ARGS"
CHECKPOINT=${CHECKPOINT:-$output.checkpoint.h5}
export OMP_NUM_THREADS=$THREADS

cmd=("$REINFORCER" train "$prepared" -o "$output" --threads "$THREADS" --checkpoint "$CHECKPOINT" "$@")
[ -f "$CHECKPOINT" ] && cmd+=(--resume)
[ "$RANKS" -gt 1 ] && cmd=("$MPIRUN" -np "$RANKS" --bind-to none -x OMP_NUM_THREADS "${mpirun_args[@]}" "${cmd[@]}")
echo "train.sh: $RANKS ranks x $THREADS threads: ${cmd[*]}"

child=
trapped=0
# shellcheck disable=SC2317  # called by the traps
forward() { trapped=1; [ -n "$child" ] && kill -s "$1" "$child" 2>/dev/null; }
trap 'forward USR1' USR1
trap 'forward TERM' TERM
"${cmd[@]}" &
child=$!
while :; do
  trapped=0
  wait "$child"
  rc=$?
  [ "$trapped" = 1 ] || break
done
[ "$rc" = 0 ] && rm -f "$CHECKPOINT"  # finished: a later run starts afresh
[ "$rc" = 75 ] && echo "train.sh: interrupted; checkpoint $CHECKPOINT; run the same command again to continue" >&2
exit "$rc"
