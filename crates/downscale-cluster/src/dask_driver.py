"""The `dask` runtime's driver: runs `downscale task` commands on a Dask distributed cluster for the `downscale`
process that runs a flow, which starts this program and talks to it in JSON lines.

Its first argument is a JSON object: `scheduler_address` (connect to that scheduler; null starts a LocalCluster of
`n_workers` worker processes with `threads_per_worker` threads and `memory_limit` bytes each). It prints one event
per line on stdout:

    {"event": "ready", "scheduler": ..., "dashboard": ..., "workers": n}    once connected
    {"event": "error", "message": ..., "kind": "import"?}   if it cannot import Dask or connect (then it exits 1)
    {"event": "status", "id": ..., "status": "succeeded" | "failed", "reason": ...}

and reads requests on stdin:

    {"op": "submit", "id": ..., "command": [...], "cwd": ..., "after": [ids]}
    {"op": "cancel", "ids": [...]}
    {"op": "close"}

A job waits here until every job in `after` has succeeded (as Slurm's `afterok` does: a job after a failed one
waits until it is cancelled), and only then goes to the scheduler. Dask's own dependencies are not used for this,
because a failure there fails every dependent with the same error, and the flow's process must tell a job's own
failure from one it inherited. The scheduler does not retry a command that exits non-zero (the flow's process
decides), but it does run a job again on another worker when the worker running it dies.
"""

import json
import queue
import sys
import threading


def run_command(command, cwd):
    """Runs one `downscale task` command on a worker; its exit status decides success. The command is killed when
    the worker process dies, so a job running again elsewhere never races an orphan of its earlier run."""
    import ctypes
    import signal
    import subprocess

    def die_with_worker():
        pr_set_pdeathsig = 1
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL)

    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, preexec_fn=die_with_worker)
    if done.returncode != 0:
        lines = [line for line in done.stderr.splitlines() if line.strip()]
        last = lines[-1].strip() if lines else ""
        raise RuntimeError(f"exit status {done.returncode}: {last}" if last else f"exit status {done.returncode}")
    return done.stdout


def emit(event, lock=threading.Lock()):
    with lock:
        sys.stdout.write(json.dumps(event) + "\n")
        sys.stdout.flush()


def connect(settings):
    from distributed import Client, LocalCluster

    address = settings.get("scheduler_address")
    if address:
        return Client(address, timeout="10s"), None
    cluster = LocalCluster(
        n_workers=settings["n_workers"],
        threads_per_worker=settings["threads_per_worker"],
        memory_limit=settings["memory_limit"],
        processes=True,
        dashboard_address="127.0.0.1:0",
        host="127.0.0.1",
    )
    return Client(cluster), cluster


def main():
    settings = json.loads(sys.argv[1])
    try:
        import distributed  # noqa: F401
    except ImportError as error:
        emit({"event": "error", "kind": "import", "message": str(error)})
        return 1
    try:
        client, cluster = connect(settings)
    except Exception as error:  # the scheduler's address is wrong or nothing answers there
        message = " ".join(str(error).split()) or type(error).__name__
        emit({"event": "error", "message": message})
        return 1
    workers = len(client.scheduler_info().get("workers", {}))
    emit({"event": "ready", "scheduler": client.scheduler.address, "dashboard": client.dashboard_link,
          "workers": workers})

    inbox = queue.Queue()

    def read_requests():
        for line in sys.stdin:
            if line.strip():
                inbox.put(("request", json.loads(line)))
        inbox.put(("request", {"op": "close"}))

    threading.Thread(target=read_requests, daemon=True).start()

    waiting = {}    # id -> request, until every job it is after has succeeded
    running = {}    # id -> future
    succeeded = set()

    def start_ready():
        for job_id, request in list(waiting.items()):
            if all(after in succeeded for after in request["after"]):
                del waiting[job_id]
                future = client.submit(run_command, request["command"], request["cwd"], key=f"downscale-{job_id}",
                                       pure=False, retries=0)
                future.add_done_callback(lambda f, job_id=job_id: inbox.put(("done", (job_id, f))))
                running[job_id] = future

    while True:
        kind, item = inbox.get()
        if kind == "done":
            job_id, future = item
            if running.get(job_id) is not future:
                continue
            del running[job_id]
            if future.status == "finished":
                succeeded.add(job_id)
                emit({"event": "status", "id": job_id, "status": "succeeded"})
            elif future.status == "cancelled":
                emit({"event": "status", "id": job_id, "status": "failed", "reason": "was cancelled"})
            else:
                error = future.exception()
                reason = " ".join(str(error).split()) or type(error).__name__
                emit({"event": "status", "id": job_id, "status": "failed", "reason": reason})
            start_ready()
        elif item["op"] == "submit":
            waiting[item["id"]] = item
            start_ready()
        elif item["op"] == "cancel":
            for job_id in item["ids"]:
                waiting.pop(job_id, None)
                future = running.pop(job_id, None)
                if future is not None:
                    future.cancel()
        elif item["op"] == "close":
            client.close()
            if cluster is not None:
                cluster.close()
            return 0


if __name__ == "__main__":
    sys.exit(main())
