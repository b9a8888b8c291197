#!/usr/bin/env bash
# Overseer CI: a single-node Slurm cluster (Debian bookworm, slurm-wlm 22.05, munge) with fake GPUs.
# Runs as root, no systemd: daemons are started directly and stopped by PID.
#
# Usage: bash scripts/slurm.sh install | configure | start | stop | status | env
#   install    apt-get the packages (does not start any daemon)
#   configure  write slurm.conf/gres.conf under $OVERSEER_SLURM_BASE (default ${TMPDIR:-/tmp}/overseer-slurm)
#   start      configure (unless already running), then start munged (unless already running), slurmctld, slurmd; waits for an idle node
#   stop       cancel remaining jobs, stop the daemons this script started
#   status     print sinfo/squeue
#   env        print the `export SLURM_CONF=...` line for client commands
# Client commands (sbatch, squeue, ...) need SLURM_CONF; the runner reads it from the environment,
# or falls back to $OVERSEER_SLURM_BASE/etc/slurm.conf when that file exists.
set -euo pipefail

BASE=${OVERSEER_SLURM_BASE:-${TMPDIR:-/tmp}/overseer-slurm}
CTLD_PORT=${OVERSEER_SLURM_CTLD_PORT:-6817}
SLURMD_PORT=${OVERSEER_SLURM_SLURMD_PORT:-6818}
FAKE_GPUS=${OVERSEER_SLURM_FAKE_GPUS:-2}
# Seconds a finished job stays visible to squeue/scontrol; sacct -c (jobcomp/filetxt) covers it afterwards.
MIN_JOB_AGE=${OVERSEER_SLURM_MIN_JOB_AGE:-300}
H=$(hostname -s)
export SLURM_CONF=$BASE/etc/slurm.conf

log() { printf '[slurm.sh %s] %s\n' "$(date +%T)" "$*" >&2; }

wait_for() { # wait_for <seconds> <command...>
  local t=$1; shift; local end=$((SECONDS + t))
  until "$@" >/dev/null 2>&1; do [ $SECONDS -lt $end ] || return 1; sleep 0.5; done
}

do_install() {
  local added_policy=0
  if command -v slurmctld >/dev/null && command -v slurmd >/dev/null && command -v sbatch >/dev/null && command -v munged >/dev/null; then
    log "slurm already installed: $(slurmctld -V)"; return 0
  fi
  # keep package postinst scripts from starting munge/slurm through /etc/init.d
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d; added_policy=1
  fi
  apt-get update
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends slurm-wlm slurmctld slurmd slurm-client munge
  [ "$added_policy" = 1 ] && rm -f /usr/sbin/policy-rc.d
  log "installed $(slurmctld -V)"
}

do_configure() {
  mkdir -p "$BASE"/{etc,state/ctld,state/d,log,run,jobs,fakedev}
  [ -s /etc/munge/munge.key ] || { mungekey --create 2>/dev/null || create-munge-key; }
  # gres/gpu ignores GPUs without File= and wants device files: symlinks to /dev/null are accepted
  local i; for i in $(seq 0 $((FAKE_GPUS - 1))); do ln -sfn /dev/null "$BASE/fakedev/gpu$i"; done
  local hw; hw=$(env -u SLURM_CONF slurmd -C | head -1 | sed 's/^NodeName=[^ ]* //')
  cat > "$BASE/etc/slurm.conf" <<EOF
ClusterName=overseer
SlurmctldHost=$H(127.0.0.1)
SlurmUser=root
SlurmdUser=root
SlurmctldPort=$CTLD_PORT
SlurmdPort=$SLURMD_PORT
AuthType=auth/munge
CredType=cred/munge
StateSaveLocation=$BASE/state/ctld
SlurmdSpoolDir=$BASE/state/d
SlurmctldPidFile=$BASE/run/slurmctld.pid
SlurmdPidFile=$BASE/run/slurmd.pid
SlurmctldLogFile=$BASE/log/slurmctld.log
SlurmdLogFile=$BASE/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
MailProg=/bin/true
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SwitchType=switch/none
MpiDefault=none
SchedulerType=sched/backfill
SchedulerParameters=sched_interval=2
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/filetxt
JobCompLoc=$BASE/log/jobcomp.txt
MinJobAge=$MIN_JOB_AGE
KillWait=5
ReturnToService=2
GresTypes=gpu
NodeName=$H NodeAddr=127.0.0.1 $hw Gres=gpu:$FAKE_GPUS State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
  cat > "$BASE/etc/gres.conf" <<EOF
AutoDetect=off
NodeName=$H Name=gpu File=$BASE/fakedev/gpu[0-$((FAKE_GPUS - 1))]
EOF
  echo "export SLURM_CONF=$SLURM_CONF" > "$BASE/env.sh"
  log "configured $BASE (node $H: $hw, gpu:$FAKE_GPUS)"
}

