"""PyTorch CPU peer of bench/deep.ts and the SimpleConvNet e2e rows (run by bench/peers-torch.ts).

Usage: python3 bench/peers-torch.py THREADS QUICK(0|1)
Prints one JSON object: {"torch": version, "threads": n, "cases": [{"name", "ms": [per-call trial times]}]}.

Or: python3 bench/peers-torch.py THREADS serve  (paired rounds, bench/paired-torch.ts)
After the batch on stdin, prints {"torch": version, "threads": n} and then answers each line
"<case> <reps>" (a case name as above) with one line: the per-call ms of <reps> calls after one
untimed call. An empty line or end of input ends it.
Same networks, batch 100, NCHW float32, Adam lr 0.001; inputs are the (100, 1, 28, 28) batch on stdin
(float32 bytes, x = byte / 255 of the bench's MNIST images) and its 100 int32 labels.
"""
import json
import sys
import time

import torch
import torch.nn as nn

threads = int(sys.argv[1])
serve = sys.argv[2] == "serve"
quick = sys.argv[2] == "1"
torch.set_num_threads(threads)
torch.manual_seed(42)

n_x = 100 * 784 * 4
raw = sys.stdin.buffer.read(n_x + 400) if serve else sys.stdin.buffer.read()
x = torch.frombuffer(bytearray(raw[:n_x]), dtype=torch.float32).reshape(100, 1, 28, 28)
t = torch.frombuffer(bytearray(raw[n_x:n_x + 400]), dtype=torch.int32).long()


def deep():
    c = lambda i, o, p: nn.Conv2d(i, o, 3, stride=1, padding=p)
    return nn.Sequential(
        c(1, 16, 1), nn.ReLU(), c(16, 16, 1), nn.ReLU(), nn.MaxPool2d(2, 2),
        c(16, 32, 1), nn.ReLU(), c(32, 32, 2), nn.ReLU(), nn.MaxPool2d(2, 2),
        c(32, 64, 1), nn.ReLU(), c(64, 64, 1), nn.ReLU(), nn.MaxPool2d(2, 2),
        nn.Flatten(), nn.Linear(1024, 50), nn.ReLU(), nn.Dropout(0.5), nn.Linear(50, 10), nn.Dropout(0.5),
    )


def simple():
    return nn.Sequential(
        nn.Conv2d(1, 30, 5), nn.ReLU(), nn.MaxPool2d(2, 2), nn.Flatten(),
        nn.Linear(4320, 100), nn.ReLU(), nn.Linear(100, 10),
    )


def trials(fn, trial_ms):
    for _ in range(2 if quick else 5):
        fn()
    t0 = time.perf_counter()
    fn()
    one = max(time.perf_counter() - t0, 1e-5)
    reps = max(1, int(trial_ms / 1000 / one + 0.999))
    out = []
    for _ in range(3 if quick else 9):
        t0 = time.perf_counter()
        for _ in range(reps):
            fn()
        out.append((time.perf_counter() - t0) / reps * 1000)
    return out


def make_cases():
    """(name, fn) of every case: train and infer of each network, the network in the matching mode."""
    out = []
    for name, make in (("deep", deep), ("simple", simple)):
        net = make()
        opt = torch.optim.Adam(net.parameters(), lr=0.001, eps=1e-7)
        loss_fn = nn.CrossEntropyLoss()

        def train(net=net, opt=opt, loss_fn=loss_fn):
            net.train()
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(net(x), t)
            loss.backward()
            opt.step()

        def infer(net=net):
            net.eval()
            with torch.no_grad():
                net(x)

        out += [(f"{name} train", train), (f"{name} infer", infer)]
    return out


if serve:
    fns = dict(make_cases())
    print(json.dumps({"torch": torch.__version__, "threads": torch.get_num_threads()}), flush=True)
    for line in sys.stdin:
        if not line.strip():
            break
        name, reps = line.rsplit(" ", 1)
        fn, reps = fns[name.strip()], int(reps)
        fn()
        t0 = time.perf_counter()
        for _ in range(reps):
            fn()
        print((time.perf_counter() - t0) / reps * 1000, flush=True)
    sys.exit(0)

cases = [{"name": name, "ms": trials(fn, 20 if quick else 150)} for name, fn in make_cases()]
print(json.dumps({"torch": torch.__version__, "threads": torch.get_num_threads(), "cases": cases}))
