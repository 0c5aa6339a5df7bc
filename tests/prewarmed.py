"""``python -m scrapy|scoring|osir_crawl.…`` for the tests, without paying the interpreter start.

Each such command costs well over a second of CPU before it does anything: Python, Scrapy,
Twisted, sqlite-utils (which imports pandas and pyarrow). The suite runs a few hundred of them.
So one *pre-warmed* interpreter per test process (this module run as ``python -m
tests.prewarmed``) imports those libraries once, then forks a child per command. The child is a
real process of its own — own pid, signals, exit status, files, its own reactor — that sets
the command's environment, working directory and output files, then runs the module as
``python -m`` would (``runpy``). Nothing of the project is imported before the fork: its
settings read the environment at import, and must read the command's.

A warm command's own ``python -m`` children (crawlall's spiders and its ``scoring build``) are
forked from the same interpreter: in the command, :class:`subprocess.Popen` asks the pre-warmed
interpreter over a Unix socket, handing over the child's standard streams and ``pass_fds``
(crawlall's lock and lifeline) as file descriptors, so the child holds them at the numbers
the command gave, in a session of its own if asked. The command keeps a ``Popen`` to it:
``pid``, ``poll``, ``wait``, signals. Only the parent process differs: the pre-warmed
interpreter, not the command.

:func:`run` and :class:`Popen` take the arguments of their :mod:`subprocess` namesakes; a
command that is not ``[sys.executable, "-m", <warm module>, …]`` goes to :mod:`subprocess`.
"""

from __future__ import annotations

import atexit
import itertools
import json
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WARM = ("scrapy", "scoring", "osir_crawl")  # top-level packages run from the warm interpreter
PRELOAD = ("scrapy.cmdline", "scrapy.crawler", "scrapy.core.engine", "scrapy.core.downloader",
           "scrapy.core.downloader.handlers.http11", "scrapy.downloadermiddlewares.retry",
           "scrapy.pipelines", "scrapy.utils.test", "twisted.internet.asyncioreactor",
           "twisted.web.client", "sqlite_utils", "yaml", "w3lib.url", "parsel", "requests",
           "scrapy_playwright.handler", "itemadapter", "pyarrow", "matplotlib.pyplot",
           "scrapyd.runner")


def preload_names() -> list[str]:
    """PRELOAD, Scrapy's commands (``scrapy`` imports them all to find the one asked for) and
    the modules of every component Scrapy's default settings name (a crawl loads most of them):
    what a command imports before it reaches the project, about 0.4 CPU-s a command."""
    import pkgutil

    import scrapy.commands
    from scrapy.settings import default_settings

    commands = [f"scrapy.commands.{m.name}"
                for m in pkgutil.iter_modules(scrapy.commands.__path__)]
    components = set()
    for key in dir(default_settings):
        value = getattr(default_settings, key)
        paths = [*value, *value.values()] if isinstance(value, dict) else [value]
        components |= {p.rsplit(".", 1)[0] for p in paths
                       if isinstance(p, str) and p.startswith("scrapy.") and p.count(".") > 1}
    return [*PRELOAD, *commands, *sorted(components)]


def warm(args) -> bool:
    return (isinstance(args, (list, tuple)) and len(args) > 2 and args[0] == sys.executable
            and args[1] == "-m" and str(args[2]).split(".")[0] in WARM)


