"""The job server of a local run (carbonbudget.pipeline.jobserver): a job sent to it runs in a
fork of the server, in the job's folder, environment and terminal streams, with the job's exit
status; a signal to the job's script stops the fork; without a server, or where the server may
not be used, the job runs in its own process."""

import importlib
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from carbonbudget.pipeline import jobserver

pytestmark = pytest.mark.skipif(not jobserver.available(), reason="the job server needs Linux")

# a stage module of the tests' own: it reports where and how it ran, or fails, or waits
STAGE = textwrap.dedent(
    """
    import json, os, sys, time

    class stage:
        @staticmethod
        def run(job):
            if job.rule == "fail":
                print("the stage says why", file=sys.stderr)
                raise SystemExit(3)
            if job.rule == "crash":
                raise ValueError("a bug")
            if job.rule == "steps":  # how many preload steps the server had made
                with open(job.output[0], "w") as f:
                    f.write(str(len(open(os.environ["STEPS_FILE"]).read().split())))
                return
            if job.rule == "threads":  # the native thread pools the job's fork computes with
                from threadpoolctl import threadpool_info
                with open(job.output[0], "w") as f:
                    json.dump(sorted({p["num_threads"] for p in threadpool_info()}), f)
                return
            if job.rule == "wait":
                open(job.output[0] + ".pid", "w").write(str(os.getpid()))
                time.sleep(60)
            print("stage output on stdout")
            with open(job.output[0], "w") as f:
                json.dump({"pid": os.getpid(), "ppid": os.getppid(), "cwd": os.getcwd(),
                           "env": os.environ.get("JOB_ONLY"), "input": job.input[0]}, f)
    """
)
CLIENT = textwrap.dedent(
    """
    import sys, types
    from carbonbudget.pipeline.jobserver import run
    job = types.SimpleNamespace(rule=sys.argv[1], input=["in.tif"], output=[sys.argv[2]])
    run(job, "fake_stage")
    print("ran here")
    """
)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """A server started as Snakemake's onstart starts it, with the tests' stage importable."""
    lib = tmp_path_factory.mktemp("lib")
    (lib / "fake_stage.py").write_text(STAGE)
    (lib / "client.py").write_text(CLIENT)
    old = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(lib), old]))
    path = jobserver.start()
    try:
        wait_until(lambda: os.path.exists(path))
        yield {"path": path, "lib": lib, "pid": jobserver._server.pid}
    finally:
        jobserver.stop()
        if old is None:
            os.environ.pop("PYTHONPATH", None)
        else:
            os.environ["PYTHONPATH"] = old


def wait_until(condition, seconds=60):
    """Poll ``condition`` every 50 ms until it holds or ``seconds`` have passed."""
    deadline = time.time() + seconds
    while not condition() and time.time() < deadline:
        time.sleep(0.05)