munge_ok() { munge -n | unmunge; }
ctld_up() { scontrol ping | grep -q 'is UP'; }
node_idle() { case "$(sinfo -h -n "$H" -o %t)" in idle|mix|alloc) return 0;; *) return 1;; esac; }
pid_alive() { [ -s "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

do_start() {
  # (re)write the config unless the cluster is already up (hostname/hardware may differ from an old config)
  pid_alive "$BASE/run/slurmctld.pid" || do_configure
  if munge_ok >/dev/null 2>&1; then log "munged already running"
  else
    install -d -o munge -g munge -m 0755 /run/munge
    runuser -u munge -- /usr/sbin/munged
    wait_for 10 munge_ok || { log "munged did not come up"; exit 1; }
    cp /run/munge/munged.pid "$BASE/run/munged.pid"
  fi
  if pid_alive "$BASE/run/slurmctld.pid"; then log "slurmctld already running"; else slurmctld; fi
  wait_for 20 ctld_up || { log "slurmctld not up:"; tail -5 "$BASE/log/slurmctld.log" >&2; exit 1; }
  if pid_alive "$BASE/run/slurmd.pid"; then log "slurmd already running"; else slurmd; fi
  wait_for 40 node_idle || { log "node not idle:"; sinfo >&2; tail -20 "$BASE/log/slurmctld.log" >&2; exit 1; }
  log "started: slurmctld pid $(cat "$BASE/run/slurmctld.pid"), slurmd pid $(cat "$BASE/run/slurmd.pid"); $(sinfo -h -o '%P %t %G')"
  log "client commands need: export SLURM_CONF=$SLURM_CONF"
}

stop_pid() { # stop_pid <name> <pidfile>
  [ -s "$2" ] || return 0
  local p; p=$(cat "$2")
  if kill -0 "$p" 2>/dev/null; then
    kill "$p" 2>/dev/null || true
    wait_for 20 sh -c "! kill -0 $p" || { log "$1 ($p) ignored SIGTERM, sending SIGKILL"; kill -9 "$p" 2>/dev/null || true; }
    log "stopped $1 (pid $p)"
  fi
  rm -f "$2"
}

do_stop() {
  if pid_alive "$BASE/run/slurmctld.pid"; then
    local ids; ids=$(squeue -h -o %i 2>/dev/null || true)
    if [ -n "$ids" ]; then
      # shellcheck disable=SC2086
      scancel $ids || true
      wait_for 30 sh -c '[ -z "$(squeue -h -t PD,R,CG -o %i)" ]' || true
    fi
  fi
  stop_pid slurmd "$BASE/run/slurmd.pid"
  stop_pid slurmctld "$BASE/run/slurmctld.pid"
  stop_pid munged "$BASE/run/munged.pid"   # only present if this script started munged
}

do_status() { sinfo; squeue; }

[ $# -gt 0 ] || { sed -n '2,14p' "$0"; exit 2; }
for step in "$@"; do
  case $step in
    install) do_install ;;
    configure) do_configure ;;
    start) do_start ;;
    stop) do_stop ;;
    status) do_status ;;
    env) echo "export SLURM_CONF=$SLURM_CONF" ;;
    *) echo "unknown step: $step (install|configure|start|stop|status|env)" >&2; exit 2 ;;
  esac
done
