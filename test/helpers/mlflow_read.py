"""Read an MLflow experiment's runs with MLflow's own Python client; print them as JSON.
Metric values go out as the hex of little-endian float64 arrays, so NaN and infinities cross
exactly.

    python mlflow_read.py <tracking-uri> <experiment> [<labnote run id>|""] [<json list of artifact paths to read>]
"""
import json
import os
import sys
import tempfile

import numpy as np
from mlflow.tracking import MlflowClient


def hexes(values):
    return np.array(values, dtype="<f8").tobytes().hex()


def all_artifacts(client, run_id, path=None):
    out = []
    for f in client.list_artifacts(run_id, path):
        if f.is_dir:
            out.extend(all_artifacts(client, run_id, f.path))
        else:
            out.append(f.path)
    return out


def main(uri, experiment, labnote_id, files):
    client = MlflowClient(tracking_uri=uri)
    exp = client.get_experiment_by_name(experiment)
    out = {"runs": []}
    if exp is None:
        print(json.dumps(out))
        return
    filt = f"tags.`labnote.run_id` = '{labnote_id}'" if labnote_id else ""
    runs = client.search_runs([exp.experiment_id], filter_string=filt, max_results=1000)
    for run in runs:
        rid = run.info.run_id
        metrics = {}
        for key in run.data.metrics:
            hist = client.get_metric_history(rid, key)
            hist = sorted(hist, key=lambda m: (m.step, m.timestamp))
            metrics[key] = {
                "steps": [m.step for m in hist],
                "timestamps": [m.timestamp for m in hist],
                "values": hexes([m.value for m in hist]),
            }
        contents = {}
        with tempfile.TemporaryDirectory() as tmp:
            for f in files:
                try:
                    local = client.download_artifacts(rid, f, tmp)
                    with open(local, encoding="utf-8") as fh:
                        contents[f] = fh.read()
                except Exception as e:  # noqa: BLE001 - reported to the test
                    contents[f] = f"<error: {e}>"
        out["runs"].append(
            {
                "info": {
                    "run_id": rid,
                    "run_name": run.info.run_name,
                    "status": run.info.status,
                    "start_time": run.info.start_time,
                    "end_time": run.info.end_time,
                    "artifact_uri": run.info.artifact_uri,
                    "experiment_id": run.info.experiment_id,
                },
                "params": dict(run.data.params),
                "tags": dict(run.data.tags),
                "metrics": metrics,
                "artifacts": all_artifacts(client, rid),
                "files": contents,
            }
        )
    print(json.dumps(out))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else "", json.loads(sys.argv[4]) if len(sys.argv) > 4 else [])
