"""The job server of a local run: the package is imported once, and each job is a fork of the
process that imported it instead of a new Python that imports it again.

Each Snakemake job is a new Python process (``script:``), and importing the stage a job runs
(numpy, rasterio and GDAL, geopandas, matplotlib, the numba kernels) costs more than most jobs of
a province-sized run compute (docs/performance.md, "The job server"). When a local run starts,
the Snakefile starts this server (``processing.job_server``); it listens on a Unix socket and,
between jobs, imports every stage module. A job's script (``workflow/scripts/<file>.py``) sends
it the job (Snakemake's ``snakemake`` object), its environment, working directory and its
three standard streams (file descriptors passed over the socket); the server forks, and the
child runs the stage as the script would have: it writes to the job's own terminal streams and
log, in a process of its own (memory, GIL, logging and matplotlib state are the job's alone),
and sends back the exit status. A signal that stops the script (Snakemake cancelling the run)
is passed on to the child.

A job runs in its own fresh process, as without a server, whenever the server is not there to
take it: a dry run, a cluster job (SLURM jobs run on other nodes and are accounted there),
another host, a server not listening yet or gone, ``processing.job_server: false``.

multiprocessing's ``forkserver`` preloads modules the same way, but serves only the process that
started it; Snakemake's jobs are unrelated processes, so this server listens on a socket any of
them can reach. The module imports only the standard library: a job that asks the server
pays nothing for the package.
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import os
import pickle
import pkgutil
import select
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import traceback
from collections.abc import Callable

# "<host>:<socket path>" of the run's server, set in Snakemake's process for its local jobs
ENV_VAR = "CARBONBUDGET_JOB_SERVER"
STAGES = "carbonbudget.pipeline.stages"
_SIZE = struct.Struct("!Q")  # the length of a request
_PID = struct.Struct("!q")  # the child's pid, the server's first answer
_STATUS = struct.Struct("!i")  # the job's exit status, the last answer
# what the jobs import on their first use rather than with the stages: dask.array (trend
# rasters), and distributed, which dask imports at its first compute to look for a cluster;
# pyogrio and rioxarray (polygons, raster outputs); scipy.stats and scikit-learn (scenarios,
# forecasts), libpysal and esda (spatial statistics): 0.5-1.5 s each where a job imports them;
# threadpoolctl, with which each fork sizes its native thread pools
LAZY_IMPORTS = (
    "dask.array",
    "distributed",
    "pyogrio",
    "rioxarray",
    "scipy.stats",
    "sklearn",
    "libpysal",
    "esda",
    "threadpoolctl",
)
# the folder start() makes for the socket: the server removes it when it ends with its parent
FOLDER_PREFIX = "carbonbudget-jobs-"
# the stage modules the first jobs of a run need, imported first (the others follow by name)
FIRST_STAGES = ("inputs", "demo", "align", "year")
# the libraries those stages import, each a step of its own before them (0.05-0.4 s each): the
# first job of a run comes while the server imports, and waits for the step under way, which was
# the whole first stage module (1.6-1.7 s with Snakemake and the first job beside it)
FIRST_IMPORTS = (
    "numpy",
    "pandas",
    "shapely",
    "pyproj",
    "rasterio",
    "geopandas",
    "scipy.sparse",
    "numba",
    "xarray",
    "dask",
)
_server: subprocess.Popen | None = None  # the server started by this process (start/stop)
_folder: str | None = None  # the folder of its socket


def available() -> bool:
    """Whether a job server can run here: forks and Unix sockets (Linux; macOS's system
    libraries are not safe to use after a fork)."""
    return sys.platform.startswith("linux")


def start(enabled: bool = True, crs: object = None) -> str | None:
    """Start the run's server (from Snakemake's ``onstart``, in a local run) and tell the jobs
    where it is through the environment they inherit. ``crs``: the grid's CRS as the config
    gives it; a text is named once in the server (:func:`carbonbudget.core.grid.named_crs`)
    rather than in every job, anything else is left to the jobs. Returns the socket's path, or
    None when no server is started. The server stops with :func:`stop`, or by itself when the
    process that started it ends."""
    global _server, _folder
    if not enabled or not available() or _server is not None:
        return None
    folder = _folder = tempfile.mkdtemp(prefix=FOLDER_PREFIX)
    path = os.path.join(folder, "server.sock")
    _server = subprocess.Popen(
        [sys.executable, "-m", __name__, path, str(os.getpid())]
        + ([crs] if isinstance(crs, str) and crs else []),
        stdin=subprocess.DEVNULL,
        start_new_session=True,  # a Ctrl-C in the terminal stops the jobs, not the server
    )
    os.environ[ENV_VAR] = f"{socket.gethostname()}:{path}"
    return path


def stop() -> None:
    """Stop the server :func:`start` started (jobs already forked run to their end) and remove
    its socket."""
    global _server, _folder
    address = os.environ.pop(ENV_VAR, None)
    if _server is not None:
        _server.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            _server.wait(timeout=5)
        _server = None
    # the folder start() made, which the environment's address may no longer name
    folder = _folder or (os.path.dirname(address.split(":", 1)[1]) if address else None)
    _folder = None
    if folder:
        shutil.rmtree(folder, ignore_errors=True)


def _address() -> str | None:
    """The socket of this host's server, if this job may use one."""
    address = os.environ.get(ENV_VAR)
    if not address or "SLURM_JOB_ID" in os.environ or not available():
        return None
    host, _, path = address.partition(":")
    return path if host == socket.gethostname() and os.path.exists(path) else None


