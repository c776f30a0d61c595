"""Read a folder of TensorBoard event files with TensorBoard's own reader; print what it holds
as JSON. Floats go out as the hex of little-endian float64 arrays, so NaN, infinities and -0
cross exactly.

    python tensorboard_read.py <folder>
"""
import json
import sys

import numpy as np
from tensorboard.backend.event_processing import event_accumulator as ea


def hexes(values):
    return np.array(values, dtype="<f8").tobytes().hex()


def main(folder):
    acc = ea.EventAccumulator(folder, size_guidance={ea.SCALARS: 0, ea.HISTOGRAMS: 0, ea.TENSORS: 0})
    acc.Reload()
    tags = acc.Tags()
    out = {"scalars": {}, "histograms": {}, "texts": {}}
    for tag in tags["scalars"]:
        events = acc.Scalars(tag)
        out["scalars"][tag] = {
            "steps": [e.step for e in events],
            "values": hexes([e.value for e in events]),
            "wallTimes": hexes([e.wall_time for e in events]),
        }
    for tag in tags["histograms"]:
        out["histograms"][tag] = [
            {
                "step": e.step,
                "wallTime": e.wall_time,
                "min": e.histogram_value.min,
                "max": e.histogram_value.max,
                "num": e.histogram_value.num,
                "limits": list(e.histogram_value.bucket_limit),
                "counts": list(e.histogram_value.bucket),
            }
            for e in acc.Histograms(tag)
        ]
    for tag in tags["tensors"]:
        out["texts"][tag] = [[e.step, b"".join(e.tensor_proto.string_val).decode("utf-8")] for e in acc.Tensors(tag)]
    print(json.dumps(out))


if __name__ == "__main__":
    main(sys.argv[1])
