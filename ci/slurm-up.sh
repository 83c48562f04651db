#!/usr/bin/env bash
# A one-node SLURM cluster on this machine for the cluster tests (README, "Running on a cluster").
#
#   ci/slurm-up.sh          install (Debian's slurm-wlm and munge, if missing), configure, start;
#                           exit 0 once `sinfo` shows the node idle, else 1 with the daemons' logs
#   ci/slurm-up.sh stop     stop the daemons
#
# The node is this host with its real cores and memory, one partition "debug". No accounting
# database: the Snakemake SLURM executor plugin then polls job states with squeue
# (--slurm-status-command squeue, its documented alternative to sacct), so finished jobs stay in
# squeue for MinJobAge = 900 s. Jobs over their memory request are killed by SLURM
# (JobAcctGatherParams=OverMemoryKill, from the polled RSS: no cgroups needed), jobs over their
# time limit too. Needs root (it is run by .ci/run and by a developer with sudo).
set -euo pipefail
ROOT=${CARBONBUDGET_SLURM_DIR:-/tmp/carbonbudget-slurm}
CONF=/etc/slurm/slurm.conf

stop() {
    pkill -x slurmd 2>/dev/null || true
    pkill -x slurmctld 2>/dev/null || true
    pkill -x munged 2>/dev/null || true
}

if [ "${1:-start}" = stop ]; then
    stop
    exit 0
fi

if ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q slurm-wlm munge >/dev/null
fi
stop
mkdir -p "$ROOT/state" "$ROOT/spool" /run/munge /etc/slurm
chown munge:munge /run/munge
if [ ! -s /etc/munge/munge.key ]; then
    /usr/sbin/mungekey --create --keyfile=/etc/munge/munge.key
    chown munge:munge /etc/munge/munge.key
    chmod 600 /etc/munge/munge.key
fi
runuser -u munge -- /usr/sbin/munged

HOST=$(hostname -s)
CPUS=$(nproc)
# the node's memory less 1 GB for the system and the daemons
MEM=$(($(awk '/MemTotal/ {print int($2 / 1024)}' /proc/meminfo) - 1024))
cat >"$CONF" <<CONF
ClusterName=carbonbudget
SlurmctldHost=$HOST
SlurmUser=root
AuthType=auth/munge
StateSaveLocation=$ROOT/state
SlurmdSpoolDir=$ROOT/spool
SlurmctldPidFile=$ROOT/slurmctld.pid
SlurmdPidFile=$ROOT/slurmd.pid
SlurmctldLogFile=$ROOT/slurmctld.log
SlurmdLogFile=$ROOT/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
JobAcctGatherType=jobacct_gather/linux
JobAcctGatherFrequency=task=1
JobAcctGatherParams=OverMemoryKill
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MinJobAge=900
ReturnToService=2
NodeName=$HOST CPUs=$CPUS RealMemory=$MEM State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF

/usr/sbin/slurmctld
/usr/sbin/slurmd
for _ in $(seq 60); do
    if [ "$(sinfo -h -o %t 2>/dev/null)" = idle ]; then
        echo "SLURM up: node $HOST, $CPUS CPUs, $MEM MB, partition debug"
        exit 0
    fi
    sleep 1
done
echo "SLURM did not come up; the daemons' logs:" >&2
tail -n 20 "$ROOT/slurmctld.log" "$ROOT/slurmd.log" >&2 || true
exit 1