def run(job, module: str) -> None:
    """Run the stage of ``job`` in ``module`` (``carbonbudget.pipeline.stages.<file>``): in a
    fork of the run's server when there is one, else here. Ends the process with the job's exit
    status when the server ran it."""
    status = _run_in_server(job, module)
    if status is None:  # no server took the job: it runs here
        importlib.import_module(module).stage.run(job)
        return
    raise SystemExit(status)


def _run_in_server(job, module: str) -> int | None:
    """The job's exit status after a fork of the server ran it; None when no server forked it
    (none here, not listening yet, gone, or ended before the fork: the job has not started)."""
    path = _address()
    if path is None:
        return None
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        try:
            sock.connect(path)
            request = pickle.dumps(
                {"module": module, "job": job, "env": dict(os.environ), "cwd": os.getcwd()},
                protocol=pickle.HIGHEST_PROTOCOL,
            )
            sys.stdout.flush()
            sys.stderr.flush()
            socket.send_fds(sock, [_SIZE.pack(len(request))], [0, 1, 2])
            sock.sendall(request)
            child = _recv(sock, _PID.size)
        except OSError:
            return None
        return None if child is None else _wait(sock, _PID.unpack(child)[0])


def _recv(sock: socket.socket, n: int) -> bytes | None:
    """Exactly ``n`` bytes, or None when the other side closed first."""
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            return None
        data += chunk
    return data


def _wait(sock: socket.socket, child: int) -> int:
    """The exit status of the job the server forked as process ``child``, passing on the
    signals that stop this process (Snakemake cancels a job by signalling its script)."""

    def forward(signum, _frame):
        with contextlib.suppress(ProcessLookupError):
            os.kill(child, signum)
        raise SystemExit(128 + signum)

    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(signum, forward)
    status = _recv(sock, _STATUS.size)
    if status is None:
        print(f"carbonbudget: the job's process ({child}) ended without a status", file=sys.stderr)
        return 1
    return _STATUS.unpack(status)[0]


def preload(crs: str | None = None) -> list[str]:
    """Import every stage module and what the jobs import later (what the forks share), name
    the grid's CRS, load the cached kernels and warm up the figures. Returns the stage modules
    imported."""
    for step in preload_steps(crs):
        step()
    return stage_modules()


def stage_modules() -> list[str]:
    """The stage modules, those the first jobs of a run need first."""
    # lazy: the package, imported by the server only; a job's script imports this module alone
    import carbonbudget.pipeline.stages as stages

    names = sorted(
        (m.name for m in pkgutil.iter_modules(stages.__path__)),
        key=lambda n: (FIRST_STAGES.index(n) if n in FIRST_STAGES else len(FIRST_STAGES), n),
    )
    return [f"{STAGES}.{name}" for name in names]


