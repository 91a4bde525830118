"""The PyTorch side of bench/cpu_vs_torch.ts: one worker process per (OpenBLAS build, thread count).

Reads one command per line on stdin and answers one JSON line on stdout:
  info                  -> {"torch": version, "threads": n, "blas": the libblas.so.3 this process mapped}
  A | B                 -> {"s": seconds of one training step}  (config A / B, set up and warmed up on first use)
  C                     -> {"s": seconds of one 500-character generation at batch 1 with the A model}
The configs are bench/cpu_vs_torch.ts's: Embedding(V=96, D=96) -> nn.LSTM(96, H, 2) -> Linear(H, 96) ->
cross-entropy -> Adam, B=32, T=64 (A: H=128, B: H=512); generation streams every token to the host, as
`lstm-cuda sample` does (torch.multinomial on softmax(logits / 1.0)).
Usage (by the TS side): OPENBLAS_NUM_THREADS=n LD_LIBRARY_PATH=<openblas dir> python3 cpu_vs_torch.py n
"""
import json
import os
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_reference import CharRNN  # noqa: E402  (the same model class as the GPU comparison)

V, D, BATCH, T, LAYERS, GEN_CHARS = 96, 96, 32, 64, 2, 500
HIDDEN = {"A": 128, "B": 512, "C": 128}


def trainer(hidden):
    torch.manual_seed(0)
    model = CharRNN(V, D, hidden, LAYERS)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    tokens = torch.randint(0, V, (T, BATCH))
    targets = torch.randint(0, V, (T, BATCH))

    def step():
        opt.zero_grad(set_to_none=False)
        logits, _ = model(tokens)
        loss = F.cross_entropy(logits.view(-1, V), targets.view(-1))
        loss.backward()
        opt.step()
        return loss.item()

    return step


def generator():
    torch.manual_seed(0)
    model = CharRNN(V, D, HIDDEN["C"], LAYERS).eval()

    def generate():
        with torch.no_grad():
            token = torch.zeros(1, 1, dtype=torch.long)
            state = None
            for _ in range(GEN_CHARS):
                logits, state = model(token, state)
                probs = torch.softmax(logits[-1, 0] / 1.0, dim=-1)
                token = torch.multinomial(probs, 1).view(1, 1)
                token.item()

    return generate


def blas():
    with open("/proc/self/maps") as f:
        for line in f:
            if "libblas" in line or "libopenblas" in line:
                return line.split()[-1]
    return "unknown"


def main():
    torch.set_num_threads(int(sys.argv[1]))
    work = {}
    for line in sys.stdin:
        cmd = line.strip()
        if cmd == "info":
            reply = {"torch": torch.__version__, "threads": torch.get_num_threads(), "blas": blas()}
        elif cmd in HIDDEN:
            if cmd not in work:
                work[cmd] = generator() if cmd == "C" else trainer(HIDDEN[cmd])
                work[cmd]()  # warm-up
            t0 = time.perf_counter()
            work[cmd]()
            reply = {"s": time.perf_counter() - t0}
        else:
            reply = {"error": "unknown command %r" % cmd}
        print(json.dumps(reply), flush=True)


if __name__ == "__main__":
    main()
