#!/bin/bash
# Submits a reinforcer sweep to SLURM: a job array over the grid's trials (slurm/sweep.sbatch)
# and a merge job (slurm/merge.sbatch) that runs once every array task has succeeded
# (--dependency=afterok:ARRAY_JOB).
#
#   slurm/submit-sweep.sh [options] PREPARED.h5 GRID.ini SWEEP_DIR [sweep options] [-- sbatch options]
#
# sweep options (e.g. --random 50 --seed 3) go to every 'reinforcer sweep'; sbatch options after
# '--' go to the array's sbatch (e.g. -- --time=4:00:00 --cpus-per-task=4 --partition=short).
# Options (the knob in brackets sets the default):
#   --trials-per-task M  [TRIALS_PER_TASK=1]  trials per array task: ceil(trials / M) tasks
#   --throttle N         [THROTTLE=0]         at most N tasks running at once (--array=...%N); 0: no limit
#   --merge-output PATH  [MERGE_OUTPUT=SWEEP_DIR.h5]  the merged sweep file
#   --resubmit-failed    submit only the failed and missing trials of SWEEP_DIR (their tasks when
#                        M > 1), from 'reinforcer sweep --status', and a new merge
#   --dry-run            print what would be submitted; submit nothing
# Other knobs: REINFORCER=reinforcer (the executable: a path, or a name on PATH), SBATCH=sbatch,
# MERGE_SBATCH_ARGS= (extra sbatch options of the merge job). sweep.sbatch's knobs
# (MAX_REQUEUES, LAUNCHER, SRUN_MPI, MPIRUN, MPIRUN_ARGS) reach the jobs through the environment.
#
# Job logs go to SWEEP_DIR/logs/ (a task's file is appended across its requeues); every
# submission is recorded in SWEEP_DIR/logs/jobs. --resubmit-failed refuses while an earlier
# array job of SWEEP_DIR is still queued or running (its trials would run twice) and cancels
# earlier merge jobs still waiting. Prints 'array job: ID' and 'merge job: ID'.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
die() { echo "submit-sweep: $*" >&2; exit 2; }

