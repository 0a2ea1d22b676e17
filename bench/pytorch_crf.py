# pytorch-crf's throughput on PyTorch's CPU backend, one thread, for bench/run.js to set beside webcrf's:
# one JSON line per (op, shape), the same ops and warm-up rules. A fourth argument, cuda, runs it on the
# GPU instead (bench/device.js); auto picks cuda where PyTorch sees one.
#   PYTORCH_CRF_SRC=<dir with torchcrf/__init__.py> python3 bench/pytorch_crf.py 32x128x9,1x32x9 forward,decode 400 [cpu|cuda|auto]
# pytorch-crf is not on PyPI's reach here and is not vendored: PYTORCH_CRF_SRC points at a checkout
# (https://github.com/kmkurn/pytorch-crf), either its root or its torchcrf/ folder.
import json
import os
import sys
import time

src = os.environ.get('PYTORCH_CRF_SRC')
if not src:
    sys.exit('PYTORCH_CRF_SRC is not set')
src = os.path.abspath(src)
sys.path.insert(0, os.path.dirname(src) if os.path.basename(src) == 'torchcrf' else src)

import torch  # noqa: E402
import torchcrf  # noqa: E402

shapes = [tuple(int(x) for x in s.split('x')) for s in sys.argv[1].split(',')]
ops = sys.argv[2].split(',')
min_ms = float(sys.argv[3]) if len(sys.argv) > 3 else 400.0
device = sys.argv[4] if len(sys.argv) > 4 else 'cpu'
if device == 'auto':
    device = 'cuda' if torch.cuda.is_available() else 'cpu'
if device == 'cpu':
    torch.set_num_threads(1)
# CUDA calls return before the GPU is done: a timed call ends when the device has finished it.
sync = torch.cuda.synchronize if device == 'cuda' else (lambda: None)


# A full boolean mask, as a tagger passes one (without it pytorch-crf builds a uint8 one per call).
def forward(crf, em, tags, mask):
    with torch.no_grad():
        return crf(em, tags, mask, reduction='sum')


def decode(crf, em, tags, mask):
    with torch.no_grad():
        return crf.decode(em, mask)


def forward_backward(crf, em, tags, mask):
    e = em.detach().requires_grad_()
    crf.zero_grad(set_to_none=True)
    llh = crf(e, tags, mask, reduction='sum')
    llh.backward()
    return e.grad


RUN = {'forward': forward, 'decode': decode, 'forwardBackward': forward_backward}

for (B, T, K) in shapes:
    g = torch.Generator().manual_seed(B * 1_000_003 + T * 1009 + K)
    em = ((torch.rand(B, T, K, generator=g) * 2 - 1) * 4).to(device)
    tags = torch.randint(0, K, (B, T), generator=g).to(device)
    mask = torch.ones(B, T, dtype=torch.bool, device=device)
    crf = torchcrf.CRF(K, batch_first=True).to(device)
    for op in ops:
        run = RUN[op]
        # Warm-up as long as a timed run: the allocator and caches settle as V8's tiers do on the JS side.
        t0 = time.perf_counter()
        while time.perf_counter() - t0 < min_ms / 1000:
            run(crf, em, tags, mask)
        sync()
        calls = 0
        t0 = time.perf_counter()
        dt = 0.0
        while dt < min_ms / 1000 or calls < 3:
            run(crf, em, tags, mask)
            sync()
            calls += 1
            dt = time.perf_counter() - t0
            if dt > min_ms / 1000 * 20:
                break
        ms = dt * 1000 / calls
        print(json.dumps({'backend': 'pytorch-crf' if device == 'cpu' else f'pytorch-crf {device}', 'op': op, 'B': B, 'T': T, 'K': K,
                          'tokensPerSec': round(B * T / (ms / 1000)), 'msPerCall': round(ms, 4), 'calls': calls}),
              flush=True)
