"""A long-lived driver of one Jupyter kernel, for step-by-step tests.

Speaks JSON lines: one request per line on stdin ({"id", "op", ...}), one response per line
on the original stdout ({"id", "ok", "result"} or {"id", "ok": false, "error"}). Everything
else that would print to stdout (this process or the kernel) goes to stderr, so the protocol
stays clean. When stdin closes or SIGTERM arrives, the kernel is shut down before exiting.

Ops: start {kernel_name, cwd, startup_timeout}; execute {code, timeout}; interrupt; restart;
pid; shutdown. Executions run one at a time on a worker thread; interrupt, pid, restart and
shutdown are answered while an execution is in flight.
"""

import json
import os
import queue
import signal
import sys
import threading
import time
import traceback

# Keep the protocol on a private copy of stdout; point fd 1 at stderr for everyone else.
_proto = os.fdopen(os.dup(1), "w", buffering=1, encoding="utf-8")
os.dup2(2, 1)
sys.stdout = sys.stderr

from jupyter_client.manager import KernelManager  # noqa: E402

_write_lock = threading.Lock()


def send(obj):
    line = json.dumps(obj, default=str)
    with _write_lock:
        _proto.write(line + "\n")
        _proto.flush()


def plain(msg):
    """A Jupyter message as plain JSON (dates as strings, no buffers)."""
    return {
        "msg_type": msg.get("msg_type") or msg.get("header", {}).get("msg_type"),
        "header": msg.get("header", {}),
        "parent_header": msg.get("parent_header", {}),
        "metadata": msg.get("metadata", {}),
        "content": msg.get("content", {}),
    }


class Driver:
    def __init__(self):
        self.km = None
        self.kc = None
        self.abort = threading.Event()
        self.work = queue.Queue()
        self.busy = threading.Lock()
        self.last_error = 0.0

    # -- lifecycle --------------------------------------------------------
    def start(self, kernel_name="tslab", cwd=None, startup_timeout=60):
        self.km = KernelManager(kernel_name=kernel_name)
        self.km.start_kernel(cwd=cwd or os.getcwd())
        self._connect(startup_timeout)
        return {"pid": self.pid()}

    def _connect(self, startup_timeout):
        self.kc = self.km.client()
        self.kc.start_channels()
        try:
            self.kc.wait_for_ready(timeout=startup_timeout)
        except RuntimeError as e:
            raise RuntimeError("kernel did not become ready in %ss: %s" % (startup_timeout, e))
        # Drop the startup chatter so the first execution sees only its own messages.
        self._drain()

    def _drain(self):
        while True:
            try:
                self.kc.get_iopub_msg(timeout=0.05)
            except queue.Empty:
                return

    def pid(self):
        if self.km is None:
            return None
        prov = getattr(self.km, "provisioner", None)
        proc = getattr(prov, "process", None)
        return getattr(proc, "pid", None)

    def interrupt(self):
        self._need_kernel()
        self.km.interrupt_kernel()
        return {}

    def restart(self, startup_timeout=60):
        self._need_kernel()
        self.abort.set()
        with self.busy:
            self.abort.clear()
            self.kc.stop_channels()
            self.km.restart_kernel(now=True)
            self._connect(startup_timeout)
        return {"pid": self.pid()}

    def shutdown(self):
        self.abort.set()
        if self.km is None:
            return {}
        try:
            if self.kc is not None:
                self.kc.stop_channels()
        finally:
            try:
                self.km.shutdown_kernel(now=True)
            finally:
                self.km = None
                self.kc = None
        return {}

    def _need_kernel(self):
        if self.km is None:
            raise RuntimeError("no kernel: call start first")

    # -- execution --------------------------------------------------------
    def execute(self, code, timeout=60):
        self._need_kernel()
        with self.busy:
            self.abort.clear()
            deadline = time.monotonic() + timeout
            # tslab aborts, without running them, the execute requests that arrive within
            # 200 ms of a failed cell (its execQueue.reset(200)); a step that lands in that
            # window (after an error, an interrupt or a timed-out cell) is sent again.
            for attempt in range(4):
                gap = self.last_error + 0.3 - time.monotonic()
                if gap > 0:
                    time.sleep(gap)
                result = self._execute_once(code, deadline)
                if result["status"] != "abort" or self.abort.is_set():
                    break
                self.last_error = time.monotonic()
            return result

    def _execute_once(self, code, deadline):
        if not self.km.is_alive():
            return {"status": "dead", "messages": [], "reply": None, "msg_id": None}
        kc = self.kc
        msg_id = kc.execute(code, store_history=True, allow_stdin=False, stop_on_error=False)
        messages = []
        status = None
        next_alive_check = time.monotonic() + 1.0
        while True:
            if self.abort.is_set():
                status = "aborted"
                break
            now = time.monotonic()
            if now > deadline:
                status = "timeout"
                break
            if now > next_alive_check:
                next_alive_check = now + 1.0
                if not self.km.is_alive():
                    status = "dead"
                    break
            try:
                msg = kc.get_iopub_msg(timeout=0.1)
            except queue.Empty:
                continue
            if msg.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            messages.append(plain(msg))
            if msg["msg_type"] == "status" and msg["content"].get("execution_state") == "idle":
                break
        reply = None
        if status is None:
            while reply is None:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    status = "timeout"
                    break
                try:
                    msg = kc.get_shell_msg(timeout=min(remaining, 1.0))
                except queue.Empty:
                    if not self.km.is_alive():
                        status = "dead"
                        break
                    continue
                if msg.get("parent_header", {}).get("msg_id") == msg_id:
                    reply = plain(msg)
            if reply is not None:
                status = reply["content"].get("status", "ok")
                if status == "error":
                    self.last_error = time.monotonic()
        if status in ("timeout", "dead"):
            # The cell may still fail later (e.g. when interrupted): keep the next step
            # out of tslab's abort window.
            self.last_error = time.monotonic()
        return {"status": status, "messages": messages, "reply": reply, "msg_id": msg_id}