def client(server, rule, out, cwd, env=None, **kw):
    return subprocess.Popen(
        [sys.executable, str(server["lib"] / "client.py"), rule, str(out)],
        cwd=cwd,
        env={**os.environ, **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **kw,
    )


def test_a_job_runs_in_a_fork_of_the_server_with_its_own_folder_and_environment(server, tmp_path):
    import json

    out = tmp_path / "ran.json"
    proc = client(server, "ok", out, tmp_path, env={"JOB_ONLY": "this job"})
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 0, stderr
    got = json.loads(out.read_text())
    assert got["ppid"] == server["pid"]  # forked by the server, not started by the script
    assert got["pid"] not in (proc.pid, server["pid"])
    assert got["cwd"] == str(tmp_path) and got["env"] == "this job" and got["input"] == "in.tif"
    # the fork wrote to the script's own stdout; the script ended with the job
    assert "stage output on stdout" in stdout and "ran here" not in stdout


def test_a_job_computes_with_the_native_threads_snakemake_gives_it(server, tmp_path):
    """OpenBLAS sizes its pool when loaded, in the server (no thread variables there): each fork
    takes the job's own (Snakemake sets OMP_NUM_THREADS and the like to the rule's threads)."""
    import json

    maps = f"/proc/{server['pid']}/maps"
    wait_until(lambda: "openblas" in Path(maps).read_text())  # numpy loaded by the server
    assert "openblas" in Path(maps).read_text()
    for threads in ("1", "2"):
        out = tmp_path / f"threads_{threads}.json"
        env = {v: threads for v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}
        proc = client(server, "threads", out, tmp_path, env=env)
        _, stderr = proc.communicate(timeout=120)
        assert proc.returncode == 0, stderr
        assert json.loads(out.read_text()) == [int(threads)]


def test_a_fork_sizes_the_native_pools_the_server_found_once():
    """The server finds the loaded native pools once (its last preload step); a fork sizes them
    to its job's threads without searching the loaded libraries again."""
    code = textwrap.dedent(
        """
        import json, os
        import numpy, threadpoolctl
        from carbonbudget.pipeline import jobserver
        jobserver._find_native_threads()
        threadpoolctl.threadpool_limits = None  # the search a fork must not repeat
        os.environ["OMP_NUM_THREADS"] = "1"
        jobserver._limit_native_threads()
        print(json.dumps(sorted({p["num_threads"] for p in threadpoolctl.threadpool_info()})))
        """
    )
    env = {k: v for k, v in os.environ.items() if not k.endswith("_NUM_THREADS")}
    proc = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["[1]"]
    assert jobserver.preload_steps()[-1] is jobserver._find_native_threads


def test_the_jobs_exit_status_and_error_reach_snakemake(server, tmp_path):
    proc = client(server, "fail", tmp_path / "x", tmp_path)
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 3 and "the stage says why" in stderr
    proc = client(server, "crash", tmp_path / "x", tmp_path)
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 1
    assert "ValueError: a bug" in stderr and stderr.count("Traceback") == 1


def test_a_signal_to_the_jobs_script_stops_the_fork(server, tmp_path):
    out = tmp_path / "w"
    proc = client(server, "wait", out, tmp_path)
    pid_file = Path(f"{out}.pid")
    wait_until(pid_file.exists)
    child = int(pid_file.read_text())
    proc.send_signal(signal.SIGTERM)
    proc.communicate(timeout=30)
    assert proc.returncode == 128 + signal.SIGTERM
    wait_until(lambda: not Path(f"/proc/{child}").exists(), seconds=10)
    assert not Path(f"/proc/{child}").exists(), "the fork runs on after its job was cancelled"


@pytest.mark.parametrize(
    "env",
    [{"SLURM_JOB_ID": "17"}, {jobserver.ENV_VAR: "another-host:/tmp/x.sock"}],
    ids=["cluster job", "another host"],
)
def test_where_the_server_may_not_be_used_the_job_runs_in_its_own_process(server, tmp_path, env):
    import json

    out = tmp_path / "ran.json"
    proc = client(server, "ok", out, tmp_path, env=env)
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 0, stderr
    assert json.loads(out.read_text())["pid"] == proc.pid
    assert "ran here" in stdout


def test_a_server_that_ends_before_it_forks_the_job_leaves_the_job_to_its_script(server, tmp_path):
    """A server stopped between the script's connection and the fork (the end of a run):
    the job has not started, so the script runs it itself."""
    import json
    import socket
    import threading

    path = tmp_path / "dying.sock"
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(path))
    listener.listen(1)

    def close_the_first_job():
        conn, _ = listener.accept()
        conn.close()

    closer = threading.Thread(target=close_the_first_job)
    closer.start()
    out = tmp_path / "ran.json"
    address = f"{socket.gethostname()}:{path}"
    proc = client(server, "ok", out, tmp_path, env={jobserver.ENV_VAR: address})
    stdout, stderr = proc.communicate(timeout=120)
    closer.join(timeout=30)
    listener.close()
    assert proc.returncode == 0, stderr
    assert json.loads(out.read_text())["pid"] == proc.pid and "ran here" in stdout


def test_a_stopped_server_leaves_nothing_and_jobs_run_in_their_own_process(monkeypatch):
    # apart from the module's server
    monkeypatch.setattr(jobserver, "_server", None)
    monkeypatch.setattr(jobserver, "_folder", None)
    monkeypatch.delenv(jobserver.ENV_VAR, raising=False)
    path = jobserver.start()
    folder = os.path.dirname(path)
    assert os.environ[jobserver.ENV_VAR].endswith(path)
    jobserver.stop()
    assert jobserver.ENV_VAR not in os.environ and not os.path.exists(folder)
    assert jobserver._address() is None
    assert jobserver.start(enabled=False) is None and jobserver.ENV_VAR not in os.environ
    # the environment lost the address (a test, a user's code): the folder still goes
    folder = os.path.dirname(jobserver.start())
    del os.environ[jobserver.ENV_VAR]
    jobserver.stop()
    assert not os.path.exists(folder)