def preload_steps(crs: str | None = None) -> list[Callable[[], object]]:
    """What the server does before a job needs it, in steps of at most about half a second on
    an idle machine, in the order the jobs of a run need them: the server takes a job that
    comes between two steps at once, and the job imports itself whatever is not loaded yet.
    With ``crs`` (the grid's, as the config gives it), its name is looked up once after the
    first jobs' stages."""
    # snakemake.script: the class of the jobs the server unpickles
    modules = stage_modules()
    first = len(FIRST_STAGES)
    steps: list[Callable[[], object]] = [
        functools.partial(importlib.import_module, name)
        for name in ["snakemake.script", *FIRST_IMPORTS, *modules[:first]]
    ]
    if crs:
        steps.append(functools.partial(_name_crs, crs))
    steps += [
        functools.partial(importlib.import_module, name)
        for name in [*modules[first:], *LAZY_IMPORTS]
    ]
    steps.append(_warm_up_figures)
    steps.append(load_cached_kernels)
    steps.append(_find_native_threads)
    return steps


def _name_crs(crs: str) -> None:
    """The grid's CRS named as every job names it (PROJ's search of its database for an EPSG
    twin, ~50 ms per job otherwise; the forks inherit the answer)."""
    importlib.import_module("carbonbudget.core.grid").named_crs(crs)


def _warm_up_figures() -> None:
    """Pyplot and the map fonts, drawn once (:func:`carbonbudget.outputs.figures.warm_up`)."""
    importlib.import_module("carbonbudget.outputs.figures").warm_up()


# threadpoolctl's controller of the native thread pools the server has loaded (found once: the
# search of the loaded libraries takes ~25 ms, and each fork would repeat it)
_NATIVE_POOLS: list = []


def _find_native_threads() -> None:
    """Find the native thread pools (OpenBLAS, OpenMP) the preloaded modules have loaded, for
    :func:`_limit_native_threads` in each fork."""
    # lazy: this module imports the standard library only (a job's script imports it)
    from threadpoolctl import ThreadpoolController

    _NATIVE_POOLS[:] = [ThreadpoolController()]


def load_cached_kernels() -> int:
    """Load every compiled kernel of the package that numba's on-disk cache holds for this
    source, so that the forks do not each load them again on their first call (0.3-0.5 s per
    job). Returns how many were loaded; none when the cache is empty or numba's layout has
    changed (the forks then load them as any process does)."""
    # lazy: the server imports numba with the stages; a job's script never does
    from numba.core.registry import CPUDispatcher

    loaded = 0
    kernels = {
        id(obj): obj
        for name, module in list(sys.modules.items())
        if name.startswith("carbonbudget.")
        for obj in vars(module).values()
        if isinstance(obj, CPUDispatcher)
    }
    for kernel in kernels.values():
        # numba has no public call for "load what is cached": its cache index is read, and each
        # signature cached for this source and machine is compiled, which loads it from the cache
        try:
            cache = kernel._cache  # type: ignore[attr-defined]
            codegen = kernel.targetctx.codegen()  # type: ignore[attr-defined]
            for key in cache._cache_file._load_index():
                if key == cache._index_key(key[0], codegen):
                    kernel.compile(key[0])
                    loaded += 1
        except Exception:  # noqa: BLE001 - a kernel not loaded here is loaded by its job
            continue
    return loaded


def serve(path: str, parent: int, crs: str | None = None) -> None:
    """Listen on ``path`` until the process ``parent`` ends or a SIGTERM comes; fork a child
    for each job. Imports between jobs (:func:`preload_steps`): a job that comes before the
    server has imported all it needs waits for one step at most, not for the whole preload
    (~3 s, which the first jobs of a run would otherwise wait for)."""
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # the kernel reaps the children
    signal.signal(signal.SIGTERM, functools.partial(_end_now, path, os.getpid()))
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.bind(path)
    try:
        sock.listen(64)
        sock.settimeout(1.0)
        steps = preload_steps(crs)
        started_by = os.getppid()
        while os.getppid() == started_by and _alive(parent):
            if steps and not select.select([sock], [], [], 0)[0]:  # no job waiting: preload
                with contextlib.suppress(Exception):  # a job that needs it raises it itself
                    steps.pop(0)()
                continue
            _serve_one(sock)
    finally:
        sock.close()
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)
        # a run killed with kill -9 never calls stop(): its empty folder goes with the server
        folder = os.path.dirname(os.path.abspath(path))
        if os.path.basename(folder).startswith(FOLDER_PREFIX):
            with contextlib.suppress(OSError):  # not empty: not the folder start() made
                os.rmdir(folder)


