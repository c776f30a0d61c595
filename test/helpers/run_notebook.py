"""Executes one notebook with nbclient and writes the result as JSON.

usage: run_notebook.py <notebook> <result.json> [--kernel K] [--cwd D] [--timeout S]
                       [--startup-timeout S] [--allow-errors] [--save PATH]

The result holds the executed notebook (outputs folded the way nbclient folds them,
update_display_data included), every IOPub message per cell index, and the error text of
a failing cell (or null). The exit code is 0 whenever the result file was written.
"""

import argparse
import json
import os
import signal
import sys
import threading
import time
import traceback

os.dup2(2, 1)  # nothing but the result file is output; chatter goes to stderr
sys.stdout = sys.stderr

import nbformat  # noqa: E402
from nbclient import NotebookClient  # noqa: E402
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError  # noqa: E402


class RecordingClient(NotebookClient):
    """A NotebookClient that also keeps every IOPub message it processes, per cell."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.iopub = {}
        self.on_cell_executed = self._after_cell

    def _after_cell(self, cell, cell_index, execute_reply):
        # tslab aborts every execute request that arrives within 200 ms of a failed cell;
        # with allow_errors the next cell must not be sent into that window.
        if execute_reply and execute_reply.get("content", {}).get("status") == "error":
            time.sleep(0.3)

    def process_message(self, msg, cell, cell_index):
        self.iopub.setdefault(cell_index, []).append({
            "msg_type": msg.get("msg_type") or msg.get("header", {}).get("msg_type"),
            "header": msg.get("header", {}),
            "parent_header": msg.get("parent_header", {}),
            "metadata": msg.get("metadata", {}),
            "content": msg.get("content", {}),
        })
        return super().process_message(msg, cell, cell_index)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("notebook")
    ap.add_argument("result")
    ap.add_argument("--kernel", default="tslab")
    ap.add_argument("--cwd", default=None)
    ap.add_argument("--timeout", type=int, default=120)
    ap.add_argument("--startup-timeout", type=int, default=60)
    ap.add_argument("--allow-errors", action="store_true")
    ap.add_argument("--save", default=None)
    args = ap.parse_args()

    nb = nbformat.read(args.notebook, as_version=4)
    cwd = args.cwd or os.path.dirname(os.path.abspath(args.notebook))
    client = RecordingClient(
        nb,
        kernel_name=args.kernel,
        timeout=args.timeout,
        startup_timeout=args.startup_timeout,
        allow_errors=args.allow_errors,
        record_timing=True,
        resources={"metadata": {"path": cwd}},
    )
    stopped = []

    # SIGTERM (the caller's timeout, or the caller gone): while a kernel runs, nbclient's own
    # handler shuts it down and the run ends with the outputs so far; around that, this one
    # kills the kernel so that nothing is left behind and the result is still written.
    def on_term(signum, frame):
        stopped.append(True)
        km = getattr(client, "km", None)
        pid = getattr(getattr(getattr(km, "provisioner", None), "process", None), "pid", None)
        if pid is None:
            raise KeyboardInterrupt("stopped before the kernel started")
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass

    signal.signal(signal.SIGTERM, on_term)

    # The caller holds our stdin open; when it goes away (even killed), stop too.
    def watch_parent():
        try:
            sys.stdin.read()
        finally:
            os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch_parent, daemon=True).start()

    error = None
    try:
        client.execute()
    except (CellExecutionError, CellTimeoutError, DeadKernelError) as e:
        error = "%s: %s" % (type(e).__name__, e)
    except BaseException as e:  # noqa: BLE001 - KeyboardInterrupt, CancelledError too: write the result
        error = "%s: %s\n%s" % (type(e).__name__, e, traceback.format_exc())

    # Never leave a kernel behind, whatever path the run ended on.
    proc = getattr(getattr(getattr(client, "km", None), "provisioner", None), "process", None)
    if proc is not None and proc.poll() is None:
        proc.kill()

    if stopped:
        first = (error or "").strip().splitlines()[:1]
        error = "Stopped from outside (timeout or caller gone)" + (": " + first[0] if first else "")
    if args.save:
        nbformat.write(nb, args.save)
    messages = [client.iopub.get(i, []) for i in range(len(nb.cells))]
    with open(args.result, "w", encoding="utf-8") as f:
        json.dump({"notebook": nb, "messages": messages, "error": error}, f, default=str)


if __name__ == "__main__":
    main()