def test_the_server_ends_with_the_process_that_started_it(tmp_path):
    """A run killed without its onerror (kill -9) leaves no server behind, nor the socket's
    folder start() made."""
    parent = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    folder = tmp_path / f"{jobserver.FOLDER_PREFIX}x"
    folder.mkdir()
    sock = folder / "server.sock"
    server = subprocess.Popen(
        [sys.executable, "-m", "carbonbudget.pipeline.jobserver", str(sock), str(parent.pid)]
    )
    try:
        wait_until(sock.exists)
        assert server.poll() is None
        parent.kill()
        parent.wait()
        # the server is not the parent's child here, so it notices by the pid, not reparenting
        assert server.wait(timeout=30) == 0
        assert not sock.exists() and not folder.exists()
    finally:
        parent.kill()
        server.kill()


def test_the_server_imports_every_stage_and_starts_no_thread():
    """Forking a process with threads can deadlock the child: the imports must start none."""
    code = (
        "import threading; from carbonbudget.pipeline import jobserver; "
        "names = jobserver.preload(); print(len(names), threading.active_count())"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    n, threads = map(int, out.stdout.split())
    stages = Path(jobserver.__file__).parent / "stages"
    assert n == len([p for p in stages.glob("*.py") if p.name != "__init__.py"])
    assert threads == 1


def test_the_first_stages_libraries_are_imported_one_step_each_before_them():
    """A job that comes while the server imports waits for the step under way: the libraries
    the first jobs' stages import are steps of their own, before those stages, and each of them
    is one those stages import anyway (no step adds work to the server)."""
    steps = jobserver.preload_steps()
    names = [s.args[0] for s in steps if getattr(s, "func", None) is importlib.import_module]
    first = names.index(f"{jobserver.STAGES}.{jobserver.FIRST_STAGES[0]}")
    assert names[:first] == ["snakemake.script", *jobserver.FIRST_IMPORTS]
    assert names[first : first + len(jobserver.FIRST_STAGES)] == [
        f"{jobserver.STAGES}.{n}" for n in jobserver.FIRST_STAGES
    ]
    code = (
        "import importlib, sys; from carbonbudget.pipeline import jobserver as j; "
        "[importlib.import_module(f'{j.STAGES}.{n}') for n in j.FIRST_STAGES]; "
        "print(' '.join(m for m in j.FIRST_IMPORTS if m not in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == []


def test_the_server_loads_the_kernels_numbas_cache_holds(tmp_path):
    """A kernel cached by an earlier process is loaded before the fork, so the jobs do not each
    load it on their first call; a cache of another source is not used."""
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path / "cache")}
    fill = (
        "import numpy as np; from carbonbudget.science.fluxes import rock_weathering; "
        "q = np.ones((2, 2), np.float32); rock_weathering(q, q, np.ones((2, 2), np.uint8))"
    )
    check = (
        "from carbonbudget.pipeline import jobserver; from carbonbudget.science import fluxes; "
        "n = jobserver.load_cached_kernels(); print(n, len(fluxes.rock_weathering.overloads))"
    )

    def loaded():
        out = subprocess.run(
            [sys.executable, "-c", check], env=env, capture_output=True, text=True, check=True
        )
        return tuple(map(int, out.stdout.split()))

    assert loaded() == (0, 0)  # an empty cache: nothing to load, nothing compiled
    subprocess.run([sys.executable, "-c", fill], env=env, check=True)
    n, overloads = loaded()
    assert n >= 1 and overloads == 1


def test_a_job_that_comes_while_the_server_preloads_waits_for_one_step_only(server, tmp_path):
    """The server takes a job between two preload steps rather than after all of them, and
    goes on preloading afterwards."""
    steps_file, sock = tmp_path / "steps", tmp_path / "slow.sock"
    steps_file.write_text("")
    code = (
        "import sys, time; from carbonbudget.pipeline import jobserver; "
        f"step = lambda: (open({str(steps_file)!r}, 'a').write('x '), time.sleep(0.1)); "
        "jobserver.preload_steps = lambda crs=None: [step] * 40; "
        f"jobserver.serve({str(sock)!r}, {os.getpid()})"
    )
    slow = subprocess.Popen([sys.executable, "-c", code], env=os.environ.copy())
    try:
        wait_until(sock.exists)
        host = jobserver.socket.gethostname()
        env = {jobserver.ENV_VAR: f"{host}:{sock}", "STEPS_FILE": str(steps_file)}
        out = tmp_path / "done"
        proc = client(server, "steps", out, tmp_path, env=env)
        _, stderr = proc.communicate(timeout=60)
        assert proc.returncode == 0, stderr
        done_then = int(out.read_text())
        assert done_then < 40  # the job did not wait for the 4 s of preloading
        wait_until(lambda: len(steps_file.read_text().split()) > done_then)
        assert len(steps_file.read_text().split()) > done_then  # and the preload went on
    finally:
        slow.kill()


