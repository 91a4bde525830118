#!/usr/bin/env python3
"""PyTorch reference numbers for lstm-cuda's benchmarks, and a whole-model check against torch.nn.LSTM.

Benchmarks (same configs as bench/*.bench.ts; one JSON line per measurement on stdout:
{bench, config, impl: "torch", tf32, median_ms, throughput, unit, device}):
  gemm          torch.matmul fp32, x·W_ihᵀ [B·T, I]×[I,4H] and h·W_hhᵀ [B,H]×[H,4H] per standard config (GFLOP/s)
  train_step    Embedding → 2-layer nn.LSTM (cuDNN) → Linear → cross_entropy → Adam, V = 256 (chars/s, B·T per
                step), once with TF32 disallowed and once allowed
  generate      batch 1, 3-layer H = 512 model, per-step loop with multinomial sampling, 1,000 characters
                (chars/s); stream=true copies each token to the host every step (what a streaming CLI does)
  softmax_xent  F.cross_entropy forward + backward at V = 256, N = B·T (rows/s)
Timing: CUDA events around each repeat after warm-up, median of ≥ 20 repeats (--quick: fewer; on a machine
without CUDA the script still runs, timed with perf_counter, for a smoke test).

Usage:
  python3 bench/torch_reference.py [--quick] [--only gemm|train_step|generate|softmax_xent] [--device cuda|cpu]
                                   [--embed-dim D]
  python3 bench/torch_reference.py --check-model DIR [--device cuda|cpu]
--check-model reads DIR/model.safetensors (our checkpoint: PyTorch names embedding.weight, lstm.weight_ih_l0, …,
decoder.weight/bias; config in the metadata key lstm_cuda.config) and DIR/reference.json, which we export:
  {
    "tokens":  [[int]]  [T][B] input ids (time-major, like nn.LSTM's default),
    "targets": [[int]]  [T][B] target ids (ignore_index marks padding),
    "ignore_index": int (optional, default -100),
    "loss":    float    mean cross-entropy over the non-ignored targets (optional),
    "logits":  [float]  [T·B·V] flattened row-major logits for the tokens, from a zero initial state,
    "grads":   {name: [float]} flattened d(loss)/d(param), same names as the safetensors file (optional)
  }
It runs the same batch through torch (fp32, TF32 off, dropout off), prints the max abs / rel difference per
tensor, and exits 1 when any element differs by more than 1e-4 + 1e-4·|torch value|.
"""

import argparse
import json
import math
import os
import statistics
import struct
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

VOCAB = 256
# The standard training configs (DESIGN.md); the embedding size D is H unless --embed-dim says otherwise
TRAIN_CONFIGS = [
    {"H": 512, "B": 64, "T": 128},
    {"H": 1024, "B": 128, "T": 128},
    {"H": 512, "B": 4, "T": 128},
]
GEN_CONFIG = {"H": 512, "layers": 3, "chars": 1000, "B": 1}
TOLERANCE = 1e-4


# ------------------------------------------------------------------------------------------------- model

class CharRNN(nn.Module):
    """Embedding [V,D] → nn.LSTM(D, H, L) → Linear(H, V); the parameter names match our checkpoints."""

    def __init__(self, vocab, embed_dim, hidden, layers, dropout=0.0):
        super().__init__()
        self.embedding = nn.Embedding(vocab, embed_dim)
        self.lstm = nn.LSTM(embed_dim, hidden, layers, dropout=dropout)
        self.decoder = nn.Linear(hidden, vocab)

    def forward(self, tokens, state=None):
        # shapes: tokens [T,B] -> emb [T,B,D] -> out [T,B,H] -> logits [T,B,V]
        out, state = self.lstm(self.embedding(tokens), state)
        return self.decoder(out), state


# ------------------------------------------------------------------------------------------------ timing

