#!/usr/bin/env python3
"""The baseline amalgam's merge is measured against: a plain torch + safetensors linear merge with mergekit's
arithmetic (bf16 inputs, weights, products and sums), 0.3/0.7 normalized, of two HF checkpoints.

usage: torch_merge_baseline.py MODEL_A MODEL_B OUT_DIR DEVICE   (DEVICE: cpu or cuda)
Prints one JSON object: seconds (read + merge + write with fsync), device, tensors, bytes.
"""
import json
import os
import sys
import time

import torch
from safetensors import safe_open
from safetensors.torch import save_file


def shards(model_dir):
    index = os.path.join(model_dir, "model.safetensors.index.json")
    if os.path.exists(index):
        with open(index) as f:
            return sorted(set(json.load(f)["weight_map"].values()))
    return ["model.safetensors"]


def open_all(model_dir, device):
    handles = {}
    for shard in shards(model_dir):
        h = safe_open(os.path.join(model_dir, shard), framework="pt", device=device)
        for name in h.keys():
            handles[name] = h
    return handles


def main():
    model_a, model_b, out_dir, device = sys.argv[1:5]
    start = time.perf_counter()
    a, b = open_all(model_a, device), open_all(model_b, device)
    weights = torch.tensor([0.3, 0.7], dtype=torch.bfloat16, device=device)
    merged = {}
    total = 0
    for name in a:
        x, y = a[name].get_tensor(name), b[name].get_tensor(name)
        out = (x * weights[0] + y * weights[1]) / weights.sum()
        merged[name] = out.to("cpu").contiguous()
        total += merged[name].numel() * merged[name].element_size()
    os.makedirs(out_dir, exist_ok=True)
    path = os.path.join(out_dir, "model.safetensors")
    save_file(merged, path, metadata={"format": "pt"})
    with open(path, "rb+") as f:
        os.fsync(f.fileno())
    seconds = time.perf_counter() - start
    print(json.dumps({"seconds": seconds, "device": device, "tensors": len(merged), "bytes": total,
                      "torch": torch.__version__}))


if __name__ == "__main__":
    main()
