"""Native floor for the web benchmark: the same dense net in numpy, one BLAS thread.
Usage: OPENBLAS_NUM_THREADS=1 python3 numpy_baseline.py LAYERS_JSON WEIGHTS_BIN INPUTS_BIN ROWS
Prints one JSON line: one-row latency p50 (and writes the outputs for all rows to INPUTS_BIN.out). Then,
for each line "batch" on stdin, times one forward pass over all rows and prints its milliseconds, so the
benchmark can alternate our runs with these and compare each pair under the same machine load."""
import json, sys, time
import numpy as np

layers = json.load(open(sys.argv[1]))
flat = np.fromfile(sys.argv[2], dtype=np.float32)
rows = int(sys.argv[4])
x = np.fromfile(sys.argv[3], dtype=np.float32).reshape(rows, -1)
params, o = [], 0
for l in layers:
    k = flat[o:o + l["inputs"] * l["units"]].reshape(l["inputs"], l["units"]); o += k.size
    b = flat[o:o + l["units"]]; o += b.size
    params.append((k, b, l["activation"]))

def forward(h):
    for k, b, act in params:
        h = h @ k + b
        if act == "relu":
            np.maximum(h, 0, out=h)
        elif act == "sigmoid":
            h = 1 / (1 + np.exp(-h))
    return h

y = forward(x)
y.astype(np.float32).tofile(sys.argv[3] + ".out")
one = x[:1].copy()
single = []
for _ in range(2000):
    t = time.perf_counter(); forward(one); single.append((time.perf_counter() - t) * 1000)
print(json.dumps({"singleP50Ms": float(np.median(single))}), flush=True)
for line in sys.stdin:
    if line.strip() != "batch":
        break
    t = time.perf_counter(); forward(x); ms = (time.perf_counter() - t) * 1000
    print(json.dumps({"batchMs": ms}), flush=True)