class Timer:
    """Median wall time of fn() over repeats after warm-up: CUDA events on a GPU, perf_counter on CPU."""

    def __init__(self, device):
        self.cuda = device.type == "cuda"

    def median_ms(self, fn, repeats, warmup):
        for _ in range(warmup):
            fn()
        times = []
        if self.cuda:
            torch.cuda.synchronize()
            for _ in range(repeats):
                start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
                start.record()
                fn()
                end.record()
                end.synchronize()
                times.append(start.elapsed_time(end))
        else:
            for _ in range(repeats):
                t0 = time.perf_counter()
                fn()
                times.append((time.perf_counter() - t0) * 1e3)
        return statistics.median(times)


def set_tf32(allowed):
    torch.backends.cuda.matmul.allow_tf32 = allowed
    torch.backends.cudnn.allow_tf32 = allowed
    torch.set_float32_matmul_precision("high" if allowed else "highest")


def device_name(device):
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return "cpu (torch %s, %d threads)" % (torch.__version__, torch.get_num_threads())


def emit(bench, config, tf32, median_ms, throughput, unit, device):
    line = {"bench": bench, "config": config, "impl": "torch", "tf32": tf32,
            "median_ms": round(median_ms, 6), "throughput": throughput, "unit": unit,
            "device": device_name(device)}
    print(json.dumps(line), flush=True)


# ------------------------------------------------------------------------------------------- benchmarks

def bench_gemm(device, timer, repeats, warmup, embed_dim):
    """x·W_ihᵀ over all steps and h·W_hhᵀ of one step, as our LSTM issues them (W stored [4H, I])."""
    shapes = []
    for c in TRAIN_CONFIGS:
        H, B, T = c["H"], c["B"], c["T"]
        shapes.append(("input", B * T, embed_dim or H, 4 * H, c))  # [B·T, I] × [I, 4H], layer 0: I = D
        shapes.append(("recurrent", B, H, 4 * H, c))      # [B, H] × [H, 4H]
    for tf32 in (False, True):
        set_tf32(tf32)
        for kind, M, K, N, c in shapes:
            a = torch.randn(M, K, device=device)
            w = torch.randn(N, K, device=device)
            out = torch.empty(M, N, device=device)
            ms = timer.median_ms(lambda: torch.matmul(a, w.t(), out=out), repeats, warmup)
            config = {"kind": kind, "M": M, "N": N, "K": K, "H": c["H"], "B": c["B"], "T": c["T"]}
            emit("gemm", config, tf32, ms, 2.0 * M * N * K / (ms * 1e-3) / 1e9, "GFLOP/s", device)


def bench_train_step(device, timer, repeats, warmup, embed_dim):
    for tf32 in (False, True):
        set_tf32(tf32)
        for c in TRAIN_CONFIGS:
            H, B, T = c["H"], c["B"], c["T"]
            D = embed_dim or H
            torch.manual_seed(0)
            model = CharRNN(VOCAB, D, H, 2).to(device)
            opt = torch.optim.Adam(model.parameters(), lr=2e-3)
            tokens = torch.randint(0, VOCAB, (T, B), device=device)
            targets = torch.randint(0, VOCAB, (T, B), device=device)

            def step():
                opt.zero_grad(set_to_none=False)
                logits, _ = model(tokens)
                loss = F.cross_entropy(logits.view(-1, VOCAB), targets.view(-1))
                loss.backward()
                opt.step()
                loss.item()  # read the loss, as bench/train_step.bench.ts does

            ms = timer.median_ms(step, repeats, warmup)
            config = {"V": VOCAB, "D": D, "H": H, "B": B, "T": T, "layers": 2, "optimizer": "adam"}
            emit("train_step", config, tf32, ms, B * T / (ms * 1e-3), "chars/s", device)


