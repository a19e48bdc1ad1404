"""``kg serve``: a SPARQL 1.1 Protocol endpoint over the store.

The endpoint is Oxigraph's own server (the ``oxigraph`` PyPI package), launched as
``oxigraph serve-read-only --location STORE --bind HOST:PORT --union-default-graph
--timeout-s T``: the same engine and the same default graph (the union of all articles) as
``kg query``. Read-only by default: ``/update`` answers 403 "The server is read-only".
``--writable`` runs ``oxigraph serve`` instead (it takes the store's write lock).

What you get (measured with oxigraph 0.5.13):
- the timeout is passed as ``--timeout-s``; Oxigraph documents it as a query timeout, but it
  did not stop a cross product of all triples (still running after 60 s). So ``kg serve``
  also watches the server's CPU time: when it has been busy for longer than the timeout
  without a pause, the server is restarted, which ends the runaway query (any other query
  running at that moment fails too; the endpoint is back within a second).
- there is no result-limit option in Oxigraph's server; put a LIMIT in your queries.
- prefixes are not predeclared as they are in ``kg query``: write PREFIX lines.
- Oxigraph says reading a store while another process writes it is undefined behaviour:
  do not run ``kg build`` on the store being served (serve a copy, or stop the server).
"""
from __future__ import annotations

import ipaddress
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 7878
DEFAULT_TIMEOUT = 30.0


class ServeError(Exception):
    """The endpoint cannot be started; the message says why."""


def oxigraph_binary() -> str:
    """The ``oxigraph`` executable installed beside this Python (the venv's bin/), or on PATH."""
    here = Path(sys.executable).parent / ("oxigraph.exe" if os.name == "nt" else "oxigraph")
    if here.is_file():
        return str(here)
    found = shutil.which("oxigraph")
    if not found:
        raise ServeError("the oxigraph server is not installed (pip install oxigraph)")
    return found


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass
class Endpoint:
    host: str
    port: int

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/query"

    @property
    def update_url(self) -> str:
        return self.url[: -len("query")] + "update"


def command(store: str | Path, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT,
            timeout: float = DEFAULT_TIMEOUT, writable: bool = False) -> list[str]:
    if str(store).lower().startswith(("http://", "https://")):
        raise ServeError(f"{store} is a SPARQL endpoint already: query it (kg query --store {store}) "
                         "or serve a store directory")
    path = Path(store)
    if not (path / "CURRENT").exists():
        raise ServeError(f"{path}: no store here (run `kg build` first)")
    if not 0 < port < 65536:
        raise ServeError(f"port {port} is not a TCP port")
    bind = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    cmd = [oxigraph_binary(), "serve" if writable else "serve-read-only", "--location", str(path),
           "--bind", bind, "--union-default-graph"]
    if timeout and timeout > 0:
        cmd += ["--timeout-s", str(max(1, round(timeout)))]
    return cmd


def start(store: str | Path, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT,
          timeout: float = DEFAULT_TIMEOUT, writable: bool = False,
          ready_within: float = 15.0) -> subprocess.Popen:
    """Start the server and return once it answers a query (or raise ServeError)."""
    log = tempfile.TemporaryFile()  # a file, not a pipe: an unread pipe would fill and block it
    proc = subprocess.Popen(command(store, host, port, timeout, writable),
                            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
    proc.log = log
    try:
        wait_ready(Endpoint(host, port), proc, ready_within)
    except BaseException:
        stop(proc)
        raise
    return proc


def wait_ready(endpoint: Endpoint, proc: subprocess.Popen, within: float) -> None:
    deadline = time.monotonic() + within
    probe = endpoint.url + "?query=ASK%7B%7D"
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            output = ""
            if getattr(proc, "log", None):
                proc.log.seek(0)
                output = proc.log.read().decode("utf-8", "replace").strip()
            raise ServeError("the oxigraph server stopped: " + (output.splitlines()[-1] if output else
                                                                 f"exit code {proc.returncode}"))
        try:
            with urllib.request.urlopen(probe, timeout=2) as resp:
                if resp.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.1)
    raise ServeError(f"the oxigraph server did not answer at {endpoint.url} within {within:g} s")


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    if getattr(proc, "log", None):
        proc.log.close()


def _cpu_seconds(pid: int) -> float | None:
    """User+system CPU time of a process (Linux /proc), or None where unavailable."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return None


def serve(store: str | Path, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT,
          timeout: float = DEFAULT_TIMEOUT, writable: bool = False,
          say: Callable[[str], None] = print, poll: float = 1.0,
          stop_event: threading.Event | None = None) -> None:
    """Run the endpoint in the foreground until interrupted (or ``stop_event`` is set),
    restarting the server when a query keeps it busy past the timeout (see the module
    docstring for why)."""
    endpoint = Endpoint(host, port)

    def _terminate(signum, frame):  # SIGTERM stops the server too, never leaves it orphaned
        raise KeyboardInterrupt

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _terminate)
    proc = start(store, host, port, timeout, writable)
    say(f"SPARQL endpoint at {endpoint.url} ({'read-write' if writable else 'read-only'}, "
        f"timeout {timeout:g} s); Ctrl-C stops it")
    busy_since, last_cpu, last_t = None, _cpu_seconds(proc.pid), time.monotonic()
    try:
        while not (stop_event and stop_event.wait(poll)):
            if stop_event is None:
                time.sleep(poll)
            if proc.poll() is not None:
                raise ServeError(f"the oxigraph server stopped (exit code {proc.returncode})")
            cpu, now = _cpu_seconds(proc.pid), time.monotonic()
            if cpu is None or last_cpu is None or not timeout:
                continue
            busy = (cpu - last_cpu) > 0.5 * (now - last_t)  # over half a core since the last look
            busy_since = (busy_since or last_t) if busy else None
            last_cpu, last_t = cpu, now
            if busy_since is not None and now - busy_since > timeout:
                say(f"a query ran past the {timeout:g} s timeout: restarting the server")
                stop(proc)
                proc = start(store, host, port, timeout, writable)
                busy_since, last_cpu, last_t = None, _cpu_seconds(proc.pid), time.monotonic()
    except KeyboardInterrupt:
        say("stopped")
    finally:
        stop(proc)
