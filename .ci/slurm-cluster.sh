#!/usr/bin/env bash
# A one-node SLURM cluster on this machine, with accounting, for the CI test of the SLURM profile
# (tests/test_slurm.py). Debian 12 packages; as root; no systemd needed: the daemons are started
# directly (munged, mariadbd, slurmdbd, slurmctld, slurmd), their pid files under /run.
#
#   .ci/slurm-cluster.sh [start]   install, configure, start what is not running, wait until the
#                                  node is idle and a smoke job is in the accounting (sacct)
#   .ci/slurm-cluster.sh status    what runs, sinfo, the last jobs in sacct
#   .ci/slurm-cluster.sh stop      stop the daemons this script started (by their pid files)
#
# Re-running `start` is safe: the configuration is rewritten only when it changed (and then the
# daemon that reads it is restarted), running daemons are left alone, a down node is resumed.
# The one node is this host, with the CPUs and memory slurmd detects; one partition, `debug`.
set -euo pipefail

ACTION=${1:-start}
CLUSTER=tranrep               # ClusterName, and an account jobs may name (slurm_account)
PARTITION=debug
NODE=$(hostname -s)
ETC=/etc/slurm
RUN=/run/slurm
LOG=/var/log/slurm
STATE=/var/lib/slurm
DB=slurm_acct_db
START=$SECONDS

say() { printf '[slurm-cluster %3ds] %s\n' $((SECONDS - START)) "$*"; }
die() { say "ERROR: $*" >&2; exit 1; }

# wait_for SECONDS DESCRIPTION COMMAND...: retry COMMAND once a second until it succeeds.
wait_for() {
  local limit=$1 what=$2
  shift 2
  for ((i = 0; i < limit; i++)); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 1
  done
  die "$what: not ready after ${limit}s (logs: $LOG, /var/log/mysql-slurm.log)"
}

alive() {  # alive PIDFILE: the process named in PIDFILE runs
  [[ -s $1 ]] && kill -0 "$(cat "$1")" 2>/dev/null
}

