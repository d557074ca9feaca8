"""PyTorch's side of the interop tests (tests/models/pytorch-torch.test.ts).

Usage: python3 torch_peer.py JOB.json

The job lists cases; for each one, with the nn.Sequential given as Python source:
  1. loads wasm-cnn's file (`wasm_file`) with load_state_dict(strict=True) and writes the
     logits of the images (inference mode) to `wasm_logits`;
  2. builds a second model with its own seeded weights (He-normal weights, uniform biases,
     random BatchNorm statistics), writes its state dict to `torch_file` as
     safetensors.torch.save_file would (every tensor, num_batches_tracked as I64,
     __metadata__ {"format": "pt"}), and its logits of the same images to `torch_logits`.
Prints one JSON line: the torch version and, per case, the state-dict names it saw.

The `safetensors` package is not installed here, so the format (8-byte little-endian header
length, JSON header, raw little-endian data) is read and written below.
"""
import json
import struct
import sys

import torch
from torch import nn

DTYPES = {'F32': torch.float32, 'I64': torch.int64, 'F64': torch.float64}
NAMES = {v: k for k, v in DTYPES.items()}


def read_safetensors(path):
    with open(path, 'rb') as f:
        data = f.read()
    (n,) = struct.unpack('<Q', data[:8])
    header = json.loads(data[8:8 + n])
    meta = header.pop('__metadata__', {})
    body = bytearray(data[8 + n:])
    tensors = {}
    for name, e in header.items():
        begin, end = e['data_offsets']
        t = torch.frombuffer(body[begin:end], dtype=DTYPES[e['dtype']]) if end > begin else torch.empty(0, dtype=DTYPES[e['dtype']])
        tensors[name] = t.reshape(e['shape']).clone()
    return tensors, meta


def write_safetensors(path, tensors, meta):
    header, chunks, offset = {}, [], 0
    for name in sorted(tensors):
        t = tensors[name].detach().contiguous()
        raw = t.numpy().astype(t.numpy().dtype.newbyteorder('<')).tobytes()
        header[name] = {'dtype': NAMES[t.dtype], 'shape': list(t.shape), 'data_offsets': [offset, offset + len(raw)]}
        chunks.append(raw)
        offset += len(raw)
    header['__metadata__'] = meta
    text = json.dumps(header, separators=(',', ':')).encode('utf-8')
    text += b' ' * (-len(text) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(text)) + text + b''.join(chunks))


def read_f32(path, shape):
    with open(path, 'rb') as f:
        return torch.frombuffer(bytearray(f.read()), dtype=torch.float32).reshape(shape).clone()


def write_f32(path, t):
    with open(path, 'wb') as f:
        f.write(t.detach().contiguous().numpy().astype('<f4').tobytes())


def own_weights(model, seed):
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                fan_in = m.weight[0].numel()
                m.weight.copy_(torch.randn(m.weight.shape, generator=g) * (2.0 / fan_in) ** 0.5)
                m.bias.copy_(torch.rand(m.bias.shape, generator=g) * 0.2 - 0.1)
            elif isinstance(m, nn.BatchNorm1d):
                m.weight.copy_(torch.rand(m.weight.shape, generator=g) + 0.5)
                m.bias.copy_(torch.rand(m.bias.shape, generator=g) * 0.4 - 0.2)
                m.running_mean.copy_(torch.randn(m.running_mean.shape, generator=g) * 0.2)
                m.running_var.copy_(torch.rand(m.running_var.shape, generator=g) + 0.5)
                m.num_batches_tracked.fill_(37)


def main():
    torch.set_num_threads(1)
    with open(sys.argv[1]) as f:
        job = json.load(f)
    report = {'torch': torch.__version__, 'cases': {}}
    for case in job['cases']:
        x = read_f32(case['images'], case['shape'])
        model = eval(case['code'], {'nn': nn})
        state, meta = read_safetensors(case['wasm_file'])
        model.load_state_dict(state, strict=True)
        model.eval()
        with torch.no_grad():
            write_f32(case['wasm_logits'], model(x))

        peer = eval(case['code'], {'nn': nn})
        own_weights(peer, case['seed'])
        peer.eval()
        with torch.no_grad():
            write_f32(case['torch_logits'], peer(x))
        write_safetensors(case['torch_file'], peer.state_dict(), {'format': 'pt'})
        report['cases'][case['name']] = {
            'read': sorted(state), 'metadata': meta, 'written': sorted(peer.state_dict()),
        }
    print(json.dumps(report))


main()