def bench_generate(device, timer, repeats, warmup, chars):
    set_tf32(False)
    H, L = GEN_CONFIG["H"], GEN_CONFIG["layers"]
    torch.manual_seed(0)
    model = CharRNN(VOCAB, H, H, L).to(device).eval()
    temperature = 1.0
    for stream in (True, False):
        def generate():
            with torch.no_grad():
                token = torch.zeros(1, 1, dtype=torch.long, device=device)
                state = None
                for _ in range(chars):
                    logits, state = model(token, state)
                    probs = torch.softmax(logits[-1, 0] / temperature, dim=-1)
                    token = torch.multinomial(probs, 1).view(1, 1)
                    if stream:
                        token.item()  # the character goes to the host (printed) every step

        ms = timer.median_ms(generate, repeats, warmup)
        config = {"V": VOCAB, "D": H, "H": H, "layers": L, "B": 1, "chars": chars, "stream": stream,
                  "temperature": temperature}
        emit("generate", config, False, ms, chars / (ms * 1e-3), "chars/s", device)


def bench_softmax_xent(device, timer, repeats, warmup):
    for c in TRAIN_CONFIGS:
        N = c["B"] * c["T"]
        logits = torch.randn(N, VOCAB, device=device, requires_grad=True)
        targets = torch.randint(0, VOCAB, (N,), device=device)

        def fwd_bwd():
            logits.grad = None
            F.cross_entropy(logits, targets).backward()

        ms = timer.median_ms(fwd_bwd, repeats, warmup)
        emit("softmax_xent", {"N": N, "V": VOCAB, "pass": "forward+backward"}, False, ms, N / (ms * 1e-3),
             "rows/s", device)


# ------------------------------------------------------------------------------------------ model check

SAFETENSORS_DTYPES = {"F32": (torch.float32, 4), "F64": (torch.float64, 8), "I32": (torch.int32, 4)}