def test_the_server_ends_at_once_without_tearing_its_modules_down(tmp_path):
    """A SIGTERM (the end of the run) ends the server with status 0 and its socket removed,
    without the interpreter's teardown of what it preloaded, which the run's end would wait
    for (atexit handlers, as module teardown, do not run)."""
    sock, marker = tmp_path / "s.sock", tmp_path / "torn_down"
    code = (
        "import atexit; from carbonbudget.pipeline import jobserver; "
        f"atexit.register(lambda: open({str(marker)!r}, 'w').close()); "
        "jobserver.preload_steps = lambda crs=None: []; "
        f"jobserver.main(['jobserver', {str(sock)!r}, '{os.getpid()}'])"
    )
    server = subprocess.Popen([sys.executable, "-c", code])
    try:
        wait_until(sock.exists)
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=30) == 0
        assert not sock.exists() and not marker.exists()
    finally:
        server.kill()


def test_a_sigterm_ends_the_server_even_where_python_would_ignore_the_exception(tmp_path):
    """A SIGTERM that comes while Python swallows every exception (as in the weakref callback
    of importlib's module locks, where a SystemExit is printed and ignored) still ends the
    server at once, with status 0, no traceback and its socket removed."""
    sock, started = tmp_path / "s.sock", tmp_path / "started"
    code = "\n".join(
        [
            "import contextlib, time",
            "from carbonbudget.pipeline import jobserver",
            "def step():",
            f"    open({str(started)!r}, 'w').close()",
            "    with contextlib.suppress(BaseException):",
            "        time.sleep(5)",
            "jobserver.preload_steps = lambda crs=None: [step] * 20",
            f"jobserver.main(['jobserver', {str(sock)!r}, '{os.getpid()}'])",
        ]
    )
    server = subprocess.Popen([sys.executable, "-c", code], stderr=subprocess.PIPE, text=True)
    try:
        wait_until(started.exists)
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=20) == 0  # not after the 20 steps of 5 s
        assert "Traceback" not in server.stderr.read()
        assert not sock.exists()
    finally:
        server.kill()


GRID_CRS = "+proj=aea +lat_0=0 +lon_0=105 +lat_1=25 +lat_2=47 +x_0=0 +y_0=0 +ellps=WGS84 +units=m"


def test_the_server_names_the_grids_crs_once_for_all_its_jobs():
    from carbonbudget.core import grid

    steps = jobserver.preload_steps(GRID_CRS)
    named = [i for i, s in enumerate(steps) if getattr(s, "func", None) is jobserver._name_crs]
    # one step, right after the stages the first jobs need (they name the CRS first)
    assert len(named) == 1 and steps[named[0]].args == (GRID_CRS,)
    assert named[0] == 1 + len(jobserver.FIRST_IMPORTS) + len(jobserver.FIRST_STAGES)
    without = jobserver.preload_steps()
    assert not any(getattr(s, "func", None) is jobserver._name_crs for s in without)
    grid._named_definition.cache_clear()
    steps[named[0]]()
    before = grid._named_definition.cache_info()
    crs = grid.named_crs(GRID_CRS)  # what a fork of the server then does: no search of PROJ's db
    assert grid._named_definition.cache_info().hits == before.hits + 1
    assert crs.to_wkt().startswith('PROJCS["Albers Equal Area')


def test_the_grids_crs_reaches_the_server_as_a_text_only(monkeypatch):
    started = []

    class Popen:  # the server's command line, no process
        def __init__(self, args, **kwargs):
            started.append(args)

        def terminate(self):
            pass

        def wait(self, timeout=None):
            return 0

    monkeypatch.setattr(jobserver.subprocess, "Popen", Popen)
    monkeypatch.setattr(jobserver, "_server", None)
    monkeypatch.setattr(jobserver, "_folder", None)
    monkeypatch.delenv(jobserver.ENV_VAR, raising=False)  # the module's server keeps its own
    for crs, tail in ((GRID_CRS, [GRID_CRS]), (4326, []), (None, [])):
        path = jobserver.start(crs=crs)  # 4326: an EPSG number from YAML, named by the jobs
        jobserver.stop()
        assert started[-1][1:] == ["-m", jobserver.__name__, path, str(os.getpid()), *tail]
        assert not os.path.exists(os.path.dirname(path))