# ------------------------------------------------------------------------------------------------
install_packages() {
  local packages=(munge mariadb-server slurmctld slurmd slurm-client slurmdbd)
  local status
  status=$(dpkg-query -W -f='${Status}\n' "${packages[@]}" 2>/dev/null || true)
  if [[ $(grep -c 'install ok installed' <<<"$status") -ne ${#packages[@]} ]]; then
    say "installing ${packages[*]}"
    export DEBIAN_FRONTEND=noninteractive
    # Keep the packages' scripts from starting services: this script starts them itself.
    local policy_created=
    if [[ ! -e /usr/sbin/policy-rc.d ]]; then
      printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
      chmod +x /usr/sbin/policy-rc.d
      policy_created=1
    fi
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
    [[ -n $policy_created ]] && rm -f /usr/sbin/policy-rc.d
  fi
  say "SLURM $(dpkg-query -W -f='${Version}' slurmctld)," \
    "MariaDB $(dpkg-query -W -f='${Version}' mariadb-server)"
}

# write_if_changed FILE MODE OWNER: stdin to FILE when it differs; returns 0 when it changed.
write_if_changed() {
  local file=$1 mode=$2 owner=$3 tmp
  tmp=$(mktemp)
  cat >"$tmp"
  if [[ -f $file ]] && cmp -s "$tmp" "$file"; then
    rm -f "$tmp"
    chmod "$mode" "$file"; chown "$owner" "$file"
    return 1
  fi
  install -m "$mode" -o "${owner%%:*}" -g "${owner##*:}" "$tmp" "$file"
  rm -f "$tmp"
  return 0
}

CHANGED_SLURM=
CHANGED_DBD=
configure() {
  mkdir -p "$ETC" "$RUN" "$LOG" "$STATE/slurmctld" "$STATE/slurmd" /run/munge /run/mysqld
  chown slurm:slurm "$RUN" "$LOG" "$STATE/slurmctld"
  chown munge:munge /run/munge
  chown mysql:mysql /run/mysqld
  if [[ ! -s /etc/munge/munge.key ]]; then
    say "creating the munge key"
    if command -v mungekey >/dev/null; then
      mungekey --create --keyfile=/etc/munge/munge.key --force
    else
      dd if=/dev/urandom bs=1 count=1024 of=/etc/munge/munge.key status=none
    fi
  fi
  chown munge:munge /etc/munge/munge.key
  chmod 400 /etc/munge/munge.key

  # The node as slurmd sees it (CPUs, sockets, cores, threads, memory). Memory for jobs: what
  # slurmd detects less 10 % (at least 512 MB) for the daemons and the database.
  local detected memory topology
  detected=$(slurmd -C | head -1)
  memory=$(sed -n 's/.*RealMemory=\([0-9]*\).*/\1/p' <<<"$detected")
  local reserve=$((memory / 10 > 512 ? memory / 10 : 512))
  topology=$(grep -Eo '(CPUs|Boards|SocketsPerBoard|CoresPerSocket|ThreadsPerCore)=[0-9]+' \
    <<<"$detected" | paste -sd ' ')
  [[ -n $topology && -n $memory ]] || die "cannot read the node's resources from: $detected"

  if write_if_changed "$ETC/slurm.conf" 644 root:root <<EOF; then CHANGED_SLURM=1; fi
# Written by .ci/slurm-cluster.sh: a one-node test cluster.
ClusterName=$CLUSTER
SlurmctldHost=$NODE(127.0.0.1)
SlurmUser=slurm
AuthType=auth/munge
MpiDefault=none
MailProg=/bin/true
# No cgroups: works in containers and VMs without a cgroup hierarchy slurmd could own.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
ReturnToService=2
SlurmctldPidFile=$RUN/slurmctld.pid
SlurmdPidFile=$RUN/slurmd.pid
SlurmdSpoolDir=$STATE/slurmd
StateSaveLocation=$STATE/slurmctld
SlurmctldLogFile=$LOG/slurmctld.log
SlurmdLogFile=$LOG/slurmd.log
SchedulerType=sched/backfill
# A job that could never run here (more CPUs or memory than the node has) is refused at sbatch,
# rather than left pending for ever.
EnforcePartLimits=ALL
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=localhost
# sacct shows each job's comment: the Snakemake executor writes rule and wildcards there.
AccountingStoreFlags=job_comment
JobAcctGatherType=jobacct_gather/linux
JobAcctGatherFrequency=30
JobCompType=jobcomp/none
MinJobAge=300
KillWait=30
InactiveLimit=0
SlurmctldTimeout=120
SlurmdTimeout=300
NodeName=$NODE NodeAddr=127.0.0.1 $topology RealMemory=$((memory - reserve)) State=UNKNOWN
PartitionName=$PARTITION Nodes=$NODE Default=YES MaxTime=INFINITE State=UP
EOF

  # slurmdbd reaches MariaDB over its socket as the OS user slurm (unix_socket authentication):
  # no password anywhere.
  if write_if_changed "$ETC/slurmdbd.conf" 600 slurm:slurm <<EOF; then CHANGED_DBD=1; fi
# Written by .ci/slurm-cluster.sh.
AuthType=auth/munge
DbdHost=localhost
DbdPort=6819
SlurmUser=slurm
LogFile=$LOG/slurmdbd.log
PidFile=$RUN/slurmdbd.pid
StorageType=accounting_storage/mysql
StorageHost=localhost
StorageLoc=$DB
StorageUser=slurm
EOF
}

# ------------------------------------------------------------------------------------------------
start_munge() {
  if ! alive /run/munge/munged.pid; then
    say "starting munged"
    runuser -u munge -- /usr/sbin/munged
  fi
  wait_for 20 munge bash -c 'munge -n | unmunge'
}

start_mariadb() {
  if [[ ! -d /var/lib/mysql/mysql ]]; then
    say "initialising MariaDB"
    mariadb-install-db --user=mysql --datadir=/var/lib/mysql >/dev/null
  fi
  if ! alive /run/mysqld/mysqld.pid; then
    say "starting mariadbd"
    setsid nohup /usr/sbin/mariadbd --user=mysql --pid-file=/run/mysqld/mysqld.pid \
      --socket=/run/mysqld/mysqld.sock --innodb-buffer-pool-size=128M \
      --innodb-lock-wait-timeout=900 --skip-networking=0 --bind-address=127.0.0.1 \
      >>/var/log/mysql-slurm.log 2>&1 </dev/null &
  fi
  wait_for 60 mariadb mariadb-admin --socket=/run/mysqld/mysqld.sock ping
  mariadb --socket=/run/mysqld/mysqld.sock <<EOF
CREATE DATABASE IF NOT EXISTS $DB;
CREATE USER IF NOT EXISTS 'slurm'@'localhost' IDENTIFIED VIA unix_socket;
GRANT ALL ON $DB.* TO 'slurm'@'localhost';
EOF
}

start_slurmdbd() {
  if alive "$RUN/slurmdbd.pid" && [[ -n $CHANGED_DBD ]]; then
    say "slurmdbd.conf changed: restarting slurmdbd"
    kill "$(cat "$RUN/slurmdbd.pid")"
    wait_for 30 "slurmdbd to stop" bash -c "! kill -0 $(cat "$RUN/slurmdbd.pid")"
  fi
  if ! alive "$RUN/slurmdbd.pid"; then
    say "starting slurmdbd"
    slurmdbd
  fi
  wait_for 60 slurmdbd sacctmgr -n list cluster
  if ! sacctmgr -n -P list cluster format=cluster | grep -qx "$CLUSTER"; then
    sacctmgr -i add cluster "$CLUSTER" >/dev/null
  fi
  if ! sacctmgr -n -P list account format=account | grep -qx "$CLUSTER"; then
    sacctmgr -i add account "$CLUSTER" Cluster="$CLUSTER" Description=ci Organization=ci >/dev/null
  fi
  if ! sacctmgr -n -P list assoc user=root account="$CLUSTER" format=user | grep -qx root; then
    sacctmgr -i add user root Account="$CLUSTER" Cluster="$CLUSTER" >/dev/null
  fi
}

start_slurm() {
  if alive "$RUN/slurmctld.pid" && [[ -n $CHANGED_SLURM ]]; then
    say "slurm.conf changed: restarting slurmctld and slurmd"
    stop_one slurmd "$RUN/slurmd.pid"
    stop_one slurmctld "$RUN/slurmctld.pid"
  fi
  if ! alive "$RUN/slurmctld.pid"; then
    say "starting slurmctld"
    slurmctld
  fi
  wait_for 60 slurmctld scontrol ping
  if ! alive "$RUN/slurmd.pid"; then
    say "starting slurmd"
    slurmd
  fi
  local state
  for ((i = 0; i < 60; i++)); do
    state=$(sinfo -h -n "$NODE" -o %T 2>/dev/null || true)
    case $state in
      idle | mixed | allocated) break ;;
      down* | drain* | fail*)
        say "node $NODE is $state: resuming it"
        scontrol update NodeName="$NODE" State=RESUME || true ;;
    esac
    sleep 1
  done
  [[ $state =~ ^(idle|mixed|allocated)$ ]] || die "node $NODE is '$state', not idle (see $LOG)"
  say "node $NODE is $state"
}

smoke_test() {
  # One job through the scheduler, then in the accounting: what the Snakemake executor relies on.
  local job state
  job=$(sbatch --parsable -J slurm-cluster-smoke -p "$PARTITION" -t 1 --mem 10 -o /dev/null \
    --wrap 'hostname')
  for ((i = 0; i < 60; i++)); do
    state=$(sacct -n -X -P -j "$job" -o State 2>/dev/null | head -1)
    [[ $state == COMPLETED ]] && break
    [[ $state =~ ^(FAILED|CANCELLED|TIMEOUT|NODE_FAIL|OUT_OF_MEMORY) ]] && break
    sleep 1
  done
  [[ $state == COMPLETED ]] || die "smoke job $job is '$state' in sacct, not COMPLETED"
  say "smoke job $job COMPLETED, seen by sacct"
}

# ------------------------------------------------------------------------------------------------
stop_one() {  # stop_one NAME PIDFILE
  local name=$1 pidfile=$2 pid
  if alive "$pidfile"; then
    pid=$(cat "$pidfile")
    say "stopping $name ($pid)"
    kill "$pid"
    for ((i = 0; i < 30; i++)); do kill -0 "$pid" 2>/dev/null || return 0; sleep 1; done
    die "$name ($pid) still runs after 30 s"
  fi
}

case $ACTION in
  start)
    [[ $(id -u) -eq 0 ]] || die "run as root"
    install_packages
    configure
    start_munge
    start_mariadb
    start_slurmdbd
    start_slurm
    smoke_test
    say "cluster $CLUSTER ready: partition $PARTITION, node $NODE"
    ;;
  status)
    for pair in munged:/run/munge/munged.pid mariadbd:/run/mysqld/mysqld.pid \
      slurmdbd:$RUN/slurmdbd.pid slurmctld:$RUN/slurmctld.pid slurmd:$RUN/slurmd.pid; do
      if alive "${pair#*:}"; then echo "${pair%%:*}: running ($(cat "${pair#*:}"))"
      else echo "${pair%%:*}: not running"; fi
    done
    sinfo || true
    sacct -X -a -S now-1hours -o JobID,JobName%40,State,Elapsed,Comment%60 2>/dev/null |
      tail -n 20 || true
    ;;
  stop)
    stop_one slurmd "$RUN/slurmd.pid"
    stop_one slurmctld "$RUN/slurmctld.pid"
    stop_one slurmdbd "$RUN/slurmdbd.pid"
    stop_one mariadbd /run/mysqld/mysqld.pid
    stop_one munged /run/munge/munged.pid
    ;;
  *) die "usage: $0 [start|status|stop]" ;;
esac