# --- the test side ---------------------------------------------------------------------------
class _Server:
    """The pre-warmed interpreter of this process: requests in on its stdin, one JSON line
    each; "started" and "exited" lines back on its stdout."""

    def __init__(self):
        env = {k: v for k, v in os.environ.items() if not k.endswith("_TOKEN")}
        env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "tests" / "netguard"), str(ROOT)])
        env["OPENBLAS_NUM_THREADS"] = "1"  # numpy (via sqlite-utils): no threads to fork
        self.proc = subprocess.Popen([sys.executable, "-m", "tests.prewarmed"], cwd=ROOT,
                                     env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        self.lock = threading.Lock()  # one spawn at a time: replies come in order
        self.changed = threading.Condition()
        self.started: list[int] = []
        self.socket: str | None = None  # its launch socket (see launch_socket)
        self.exited: dict[int, int] = {}
        self.files = Path(tempfile.mkdtemp(prefix="osir-prewarmed-"))
        self.serial = itertools.count()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            message = json.loads(line)
            with self.changed:
                if "socket" in message:
                    self.socket = message["socket"]
                elif "started" in message:
                    self.started.append(message["started"])
                else:
                    self.exited[message["pid"]] = message["returncode"]
                self.changed.notify_all()
        with self.changed:
            self.started.append(-1)  # the server is gone: nobody waits forever
            self.changed.notify_all()

    def spawn(self, request: dict) -> int:
        with self.lock:
            self.proc.stdin.write(json.dumps(request).encode() + b"\n")
            self.proc.stdin.flush()
            with self.changed:
                self.changed.wait_for(lambda: self.started, timeout=60)
                pid = self.started.pop(0) if self.started else -1
        if pid <= 0:
            raise RuntimeError(f"the pre-warmed interpreter did not start {request['argv']}")
        return pid

    def wait(self, pid: int, timeout: float | None) -> int | None:
        with self.changed:
            self.changed.wait_for(lambda: pid in self.exited or self.proc.poll() is not None,
                                  timeout=timeout)
            return self.exited.get(pid)

    def close(self):
        self.proc.stdin.close()
        self.proc.wait(30)
        shutil.rmtree(self.files, ignore_errors=True)


_server: _Server | None = None
_server_lock = threading.Lock()


def server() -> _Server:
    global _server
    with _server_lock:
        if _server is None or _server.proc.poll() is not None:
            _server = _Server()
            atexit.register(_server.close)
        return _server


def launch_socket() -> str:
    """The pre-warmed interpreter's Unix socket, for a process started some other way to have
    a warm command forked (``OSIR_PREWARMED_SOCKET``; tests/scrapyd_runner.py)."""
    warm_server = server()
    with warm_server.changed:
        warm_server.changed.wait_for(lambda: warm_server.socket or warm_server.started,
                                     timeout=60)
    if not warm_server.socket:
        raise RuntimeError("the pre-warmed interpreter did not start")
    return warm_server.socket


class _Output:
    """``proc.stdout`` / ``proc.stderr`` of a PIPE: read once the process has ended."""

    def __init__(self, proc: Popen, path: Path):
        self.proc, self.path = proc, path

    def read(self):
        self.proc.wait()
        data = self.path.read_bytes()
        return data.decode(errors="replace") if self.proc.text else data


class _Signals:
    """Signals to a forked command, as :class:`subprocess.Popen` sends them (none once ended)."""

    pid: int
    returncode: int | None

    def send_signal(self, sig):
        if self.returncode is None:
            try:
                os.kill(self.pid, sig)
            except ProcessLookupError:
                pass

    def terminate(self):
        self.send_signal(signal.SIGTERM)

    def kill(self):
        self.send_signal(signal.SIGKILL)


class Popen(_Signals):
    """:class:`subprocess.Popen` for a warm command (see the module docstring)."""

    def __new__(cls, args, **kw):
        if not warm(args):
            return subprocess.Popen(args, **kw)
        return super().__new__(cls)

    def __init__(self, args, *, cwd=None, env=None, stdin=None, stdout=None, stderr=None,
                 text=False, universal_newlines=None, **unsupported):
        if unsupported:
            raise TypeError(f"prewarmed.Popen does not take {sorted(unsupported)}")
        assert stdin in (None, subprocess.DEVNULL), "no input to a warm command"
        self.args, self.returncode = args, None
        self.text = bool(text or universal_newlines)
        self.server = server()
        stem = self.server.files / f"{os.getpid()}-{next(self.server.serial)}"
        out, err = stem.with_suffix(".out"), stem.with_suffix(".err")
        paths = {"out": str(out) if stdout == subprocess.PIPE else os.devnull,
                 "err": str(err) if stderr == subprocess.PIPE else os.devnull}
        if stdout is None:
            paths["out"] = "inherit"
        if stderr is None:
            paths["err"] = "inherit"
        if stderr == subprocess.STDOUT:
            paths["err"] = "stdout"
        self._paths = [p for p in (out, err)]
        self.stdout = _Output(self, out) if stdout == subprocess.PIPE else None
        self.stderr = _Output(self, err) if stderr == subprocess.PIPE else None
        self.pid = self.server.spawn({
            "argv": [str(a) for a in args[2:]], "cwd": str(cwd or os.getcwd()),
            "env": dict(os.environ if env is None else env), **paths})

    def poll(self):
        return self.wait(timeout=0) if self.returncode is None else self.returncode

    def wait(self, timeout=None):
        if self.returncode is None:
            code = self.server.wait(self.pid, timeout)
            if code is None:
                if self.server.proc.poll() is not None:
                    raise RuntimeError(f"the pre-warmed interpreter died running {self.args}")
                if timeout == 0:
                    return None
                raise subprocess.TimeoutExpired(self.args, timeout)
            self.returncode = code
        return self.returncode

    def communicate(self, input=None, timeout=None):
        assert input is None, "no input to a warm command"
        self.wait(timeout)
        found = tuple(s.read() if s else None for s in (self.stdout, self.stderr))
        for path in self._paths:
            path.unlink(missing_ok=True)
        return found


def run(args, *, capture_output=False, timeout=None, check=False, **kw):
    """:func:`subprocess.run` for a warm command (see the module docstring)."""
    if not warm(args):
        return subprocess.run(args, capture_output=capture_output, timeout=timeout,
                              check=check, **kw)
    if capture_output:
        kw["stdout"] = kw["stderr"] = subprocess.PIPE
    proc = Popen(args, **kw)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        raise
    done = subprocess.CompletedProcess(args, proc.returncode, out, err)
    if check:
        done.check_returncode()
    return done


# --- in a warm command: its own warm children ------------------------------------------------
_RealPopen = subprocess.Popen
_SOCKET: str | None = None  # the pre-warmed interpreter's launch socket (set before any fork)
_SERVER_SOCKETS: list[socket.socket] = []  # its listener and commands' connections
_PLAIN = (None, subprocess.DEVNULL)


def _launchable(args, kw: dict) -> bool:
    """A warm command whose streams are inherited, /dev/null or open files (no pipes)."""
    if not warm(args) or set(kw) - {"stdin", "stdout", "stderr", "pass_fds", "env", "cwd",
                                    "start_new_session", "close_fds"}:
        return False
    streams = [kw.get("stdin"), kw.get("stdout"), kw.get("stderr")]
    return (kw.get("close_fds", True) and streams[0] in _PLAIN
            and all(s in _PLAIN or s == subprocess.STDOUT and i == 2 or isinstance(s, int)
                    and s >= 0 or hasattr(s, "fileno") for i, s in enumerate(streams)))


class _LaunchingPopen(_RealPopen):
    """``subprocess.Popen`` inside a warm command: warm commands go to :class:`WarmChild`."""

    def __new__(cls, args, *rest, **kw):
        if cls is _LaunchingPopen and not rest and _launchable(args, kw):
            return WarmChild(args, **kw)
        return super().__new__(cls)


class WarmChild(_Signals):
    """A ``python -m`` child forked by the pre-warmed interpreter; the subset of
    :class:`subprocess.Popen` that plain (pipe-less) callers use."""

    def __init__(self, args, *, stdin=None, stdout=None, stderr=None, pass_fds=(), env=None,
                 cwd=None, start_new_session=False, close_fds=True):
        self.args, self.returncode = args, None
        self.stdin = self.stdout = self.stderr = None
        null = os.open(os.devnull, os.O_RDWR)
        try:
            def fd_of(stream, default: int) -> int:
                if stream is None:
                    return default
                if stream == subprocess.DEVNULL:
                    return null
                return stream if isinstance(stream, int) else stream.fileno()

            out = fd_of(stdout, 1)
            err = out if stderr == subprocess.STDOUT else fd_of(stderr, 2)
            fds = [fd_of(stdin, 0), out, err, *pass_fds]
            self.conn = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
            self.conn.connect(_SOCKET or os.environ["OSIR_PREWARMED_SOCKET"])
            request = {"argv": [str(a) for a in args[2:]], "cwd": str(cwd or os.getcwd()),
                       "env": dict(os.environ if env is None else env),
                       "targets": [0, 1, 2, *pass_fds], "new_session": start_new_session}
            socket.send_fds(self.conn, [json.dumps(request).encode()], fds)
        finally:
            os.close(null)
        reply = self.conn.recv(1 << 16)
        self.pid = json.loads(reply).get("started", -1) if reply else -1
        if self.pid <= 0:
            raise OSError(f"the pre-warmed interpreter did not start {args}")

    def wait(self, timeout=None):
        if self.returncode is None:
            ready, _, _ = select.select([self.conn], [], [], timeout)
            if not ready:
                raise subprocess.TimeoutExpired(self.args, timeout)
            reply = self.conn.recv(1 << 16)
            if not reply:
                raise OSError(f"the pre-warmed interpreter died running {self.args}")
            self.returncode = json.loads(reply)["returncode"]
            self.conn.close()
        return self.returncode

    def poll(self):
        try:
            return self.wait(timeout=0)
        except subprocess.TimeoutExpired:
            return None

    def communicate(self, input=None, timeout=None):
        assert input is None, "no input to a warm command"
        self.wait(timeout)
        return None, None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.wait()


# --- the pre-warmed interpreter --------------------------------------------------------------
def _child(request: dict, received: list[int] | None = None) -> None:
    """In the forked child: become ``python -m <argv>`` as the request says; never returns.
    ``received``: the file descriptors a warm command handed over (see :class:`WarmChild`)."""
    code = 1
    try:
        signal.signal(signal.SIGINT, signal.default_int_handler)
        if request.get("new_session"):
            os.setsid()
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        if received is None:
            _streams_to_files(request)
        else:
            _place(received, request["targets"])
        subprocess.Popen = _LaunchingPopen  # this command's own warm children: forked here too
        module, *args = request["argv"]
        sys.argv = [module, *args]
        sys.path[0] = request["cwd"]  # as ``python -m`` puts the working directory first
        import runpy

        runpy.run_module(module, run_name="__main__", alter_sys=True)
        code = 0
    except SystemExit as exc:
        if exc.code is None or isinstance(exc.code, int):
            code = exc.code or 0
        else:
            print(exc.code, file=sys.stderr)
    except BaseException:
        import traceback

        traceback.print_exc()
    finally:
        try:
            threading._shutdown()  # what the interpreter does at exit: join the threads,
            atexit._run_exitfuncs()  # run the exit hooks (logging flushes its files)
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)