TRIALS_PER_TASK=${TRIALS_PER_TASK:-1}
THROTTLE=${THROTTLE:-0}
MERGE_OUTPUT=${MERGE_OUTPUT:-}
REINFORCER=${REINFORCER:-reinforcer}
SBATCH=${SBATCH:-sbatch}
MERGE_SBATCH_ARGS=${MERGE_SBATCH_ARGS:-}
resubmit=0
dry_run=0
positional=()
sweep_options=()
sbatch_options=()
while [ $# -gt 0 ]; do
  case $1 in
    --trials-per-task) TRIALS_PER_TASK=${2:?--trials-per-task needs M}; shift 2 ;;
    --trials-per-task=*) TRIALS_PER_TASK=${1#*=}; shift ;;
    --throttle) THROTTLE=${2:?--throttle needs N}; shift 2 ;;
    --throttle=*) THROTTLE=${1#*=}; shift ;;
    --merge-output) MERGE_OUTPUT=${2:?--merge-output needs PATH}; shift 2 ;;
    --merge-output=*) MERGE_OUTPUT=${1#*=}; shift ;;
    --resubmit-failed) resubmit=1; shift ;;
    --dry-run) dry_run=1; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    --) shift; sbatch_options=("$@"); break ;;
    -*) if [ ${#positional[@]} -lt 3 ]; then die "unknown option $1 (options come before PREPARED.h5; --help)"; fi
        sweep_options+=("$1"); shift ;;
    *) if [ ${#positional[@]} -lt 3 ]; then positional+=("$1"); else sweep_options+=("$1"); fi; shift ;;
  esac
done
[ ${#positional[@]} -eq 3 ] || die "usage: submit-sweep.sh [options] PREPARED.h5 GRID.ini SWEEP_DIR [sweep options] [-- sbatch options]"
[[ $TRIALS_PER_TASK =~ ^[1-9][0-9]*$ ]] || die "--trials-per-task $TRIALS_PER_TASK: give a whole number >= 1"
[[ $THROTTLE =~ ^[0-9]+$ ]] || die "--throttle $THROTTLE: give a whole number (0: no limit)"

absolute() { case $1 in /*) echo "$1" ;; *) echo "$PWD/$1" ;; esac; }
prepared=$(absolute "${positional[0]}")
grid=$(absolute "${positional[1]}")
sweep_dir=$(absolute "${positional[2]%/}")
[ -n "$MERGE_OUTPUT" ] || MERGE_OUTPUT=$sweep_dir.h5
MERGE_OUTPUT=$(absolute "$MERGE_OUTPUT")
case $REINFORCER in */*) REINFORCER=$(absolute "$REINFORCER") ;; esac
command -v "$REINFORCER" >/dev/null || die "REINFORCER=$REINFORCER: not found (put reinforcer on PATH or set REINFORCER)"
[ -f "$prepared" ] || die "$prepared: no such file"
[ -f "$grid" ] || die "$grid: no such file"
logs=$sweep_dir/logs
jobs_file=$logs/jobs

# The grid's trials, as sweep.sbatch's reinforcer will see them.
trials=$("$REINFORCER" sweep --grid "$grid" --list "${sweep_options[@]}" | tail -n +2 | grep -c .) ||
  die "cannot list the grid's trials ($REINFORCER sweep --grid $grid --list)"
tasks=$(( (trials + TRIALS_PER_TASK - 1) / TRIALS_PER_TASK ))

# Earlier submissions of this sweep directory: 'TIME array|merge JOBID ...' lines.
earlier_jobs() {
  if [ -f "$jobs_file" ]; then awk -v kind="$1" '$2 == kind { print $3 }' "$jobs_file"; fi
}
queued() { [ -n "$(squeue -h -j "$1" -o %i 2>/dev/null)" ]; }

if [ "$resubmit" = 1 ]; then
  for id in $(earlier_jobs array); do
    if queued "$id"; then
      die "array job $id of $sweep_dir is still queued or running (squeue -j $id); wait for it, or scancel $id, then resubmit"
    fi
  done
  if [ ! -f "$sweep_dir/sweep.ini" ]; then
    indices="0-$((tasks - 1))"   # no task has started yet: all of them
    echo "submit-sweep: $sweep_dir holds no trial yet: resubmitting all $tasks tasks"
  else
    status=$("$REINFORCER" sweep --status "$sweep_dir" --trials-per-task "$TRIALS_PER_TASK")
    printf '  %s\n' "${status//$'\n'/$'\n'  }"
    if [ "$TRIALS_PER_TASK" -gt 1 ]; then key="rerun tasks"; else key="rerun"; fi
    indices=$(echo "$status" | sed -n "s/^$key: *//p")
  fi
else
  [ ! -f "$jobs_file" ] || [ -z "$(earlier_jobs array)" ] ||
    die "$sweep_dir was submitted before (see $jobs_file); use --resubmit-failed, or give a new SWEEP_DIR"
  indices="0-$((tasks - 1))"
fi

# Array indices must stay below the cluster's MaxArraySize (1001 unless configured).
max_array=$(scontrol show config 2>/dev/null | awk '$1 == "MaxArraySize" { print $3 }') || true
last_index=${indices##*[,-]}
if [[ $max_array =~ ^[0-9]+$ ]] && [ -n "$indices" ] && [ "$last_index" -ge "$max_array" ]; then
  die "array index $last_index is not below MaxArraySize $max_array; give more --trials-per-task (now $TRIALS_PER_TASK)"
fi

run() {
  if [ "$dry_run" = 1 ]; then echo "would run: $*" >&2; echo "JOBID"; return; fi
  "$@"
}
job_id() { local out; out=$(run "$@") || exit 1; echo "${out%%;*}"; }
record() { [ "$dry_run" = 1 ] || echo "$(date -u +%FT%TZ) $*" >>"$jobs_file"; }

[ "$dry_run" = 1 ] || mkdir -p "$logs"
export REINFORCER TRIALS_PER_TASK
array_id=
if [ -n "$indices" ]; then
  spec=$indices
  [ "$THROTTLE" -gt 0 ] && spec="$spec%$THROTTLE"
  array_id=$(job_id "$SBATCH" --parsable --array="$spec" --output="$logs/sweep-%A_%a.out" --open-mode=append \
    "${sbatch_options[@]}" "$here/sweep.sbatch" "$prepared" "$grid" "$sweep_dir" "${sweep_options[@]}")
  record "array $array_id --array=$spec trials=$trials trials_per_task=$TRIALS_PER_TASK"
  echo "submit-sweep: $trials trials, $tasks tasks of $TRIALS_PER_TASK; $([ "$dry_run" = 1 ] && echo "would submit" || echo submitted) --array=$spec"
  echo "array job: $array_id"
else
  echo "submit-sweep: every trial of $sweep_dir is complete; only the merge is submitted"
fi

if [ "$resubmit" = 1 ]; then
  for id in $(earlier_jobs merge); do
    if queued "$id"; then
      echo "submit-sweep: cancelling the earlier merge job $id (it waits on an array that did not succeed)"
      run scancel "$id" >/dev/null
    fi
  done
fi
dependency=()
[ -z "$array_id" ] || dependency=(--dependency="afterok:$array_id")
# shellcheck disable=SC2086  # MERGE_SBATCH_ARGS is a list of options
merge_id=$(job_id "$SBATCH" --parsable "${dependency[@]}" --output="$logs/merge-%j.out" --open-mode=append \
  $MERGE_SBATCH_ARGS "$here/merge.sbatch" "$sweep_dir" "$MERGE_OUTPUT")
record "merge $merge_id ${dependency[*]} -o $MERGE_OUTPUT"
if [ -n "$array_id" ]; then when="once array job $array_id has succeeded"; else when="now"; fi
echo "merge job: $merge_id (writes $MERGE_OUTPUT $when)"
