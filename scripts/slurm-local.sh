#!/usr/bin/env bash
# A one-node Slurm cluster on this machine, for the `slurm` tests and for trying
# `initscope slurm` without a cluster. Debian 12 (Slurm 22.05 + munge), as root.
#   scripts/slurm-local.sh start    # install what is missing, start munged, slurmctld, slurmd
#   scripts/slurm-local.sh stop     # stop exactly the daemons `start` started (by pid)
#   scripts/slurm-local.sh status   # exit 0 if the node answers and is usable
#   scripts/slurm-local.sh env      # prints `export SLURM_CONF=...` for the clients
# Both start and stop are idempotent. Everything lives under $INITSCOPE_SLURM_DIR (default
# /tmp/initscope-slurm): slurm.conf, state, spool, logs and the daemons' pid files. The system's
# /etc/slurm is never touched, so clients need SLURM_CONF (see `env`). No cgroup.conf: 22.05
# has no `disabled` cgroup plugin, and without the file slurmd starts with proctrack/linuxproc.
# Exit codes: 0 ok, 1 failure, 77 Slurm cannot be installed here (not root, no apt-get, no
# package): the tests turn 77 into a skip.
set -euo pipefail

dir=${INITSCOPE_SLURM_DIR:-/tmp/initscope-slurm}
conf=$dir/slurm.conf
host=$(hostname -s)
packages=(slurmctld slurmd slurm-client munge)

log() { echo "slurm-local: $*" >&2; }

alive() {  # alive PIDFILE: the pid in it is a live process
  [[ -s $1 ]] && kill -0 "$(cat "$1")" 2>/dev/null
}

install_missing() {
  local missing=() p
  for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  ((${#missing[@]})) || return 0
  if [[ $(id -u) -ne 0 ]] || ! command -v apt-get >/dev/null; then
    log "cannot install ${missing[*]}: needs root and apt-get (Debian 12)"
    exit 77
  fi
  log "installing ${missing[*]}"
  # The packages' own services must not start: this script runs the daemons itself.
  local own_policy=0
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod +x /usr/sbin/policy-rc.d
    own_policy=1
  fi
  local ok=1
  apt-get update -q >&2 || true
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >&2 \
    || ok=0
  ((own_policy)) && rm -f /usr/sbin/policy-rc.d
  if ((!ok)); then
    log "apt-get could not install ${missing[*]}"
    exit 77
  fi
}

write_conf() {
  mkdir -p "$dir/state" "$dir/spool"
  cat >"$conf" <<EOF
# Written by scripts/slurm-local.sh: one node, root, no cgroups, no accounting.
ClusterName=initscope
SlurmctldHost=$host
SlurmUser=root
SlurmdUser=root
SlurmctldPort=6817
SlurmdPort=6818
AuthType=auth/munge
CredType=cred/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/backfill
MpiDefault=none
ReturnToService=2
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
KillWait=5
SlurmctldTimeout=30
SlurmdTimeout=30
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.daemon.pid
SlurmdPidFile=$dir/slurmd.daemon.pid
SlurmctldLogFile=$dir/slurmctld.log
SlurmdLogFile=$dir/slurmd.log
NodeName=$host CPUs=$(nproc) State=UNKNOWN
PartitionName=local Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
}

munge_works() { munge -n 2>/dev/null | unmunge >/dev/null 2>&1; }

node_ready() {
  local state
  state=$(SLURM_CONF=$conf sinfo -h -N -o %t 2>/dev/null | head -1) || return 1
  [[ $state == idle* || $state == mix* || $state == alloc* ]]
}

start() {
  install_missing
  if [[ $(id -u) -ne 0 ]]; then
    log "the daemons run as root (SlurmUser=root); run as root"
    exit 77
  fi
  mkdir -p "$dir"
  if alive "$dir/slurmctld.pid" && alive "$dir/slurmd.pid" && node_ready; then
    log "already running (SLURM_CONF=$conf)"
    return 0
  fi
  # munged: keep a running one (the system's, or ours from an earlier start).
  if ! munge_works; then
    if [[ ! -s /etc/munge/munge.key ]]; then
      mkdir -p /etc/munge
      dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none
      chmod 400 /etc/munge/munge.key
    fi
    chown root:root /etc/munge/munge.key
    mkdir -p /run/munge /var/lib/munge /var/log/munge
    munged --foreground --force >"$dir/munged.out" 2>&1 &
    echo $! >"$dir/munged.pid"
    for _ in $(seq 50); do munge_works && break; sleep 0.2; done
    munge_works || { log "munged did not start: $(tail -5 "$dir/munged.out")"; exit 1; }
  fi
  write_conf
  if ! alive "$dir/slurmctld.pid"; then
    slurmctld -D -f "$conf" >"$dir/slurmctld.out" 2>&1 &
    echo $! >"$dir/slurmctld.pid"
  fi
  if ! alive "$dir/slurmd.pid"; then
    sleep 1
    slurmd -D -f "$conf" -N "$host" >"$dir/slurmd.out" 2>&1 &
    echo $! >"$dir/slurmd.pid"
  fi
  for _ in $(seq 60); do node_ready && break; sleep 0.5; done
  if ! node_ready; then
    # A node that registered DOWN after an earlier run of this script: bring it back.
    SLURM_CONF=$conf scontrol update nodename="$host" state=resume >/dev/null 2>&1 || true
    for _ in $(seq 20); do node_ready && break; sleep 0.5; done
  fi
  if ! node_ready; then
    log "the node is not idle: $(SLURM_CONF=$conf sinfo -N 2>&1 | tail -2)"
    log "slurmctld: $(tail -3 "$dir/slurmctld.log" 2>/dev/null)"
    log "slurmd: $(tail -3 "$dir/slurmd.log" 2>/dev/null)"
    stop
    exit 1
  fi
  log "one-node cluster up: $(SLURM_CONF=$conf sinfo -h -N -o '%N %t %c CPUs')"
  log "clients need: export SLURM_CONF=$conf"
}

stop() {
  local d
  # Jobs still queued or running on this cluster go first, so no slurmstepd outlives slurmd.
  if alive "$dir/slurmctld.pid"; then
    SLURM_CONF=$conf scancel -u "$(id -un)" 2>/dev/null || true
    sleep 1
  fi
  for d in slurmd slurmctld munged; do
    if alive "$dir/$d.pid"; then
      local pid
      pid=$(cat "$dir/$d.pid")
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
      kill -0 "$pid" 2>/dev/null && kill -9 "$pid" 2>/dev/null || true
      log "stopped $d (pid $pid)"
    fi
    rm -f "$dir/$d.pid"
  done
}

case ${1:-} in
  start) start ;;
  stop) stop ;;
  status) alive "$dir/slurmctld.pid" && alive "$dir/slurmd.pid" && node_ready ;;
  env) echo "export SLURM_CONF=$conf" ;;
  *)
    echo "usage: $0 start|stop|status|env" >&2
    exit 2
    ;;
esac