def read_safetensors(path):
    """-> (tensors {name: torch.Tensor}, metadata {str: str}); errors name the file and the problem."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 8:
        raise ValueError("%s: truncated (%d bytes)" % (path, len(data)))
    (n,) = struct.unpack("<Q", data[:8])
    if n > len(data) - 8:
        raise ValueError("%s: header length %d but only %d bytes follow" % (path, n, len(data) - 8))
    header = json.loads(data[8:8 + n].decode("utf-8"))
    base = 8 + n
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        if info["dtype"] not in SAFETENSORS_DTYPES:
            raise ValueError("%s: tensor %s has unsupported dtype %s" % (path, name, info["dtype"]))
        dtype, size = SAFETENSORS_DTYPES[info["dtype"]]
        begin, end = info["data_offsets"]
        count = math.prod(info["shape"])
        if end - begin != count * size or base + end > len(data):
            raise ValueError("%s: tensor %s has bad data_offsets %s" % (path, name, info["data_offsets"]))
        if count == 0:
            tensors[name] = torch.empty(info["shape"], dtype=dtype)
            continue
        buf = bytearray(data[base + begin:base + end])
        tensors[name] = torch.frombuffer(buf, dtype=dtype).reshape(info["shape"]).clone()
    return tensors, header.get("__metadata__", {})


def compare(name, ours, theirs):
    """-> (max abs, max rel, ok) with ok = every |ours - theirs| ≤ tol + tol·|theirs|."""
    ours = ours.detach().double().reshape(-1).cpu()
    theirs = theirs.detach().double().reshape(-1).cpu()
    if ours.numel() != theirs.numel():
        print("%-28s size mismatch: ours %d, torch %d" % (name, ours.numel(), theirs.numel()))
        return math.inf, math.inf, False
    diff = (ours - theirs).abs()
    max_abs = diff.max().item() if diff.numel() else 0.0
    rel = diff / theirs.abs().clamp_min(1e-12)
    max_rel = rel.max().item() if rel.numel() else 0.0
    ok = bool((diff <= TOLERANCE + TOLERANCE * theirs.abs()).all().item())
    print("%-28s max abs %.3e  max rel %.3e  %s" % (name, max_abs, max_rel, "ok" if ok else "DIFFERS"))
    return max_abs, max_rel, ok


def check_model(directory, device):
    set_tf32(False)
    torch.backends.cudnn.deterministic = True
    tensors, metadata = read_safetensors(os.path.join(directory, "model.safetensors"))
    with open(os.path.join(directory, "reference.json")) as f:
        ref = json.load(f)
    if "lstm_cuda.config" in metadata:
        cfg = json.loads(metadata["lstm_cuda.config"])
        V, D, H, L = cfg["vocabSize"], cfg["embedDim"], cfg["hiddenSize"], cfg["numLayers"]
    else:  # infer from the shapes
        V, D = tensors["embedding.weight"].shape
        H = tensors["lstm.weight_hh_l0"].shape[1]
        L = sum(1 for k in tensors if k.startswith("lstm.weight_hh_l"))
    model = CharRNN(V, D, H, L).to(device)
    model.train()  # cuDNN's training path (dropout is 0: the config's dropout is not applied here)
    state = model.state_dict()
    missing = [k for k in state if k not in tensors]
    unexpected = [k for k in tensors if k not in state]
    if missing or unexpected:
        print("model.safetensors: missing %s, unexpected %s" % (missing, unexpected))
        return 1
    model.load_state_dict({k: v.float() for k, v in tensors.items()})

    tokens = torch.tensor(ref["tokens"], dtype=torch.long, device=device)
    if tokens.dim() != 2:
        print("reference.json: tokens must be [T][B], got %d dimensions" % tokens.dim())
        return 1
    T, B = tokens.shape
    ignore_index = int(ref.get("ignore_index", -100))
    logits, _ = model(tokens)
    ok = True
    _, _, good = compare("logits [%d,%d,%d]" % (T, B, V), torch.tensor(ref["logits"]), logits)
    ok &= good
    if "targets" in ref:
        targets = torch.tensor(ref["targets"], dtype=torch.long, device=device)
        loss = F.cross_entropy(logits.reshape(-1, V), targets.reshape(-1), ignore_index=ignore_index)
        if "loss" in ref:
            _, _, good = compare("loss", torch.tensor([ref["loss"]]), loss.reshape(1))
            ok &= good
        if "grads" in ref:
            model.zero_grad()
            loss.backward()
            params = dict(model.named_parameters())
            for name, values in ref["grads"].items():
                if name not in params:
                    print("reference.json: gradient for unknown parameter %s" % name)
                    ok = False
                    continue
                _, _, good = compare("grad " + name, torch.tensor(values), params[name].grad)
                ok &= good
    print("check-model: %s (tolerance %g + %g·|torch|)" % ("PASS" if ok else "FAIL", TOLERANCE, TOLERANCE))
    return 0 if ok else 1


# ------------------------------------------------------------------------------------------------- main

BENCHES = ["gemm", "train_step", "generate", "softmax_xent"]


def main(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true", help="fewer repeats and a shorter generation")
    p.add_argument("--only", choices=BENCHES, help="run one benchmark")
    p.add_argument("--device", choices=["cuda", "cpu"], help="default: cuda when available")
    p.add_argument("--embed-dim", type=int, default=0, metavar="D",
                   help="embedding size of the training configs (default: H)")
    p.add_argument("--check-model", metavar="DIR", help="compare our checkpoint's logits/grads with torch")
    args = p.parse_args(argv)
    device = torch.device(args.device or ("cuda" if torch.cuda.is_available() else "cpu"))
    if device.type == "cuda" and not torch.cuda.is_available():
        p.error("--device cuda: torch sees no CUDA device")

    if args.check_model:
        return check_model(args.check_model, device)

    timer = Timer(device)
    repeats, warmup = (5, 2) if args.quick else (25, 5)
    chars = 200 if args.quick else GEN_CONFIG["chars"]
    gen_repeats = 3 if args.quick else 20
    todo = [args.only] if args.only else BENCHES
    if "gemm" in todo:
        bench_gemm(device, timer, repeats, warmup, args.embed_dim)
    if "train_step" in todo:
        bench_train_step(device, timer, repeats, warmup, args.embed_dim)
    if "generate" in todo:
        bench_generate(device, timer, gen_repeats, 1, chars)
    if "softmax_xent" in todo:
        bench_softmax_xent(device, timer, repeats, warmup)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
