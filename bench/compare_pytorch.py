#!/usr/bin/python3
"""nst against PyTorch on the CPU: the same NST iteration, timed in both, with the same thread count.

The iteration is the one `nst bench` times: full-width VGG19 with random weights up to relu5_1, content loss
on relu4_2, style losses (Gram matrices) on relu1_1, relu2_1, relu3_1, relu4_1, relu5_1, total variation,
backward to the image, one Adam step. PyTorch runs it the way NST code usually does (torchvision's layer
list, in-place ReLUs, autograd, torch.optim.Adam); each size runs in a fresh process so that its peak
resident memory (resource.getrusage) is its own. Then `nst bench --device cpu --json` runs at the same sizes
and threads, and both are printed with their ratio.

Run by hand with Debian's Python and torch (python3-torch, 1.13), from the repository root:

    /usr/bin/python3 bench/compare_pytorch.py [--nst build/nst] [--sizes 256,512] [--threads N] [--iterations N]

Takes a minute or two at 256 and 512 on two cores. Nothing else should run meanwhile: two processes on two
cores halve both and make OpenMP's barriers wait for a descheduled thread.
"""
import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

# VGG19's convolutions up to conv5_1 (relu5_1 is the deepest loss layer); "M" is a 2x2 max pool.
VGG19_TO_CONV5_1 = [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M", 512]
CONTENT_LAYER = "relu4_2"
STYLE_LAYERS = ["relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1"]
# nst's defaults for torchvision-normalised weights (default_loss_weights(1) in src/stylizer.cpp) and Adam's lr.
CONTENT_WEIGHT, STYLE_WEIGHT, TV_WEIGHT, LR = 1.0, 1e6, 1e3, 0.02
MEAN, STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)


def peak_rss_bytes():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux


