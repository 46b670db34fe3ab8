#!/usr/bin/env bash
# Starts a single-node Slurm cluster on this machine (controller, node daemon and munge for authentication), the
# cluster the `slurm` runtime's tests submit to. Safe to run repeatedly: daemons already answering are left alone.
# Needs root (or sudo) and the Debian packages slurmctld, slurmd, slurm-client and munge (scripts/setup.sh installs
# them).
#
# Written for containers without systemd or cgroups: processes are tracked through /proc (proctrack/linuxproc) and
# tasks are not confined (task/none). The scheduler looks at the queue every second and starts jobs as soon as they
# are submitted, so array elements and their dependent jobs start within about a second rather than the default's
# several; a real cluster's tuning is its administrators'.
set -euo pipefail
if [ "$(id -u)" -ne 0 ]; then exec sudo --preserve-env=PATH "$0" "$@"; fi
# Tests call this concurrently; one caller at a time checks and starts the daemons, so two never race to start
# munged (the second would fail to bind its socket) or slurmctld. The daemons are started with the lock's descriptor
# closed, or they would hold the lock for as long as they run.
exec 9>/run/downscale-slurm-up.lock
flock 9

for daemon in slurmctld slurmd munged sinfo; do
  command -v "$daemon" >/dev/null || { echo "error: $daemon is not installed (run scripts/setup.sh)" >&2; exit 1; }
done

mkdir -p /run/munge /var/log/munge /var/lib/munge /etc/munge /var/spool/slurmctld /var/spool/slurmd /var/log/slurm
chown munge:munge /run/munge /var/log/munge /var/lib/munge
[ -s /etc/munge/munge.key ] || { mungekey --create >/dev/null 2>&1 || mungekey -c; chown munge:munge /etc/munge/munge.key; }
[ -S /run/munge/munge.socket.2 ] && munge -n >/dev/null 2>&1 || runuser -u munge -- munged --force 9>&-

host=$(hostname -s)
# The node offers what the machine has, less 1 GiB for the daemons and the driving process.
memory_mib=$(($(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 - 1024))
config=$(cat <<CONF
ClusterName=downscale-ci
SlurmctldHost=$host
SlurmUser=root
AuthType=auth/munge
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
ReturnToService=2
MinJobAge=600
SchedulerParameters=batch_sched_delay=0,sched_min_interval=0,sched_interval=1
NodeName=$host CPUs=$(nproc) RealMemory=$memory_mib State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
)
mkdir -p /etc/slurm
if [ "$(cat /etc/slurm/slurm.conf 2>/dev/null)" != "$config" ]; then
  printf '%s\n' "$config" > /etc/slurm/slurm.conf
  scontrol ping >/dev/null 2>&1 && scontrol reconfigure >/dev/null 2>&1 || true
fi

scontrol ping 2>/dev/null | grep -q UP || slurmctld 9>&-
{ [ -s /run/slurmd.pid ] && kill -0 "$(cat /run/slurmd.pid)" 2>/dev/null; } || slurmd 9>&-

for _ in $(seq 120); do
  state=$(sinfo -h -o %T 2>/dev/null || true)
  case "$state" in
    idle|mixed|allocated) exit 0 ;;
    down*|drain*) scontrol update NodeName="$host" State=RESUME >/dev/null 2>&1 || true ;;
  esac
  sleep 0.5
done
echo "error: the Slurm node did not become ready (sinfo says '${state:-nothing}'; see /var/log/slurm)" >&2
exit 1
