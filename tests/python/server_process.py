# A `loom serve` process for the server tests and scripts/bench-server: started on a loopback
# port the OS picks (--port 0; the port is read from the server's "listening on" line), its
# output drained by a thread and kept for failure messages, always killed at the end. Also the
# few things the openai SDK cannot do: raw HTTP requests, the /metrics text parsed, the
# process's memory from /proc.
#
#   with LoomServer(loom_bin, model, "--parallel", "4") as server:
#       client = server.client()                      # openai.OpenAI on server.base_url
#       server.request("GET", "/health").json()       # raw HTTP
#       metric(server.metrics(), "loom_slots_active")
#       server.stop(signal.SIGINT)                    # the exit status
import http.client
import json
import re
import signal
import subprocess
import threading
import time

LISTENING = re.compile(r"loom serve: listening on http://(\S+):(\d+)")


class ServerError(Exception):
    """The server did not start in time, or did not exit when asked."""


class Response:
    """A raw HTTP response: status, headers (names in lower case) and body bytes."""

    def __init__(self, status: int, headers: dict, body: bytes):
        self.status = status
        self.headers = headers
        self.body = body

    def json(self):
        return json.loads(self.body)

    def __repr__(self):
        return f"Response({self.status}, {self.body[:300]!r})"


class LoomServer:
    def __init__(self, loom_bin, model, *args, host="127.0.0.1", start_timeout=60.0, env=None):
        self.host = host
        self.port = None
        self.args = [str(loom_bin), "serve", "-m", str(model), "--host", host, "--port", "0",
                     *[str(a) for a in args]]
        self._lines = []
        self._lock = threading.Lock()
        self._ready = threading.Event()
        # stdout joins stderr: one pipe to drain, one log to show when something fails.
        self.proc = subprocess.Popen(self.args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, env=env)
        self._reader = threading.Thread(target=self._drain, daemon=True)
        self._reader.start()
        try:
            if not self._ready.wait(start_timeout) or self.port is None:
                state = (f"exited with {self.proc.poll()}" if self.proc.poll() is not None
                         else f"printed no 'listening on' line in {start_timeout:g} s")
                raise ServerError(f"{' '.join(self.args)} {state}; its output:\n{self.output()}")
        except BaseException:
            self.kill()
            raise

    def _drain(self):
        for raw in self.proc.stdout:
            line = raw.decode("utf-8", errors="replace").rstrip("\n")
            with self._lock:
                self._lines.append(line)
            if self.port is None:
                m = LISTENING.search(line)
                if m:
                    self.port = int(m.group(2))
                    self._ready.set()
        self._ready.set()  # end of output: a waiter must not sleep out its whole timeout

    # ---- addresses and clients ----------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        return self.url + "/v1"

    @property
    def pid(self) -> int:
        return self.proc.pid

    def client(self, api_key="none", timeout=120.0, **kwargs):
        """The official SDK's client on this server. No retries: a test sees every status."""
        import openai
        return openai.OpenAI(base_url=self.base_url, api_key=api_key, max_retries=0, timeout=timeout, **kwargs)

    def request(self, method, path, body=None, headers=None, timeout=30.0) -> Response:
        return http_request(self.host, self.port, method, path, body, headers, timeout)

    def metrics(self) -> list:
        r = self.request("GET", "/metrics")
        if r.status != 200:
            raise ServerError(f"GET /metrics answered {r.status}: {r.body[:500]!r}")
        return parse_metrics(r.body.decode())

    def memory_kib(self) -> dict:
        return process_memory_kib(self.pid)

    # ---- its output and its end -----------------------------------------------------------------

    def output(self) -> str:
        with self._lock:
            return "\n".join(self._lines)

    def running(self) -> bool:
        return self.proc.poll() is None

    def stop(self, sig=signal.SIGTERM, timeout=30.0) -> int:
        """Sends sig and waits for the exit: its status. Killed (and ServerError) if it takes
        longer than timeout."""
        if self.running():
            self.proc.send_signal(sig)
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise ServerError(f"no exit within {timeout:g} s of signal {sig}; output:\n{self.output()}")
        self._reader.join(5)
        return rc

    def kill(self):
        if self.running():
            self.proc.kill()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            pass
        self._reader.join(5)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.kill()


def http_request(host, port, method, path, body=None, headers=None, timeout=30.0) -> Response:
    """One request on a new connection. body: a dict or list (sent as JSON), str or bytes."""
    headers = dict(headers or {})
    if isinstance(body, (dict, list)):
        body = json.dumps(body).encode()
        headers.setdefault("Content-Type", "application/json")
    elif isinstance(body, str):
        body = body.encode()
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers)
        r = conn.getresponse()
        return Response(r.status, {k.lower(): v for k, v in r.getheaders()}, r.read())
    finally:
        conn.close()


# ---- Prometheus text ------------------------------------------------------------------------------

SAMPLE = re.compile(r'^([A-Za-z_:][A-Za-z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+-?\d+)?$')
LABEL = re.compile(r'\s*([A-Za-z_][A-Za-z0-9_]*)="((?:[^"\\]|\\.)*)"\s*(?:,|$)')


def parse_metrics(text: str) -> list:
    """The samples of a Prometheus text exposition: (name, {label: value}, float). Raises
    ValueError on a line that is neither a comment nor a well-formed sample."""
    samples = []
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        m = SAMPLE.match(line)
        if not m:
            raise ValueError(f"not a Prometheus sample line: {line!r}")
        labels = {}
        rest = m.group(2) or ""
        pos = 0
        while pos < len(rest):
            lm = LABEL.match(rest, pos)
            if not lm:
                raise ValueError(f"bad labels in {line!r}")
            labels[lm.group(1)] = lm.group(2)
            pos = lm.end()
        samples.append((m.group(1), labels, float(m.group(3))))
    return samples


def metric(samples, name, **labels):
    """The sum of the samples named name whose labels include labels; None when none is."""
    values = [v for n, ls, v in samples if n == name and all(ls.get(k) == str(x) for k, x in labels.items())]
    return sum(values) if values else None


def process_memory_kib(pid) -> dict:
    """VmRSS (resident now) and VmHWM (resident peak) of a process, in KiB."""
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                out[key] = int(value.split()[0])
    return out


def wait_until(predicate, timeout, interval=0.05, what="condition"):
    """Polls predicate until it returns a true value (returned); AssertionError after timeout."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not reached within {timeout:g} s")
        time.sleep(interval)