def _streams_to_files(request: dict) -> None:
    """A test's command: stdin /dev/null, stdout and stderr to the files the test reads."""
    for sock in _SERVER_SOCKETS:
        sock.close()
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    for fd, key in ((1, "out"), (2, "err")):
        target = request[key]
        if target == "stdout":
            os.dup2(1, 2)
        elif target == "inherit":
            os.dup2(request["inherit"][fd - 1], fd)
        else:
            opened = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
            os.dup2(opened, fd)
            os.close(opened)


def _place(received: list[int], targets: list[int]) -> None:
    """A warm command's child: each received descriptor at the number the command gave, and
    nothing else open beyond the standard streams (as ``close_fds`` leaves an exec'd child)."""
    import fcntl

    for sock in _SERVER_SOCKETS:  # closed below, by number: the objects must not close again
        sock.detach()
    top = max([*targets, *received]) + 1
    moved = [fcntl.fcntl(fd, fcntl.F_DUPFD, top) for fd in received]  # above every target
    for fd, target in zip(moved, targets):
        os.dup2(fd, target)  # inheritable, as pass_fds are
    keep = {0, 1, 2, *targets}
    for name in os.listdir("/proc/self/fd"):
        if int(name) not in keep:
            try:
                os.close(int(name))
            except OSError:  # the listing's own descriptor, already gone
                pass