def child(size, threads, iterations):
    """One size in this process: prints one JSON line with the median seconds per iteration and peak memory."""
    import torch
    import torch.nn as nn

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    before = peak_rss_bytes()

    layers, names, block, index, channels = [], [], 1, 1, 3
    for v in VGG19_TO_CONV5_1:
        if v == "M":
            layers.append(nn.MaxPool2d(2, 2))
            names.append("pool%d" % block)
            block, index = block + 1, 1
            continue
        conv = nn.Conv2d(channels, v, 3, padding=1)
        nn.init.kaiming_normal_(conv.weight, nonlinearity="relu")  # He-normal, as synthetic_weights
        nn.init.zeros_(conv.bias)
        layers += [conv, nn.ReLU(inplace=True)]
        names += ["conv%d_%d" % (block, index), "relu%d_%d" % (block, index)]
        channels, index = v, index + 1
    net = nn.Sequential(*layers).eval()
    for p in net.parameters():
        p.requires_grad_(False)
    mean = torch.tensor(MEAN).view(1, 3, 1, 1)
    std = torch.tensor(STD).view(1, 3, 1, 1)

    def features(x):
        out = {}
        x = (x - mean) / std
        for name, layer in zip(names, layers):
            x = layer(x)
            if name == CONTENT_LAYER or name in STYLE_LAYERS:
                out[name] = x
        return out

    def gram(f):
        _, c, h, w = f.shape
        f = f.reshape(c, h * w)
        return f @ f.t() / (c * h * w)

    content = torch.rand(1, 3, size, size)
    style = torch.rand(1, 3, size, size)
    with torch.no_grad():
        content_target = features(content)[CONTENT_LAYER].clone()
        style_targets = {k: gram(v) for k, v in features(style).items() if k in STYLE_LAYERS}

    X = content.clone().requires_grad_(True)
    opt = torch.optim.Adam([X], lr=LR)

    def iteration():
        opt.zero_grad()
        f = features(X)
        loss = CONTENT_WEIGHT * ((f[CONTENT_LAYER] - content_target) ** 2).mean()
        for k in STYLE_LAYERS:
            c = f[k].shape[1]
            loss = loss + STYLE_WEIGHT / (c * c) * ((gram(f[k]) - style_targets[k]) ** 2).sum()
        tv = ((X[:, :, :, 1:] - X[:, :, :, :-1]) ** 2).sum() + ((X[:, :, 1:, :] - X[:, :, :-1, :]) ** 2).sum()
        loss = loss + TV_WEIGHT / (3 * size * size) * tv
        loss.backward()
        opt.step()

    iteration()  # warm-up: oneDNN primitive creation, first-touch page faults
    times = []
    for _ in range(iterations):
        t0 = time.perf_counter()
        iteration()
        times.append(time.perf_counter() - t0)
    print(json.dumps({"size": size, "seconds_per_iteration": statistics.median(times), "peak_rss_bytes": peak_rss_bytes(),
                      "rss_before_bytes": before, "threads": torch.get_num_threads(), "torch": torch.__version__}))


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--nst", default=os.path.join(here, "..", "build", "nst"), help="the nst binary (default build/nst)")
    ap.add_argument("--sizes", default="256,512")
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--iterations", type=int, default=3, help="timed iterations per size, after a warm-up (median)")
    ap.add_argument("--conv-algo", default="direct", choices=["direct", "winograd", "fastest"],
                    help="nst's CPU convolution algorithm (PyTorch runs oneDNN's direct convolution either way)")
    ap.add_argument("--child", type=int, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child:
        return child(a.child, a.threads, a.iterations)

    sizes = [int(s) for s in a.sizes.split(",")]
    torch_runs = {}
    for size in sizes:
        out = subprocess.run([sys.executable, os.path.abspath(__file__), "--child", str(size), "--threads", str(a.threads),
                              "--iterations", str(a.iterations)], check=True, capture_output=True, text=True).stdout
        torch_runs[size] = json.loads(out.strip().splitlines()[-1])
        print("torch %s at %d: %.3f s/iteration" % (torch_runs[size]["torch"], size, torch_runs[size]["seconds_per_iteration"]),
              file=sys.stderr)

    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "nst.json")
        env = dict(os.environ, OMP_NUM_THREADS=str(a.threads))
        subprocess.run([a.nst, "bench", "--device", "cpu", "--sizes", a.sizes, "--iterations", str(a.iterations), "--json", path,
                        "--conv-algo", a.conv_algo],
                       check=True, env=env, stdout=subprocess.DEVNULL)
        with open(path) as f:
            nst = json.load(f)

    mib = 1 << 20
    print("nst on %s (%s, %d threads) against PyTorch %s (%d threads); the same iteration: VGG19 to relu5_1, content "
          "relu4_2, style relu1_1..relu5_1, TV, backward, Adam" % (nst["device"], nst["device_name"], nst["threads"],
                                                                    torch_runs[sizes[0]]["torch"], torch_runs[sizes[0]]["threads"]))
    print("%-6s %11s %11s %10s %12s %14s %13s %15s" % ("size", "nst s/it", "torch s/it", "torch/nst", "nst GFLOP/s", "torch GFLOP/s",
                                                      "nst peak MiB", "torch peak MiB"))
    for it in nst["iterations"]:
        t = torch_runs[it["size"]]
        gflop = it["gflop_per_iteration"]
        print("%-6d %11.3f %11.3f %9.2fx %12.1f %14.1f %13.0f %15.0f" % (
            it["size"], it["seconds_per_iteration"], t["seconds_per_iteration"], t["seconds_per_iteration"] / it["seconds_per_iteration"],
            gflop / it["seconds_per_iteration"], gflop / t["seconds_per_iteration"], it["peak_memory_bytes"] / mib,
            t["peak_rss_bytes"] / mib))
    print("GFLOP/s of both from nst's count of the iteration (%s); peak memory: the process's peak resident set "
          "(nst: %s; torch: getrusage, a fresh process per size, %.0f MiB of it before the model)" % (
              ", ".join("%.1f GFLOP at %d" % (it["gflop_per_iteration"], it["size"]) for it in nst["iterations"]),
              "from %.0f MiB before the run" % (nst["iterations"][0]["memory_before_bytes"] / mib),
              torch_runs[sizes[0]]["rss_before_bytes"] / mib))
    if any(it.get("others_load", 0) > 0.05 for it in nst["iterations"]):
        print("warning: other processes were busy while nst ran; its figures are low", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
