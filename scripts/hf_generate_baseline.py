#!/usr/bin/env python3
"""The transformers baseline for `amalgam bench generate`: eager attention, bf16, greedy `generate` on the same
checkpoint, prompt length, new tokens and batch sizes. Prompts are random ids (seeded), every sequence is forced
to generate exactly --new-tokens (min_new_tokens), so both sides do the same work.

Prints one JSON object on stdout. Without torch/transformers it prints {"available": false, "reason": ...} and
exits 3, so callers can report the baseline as unavailable rather than failed.
"""
import argparse
import json
import sys
import time

UNAVAILABLE = 3


def parse_args():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--model", required=True, help="model folder (config.json + safetensors)")
    p.add_argument("--prompt-len", type=int, default=512)
    p.add_argument("--new-tokens", type=int, default=256)
    p.add_argument("--batch", default="1,8,32", help="comma-separated batch sizes")
    p.add_argument("--device", default="auto", help="auto (cuda when available), cuda or cpu")
    p.add_argument("--seed", type=int, default=0)
    return p.parse_args()


def main():
    args = parse_args()
    try:
        import torch
        import transformers
        from transformers import AutoModelForCausalLM
    except ImportError as e:
        print(json.dumps({"available": False, "reason": f"python cannot import torch/transformers ({e})"}))
        return UNAVAILABLE
    if args.new_tokens < 2:
        sys.exit("--new-tokens must be at least 2")
    device = args.device
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        print(json.dumps({"available": False, "reason": "torch sees no CUDA device"}))
        return UNAVAILABLE

    def sync():
        if device == "cuda":
            torch.cuda.synchronize()

    # transformers 5 renamed torch_dtype to dtype.
    dtype_arg = "dtype" if int(transformers.__version__.split(".")[0]) >= 5 else "torch_dtype"
    start = time.perf_counter()
    model = AutoModelForCausalLM.from_pretrained(args.model, attn_implementation="eager",
                                                 **{dtype_arg: torch.bfloat16}).to(device).eval()
    sync()
    load_s = time.perf_counter() - start
    vocab = model.config.vocab_size
    generator = torch.Generator().manual_seed(args.seed)

    def generate(ids, new_tokens):
        sync()
        t0 = time.perf_counter()
        out = model.generate(ids, attention_mask=torch.ones_like(ids), max_new_tokens=new_tokens,
                             min_new_tokens=new_tokens, do_sample=False, pad_token_id=0)
        sync()
        elapsed = time.perf_counter() - t0
        if out.shape[1] != ids.shape[1] + new_tokens:
            raise RuntimeError(f"generate returned {out.shape[1] - ids.shape[1]} tokens, not {new_tokens}")
        return elapsed

    runs = []
    with torch.inference_mode():
        for batch in [int(b) for b in args.batch.split(",")]:
            ids = torch.randint(0, vocab, (batch, args.prompt_len), generator=generator).to(device)
            print(f"transformers batch {batch}", file=sys.stderr, flush=True)
            generate(ids, 2)  # warm-up: kernels, allocator, clocks
            first = generate(ids, 1)  # prefill of the whole batch and the first token
            full = generate(ids, args.new_tokens)
            decode_s = full - first
            steps = args.new_tokens - 1
            runs.append({
                "batch": batch,
                "prefill_tok_s": batch * args.prompt_len / first,
                "ttft_ms": first * 1e3,
                "decode_tok_s": batch * steps / decode_s,
                "decode_step_ms": decode_s / steps * 1e3,
                "decode_s": decode_s,
            })
    print(json.dumps({
        "available": True,
        "implementation": "transformers eager generate, bfloat16, greedy",
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "device": torch.cuda.get_device_name() if device == "cuda" else "cpu",
        "load_s": load_s,
        "prompt_len": args.prompt_len,
        "new_tokens": args.new_tokens,
        "method": "decode = (generate N tokens - generate 1 token) per batch; prefill and ttft from generate 1 token",
        "runs": runs,
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