def _serve() -> None:
    global _SOCKET
    import importlib
    import warnings

    with warnings.catch_warnings():  # pkg_resources (scrapyd.runner) warns of its own end
        warnings.simplefilter("ignore")
        for name in preload_names():
            try:
                importlib.import_module(name)
            except Exception:  # an optional component whose own dependency is missing
                pass
    assert "twisted.internet.reactor" not in sys.modules, "a preload installed a reactor"
    assert not [m for m in sys.modules if m.split(".")[0] in ("osir_crawl", "scoring")]
    # Children whose output is "inherit" get this process's own stderr (the test's).
    inherit = [os.dup(2), os.dup(2)]
    # A Unix socket's path has at most 107 bytes: a long TMPDIR would not do.
    home = tempfile.mkdtemp(prefix="osir-launch-",
                            dir=None if len(tempfile.gettempdir()) < 64 else "/tmp")
    _SOCKET = os.path.join(home, "socket")
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    listener.bind(_SOCKET)
    listener.listen(64)
    _SERVER_SOCKETS.append(listener)
    os.write(1, json.dumps({"socket": _SOCKET}).encode() + b"\n")
    exits: dict[int, socket.socket] = {}  # pid of a warm command's child -> its command's socket
    buffer = b""
    try:
        while True:
            ready, _, _ = select.select([0, *_SERVER_SOCKETS], [], [], 0.02)
            if 0 in ready:
                chunk = os.read(0, 1 << 16)
                if not chunk:
                    return  # the test process is gone
                buffer += chunk
                while b"\n" in buffer:
                    line, buffer = buffer.split(b"\n", 1)
                    request = json.loads(line)
                    request["inherit"] = inherit
                    pid = os.fork()
                    if pid == 0:
                        _child(request)
                    os.write(1, json.dumps({"started": pid}).encode() + b"\n")
            if listener in ready:
                _SERVER_SOCKETS.append(listener.accept()[0])
            for conn in [c for c in ready if c is not listener and c != 0]:
                try:
                    message, fds, _, _ = socket.recv_fds(conn, 1 << 20, 64)
                except OSError:
                    message, fds = b"", []
                if not message:  # the command ended (its children live on)
                    _SERVER_SOCKETS.remove(conn)
                    conn.close()
                    continue
                pid = os.fork()
                if pid == 0:
                    _child(json.loads(message), fds)
                for fd in fds:  # the child's alone now (a lock held here would never free)
                    os.close(fd)
                exits[pid] = conn
                conn.send(json.dumps({"started": pid}).encode())
            while True:
                try:
                    pid, status = os.waitpid(-1, os.WNOHANG)
                except ChildProcessError:
                    break
                if pid == 0:
                    break
                code = os.waitstatus_to_exitcode(status)
                message = json.dumps({"pid": pid, "returncode": code}).encode()
                if pid in exits:
                    try:
                        exits.pop(pid).send(message)
                    except OSError:  # its command is gone
                        pass
                else:
                    os.write(1, message + b"\n")
    finally:
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    _serve()