def main():
    driver = Driver()
    stopping = threading.Event()

    def on_term(signum, frame):
        stopping.set()
        try:
            driver.shutdown()
        finally:
            os._exit(0)

    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, signal.SIG_IGN)

    def worker():
        while True:
            req = driver.work.get()
            if req is None:
                return
            handle(req)

    def handle(req):
        rid = req.get("id")
        op = req.get("op")
        try:
            if op == "start":
                result = driver.start(req.get("kernel_name", "tslab"), req.get("cwd"), req.get("startup_timeout", 60))
            elif op == "execute":
                result = driver.execute(req["code"], req.get("timeout", 60))
            elif op == "interrupt":
                result = driver.interrupt()
            elif op == "restart":
                result = driver.restart(req.get("startup_timeout", 60))
            elif op == "pid":
                result = {"pid": driver.pid()}
            elif op == "shutdown":
                result = driver.shutdown()
            else:
                raise ValueError("unknown op %r" % op)
            send({"id": rid, "ok": True, "result": result})
        except Exception as e:  # noqa: BLE001 - every failure goes back to the caller
            send({"id": rid, "ok": False, "error": "%s: %s" % (type(e).__name__, e), "trace": traceback.format_exc()})

    t = threading.Thread(target=worker, daemon=True)
    t.start()
    send({"id": 0, "ok": True, "result": {"ready": True, "driver_pid": os.getpid()}})
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        try:
            req = json.loads(line)
        except ValueError:
            send({"id": None, "ok": False, "error": "bad request line: %r" % line[:200]})
            continue
        op = req.get("op")
        if op in ("start", "execute"):
            driver.work.put(req)
        elif op == "restart":
            # Cancel the running execution, then restart on this thread (it takes the busy lock).
            threading.Thread(target=handle, args=(req,), daemon=True).start()
        else:
            handle(req)
            if op == "shutdown":
                break
    # stdin closed or shutdown: never leave a kernel behind.
    try:
        driver.shutdown()
    except Exception:  # noqa: BLE001
        traceback.print_exc()
    driver.work.put(None)


if __name__ == "__main__":
    main()