def _end_now(path: str, server: int, *_signal: object) -> None:
    """The server's answer to a SIGTERM: its socket removed and the process ended with status
    0 at once. Not by raising SystemExit: a signal that comes while an import runs a weakref
    callback of importlib's module locks has the exception printed and ignored there, and the
    server would go on (a traceback in the run's log)."""
    if os.getpid() == server:  # a fork between its start and its own signal handlers: not ours
        with contextlib.suppress(OSError):
            os.unlink(path)
    with contextlib.suppress(BaseException):
        sys.stdout.flush()
        sys.stderr.flush()
    os._exit(0)


def _alive(pid: int) -> bool:
    """Whether the process ``pid`` runs."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, another user's
        return True
    return True


def _serve_one(sock: socket.socket) -> None:
    """Take one job (or none within the socket's timeout) and fork its child."""
    try:
        conn, _ = sock.accept()
    except TimeoutError:
        return
    fds: list[int] = []
    request = None
    try:
        conn.settimeout(10.0)  # a client that connects and says nothing does not stop the server
        head, fds, _flags, _addr = socket.recv_fds(conn, _SIZE.size, 3)
        if head and len(head) < _SIZE.size:
            head += _recv(conn, _SIZE.size - len(head)) or b""
        if len(head) == _SIZE.size:
            request = _recv(conn, _SIZE.unpack(head)[0])
    except OSError:
        pass
    if request is not None and len(fds) == 3:
        sys.stdout.flush()
        sys.stderr.flush()
        if os.fork() == 0:
            sock.close()
            _child(conn, fds, request)
    conn.close()
    for fd in fds:
        os.close(fd)


def _child(conn: socket.socket, fds: list[int], request: bytes) -> None:
    """Run one job in the forked child and end the process with its status."""
    status = 1
    try:
        for signum in (signal.SIGCHLD, signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, signal.SIG_DFL)  # the job's subprocesses are its own to wait on
        for target, fd in enumerate(fds):
            os.dup2(fd, target)
            os.close(fd)
        conn.settimeout(None)
        conn.sendall(_PID.pack(os.getpid()))
        req = pickle.loads(request)
        os.chdir(req["cwd"])
        os.environ.clear()
        os.environ.update(req["env"])
        _limit_native_threads()
        importlib.import_module(req["module"]).stage.run(req["job"])
        status = 0
    except SystemExit as end:
        status = _exit_status(end)
    except BaseException:  # what Python prints for an uncaught exception in a script
        traceback.print_exc()
    finally:
        with contextlib.suppress(BaseException):
            sys.stdout.flush()
            sys.stderr.flush()
            conn.sendall(_STATUS.pack(status))
        os._exit(status)


def _limit_native_threads() -> None:
    """The job's native thread pools (OpenBLAS and OpenMP under numpy, scipy and scikit-learn)
    sized as Snakemake sizes them for a job of its own (``OMP_NUM_THREADS`` and the like, the
    rule's ``threads``). These libraries read the variables once, when they are loaded: here in
    the server, whose environment has none, so every fork would use all cores for each job and
    two jobs would oversubscribe them (an MLP fit beside another busy job: 4.4 s against 1.0 s
    with one thread, docs/performance.md)."""
    n = os.environ.get("OMP_NUM_THREADS") or os.environ.get("OPENBLAS_NUM_THREADS")
    if not n or not n.isdigit():
        return
    if _NATIVE_POOLS:  # found by the server: libraries a job loads later read the variables
        _NATIVE_POOLS[0].limit(limits=int(n))
        return
    # lazy: this module imports the standard library only (a job's script imports it)
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=int(n))


def _exit_status(end: SystemExit) -> int:
    """The status Python gives a process that ends with ``end``: its code, 0 for none, 1 for a
    message."""
    return end.code if isinstance(end.code, int) else (0 if end.code is None else 1)


def main(argv: list[str]) -> None:
    """The server's process: :func:`serve`, then the end of the process without tearing down
    the modules it preloaded (dask, matplotlib, numba: ~1.3 s of interpreter shutdown, which the
    end of every run waited for in :func:`stop`)."""
    status = 0
    try:
        serve(argv[1], int(argv[2]), argv[3] if len(argv) > 3 else None)
    except SystemExit as end:
        status = _exit_status(end)
    except BaseException:  # noqa: BLE001 - printed as Python prints it, then the exit status 1
        traceback.print_exc()
        status = 1
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)


if __name__ == "__main__":
    main(sys.argv)
