"""Pose-network speed on CPU: parameters, FLOPs, forward and forward+backward images/s.

    PYTHONPATH=src python bench/model.py [--batch 64] [--repeats 5] [--threads N] [--memory-format contiguous]

The networks are built by ``opnet.models.create_model`` (landmarks and uncertainty on, 129x129
input, channels-last memory format unless told otherwise). FLOPs count multiply and add
separately (2 per multiply-accumulate), forward pass, one image.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
from torch.utils.flop_counter import FlopCounterMode

from opnet.models import KeypointModel, ModelConfig, create_model

CASES = (("mobilenetv1", 1.0), ("mobilenetv1", 0.5), ("mobilenetv1", 0.25), ("resnet18", 1.0))


def forward_flops(net: torch.nn.Module, size: int) -> int:
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        net.eval()(torch.zeros(1, 1, size, size))
    return counter.get_total_flops()


def images_per_second(step, batch: int, repeats: int) -> float:
    step()  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    return batch / statistics.median(times)


def measure(backbone: str, width: float, args: argparse.Namespace) -> dict[str, object]:
    config = ModelConfig(backbone=backbone, width=width, blurpool=not args.no_blurpool)
    net = create_model(config, KeypointModel.empty(config.num_shape_params))
    if args.memory_format == "contiguous":
        net = net.to(memory_format=torch.contiguous_format)
    x = torch.randn(args.batch, 1, config.input_size, config.input_size) * 0.3

    def forward() -> None:
        with torch.inference_mode():
            net(x)

    def train_step() -> None:
        out = net(x)
        loss = sum(value.float().mean() for value in out.as_dict().values())
        net.zero_grad(set_to_none=True)
        loss.backward()

    params = sum(p.numel() for p in net.parameters())
    flops = forward_flops(net, config.input_size)
    fwd = images_per_second(forward, args.batch, args.repeats)
    net.train()
    train = images_per_second(train_step, args.batch, args.repeats)
    return {
        "backbone": backbone,
        "width": width,
        "params_M": params / 1e6,
        "gflops": flops / 1e9,
        "fwd": fwd,
        "fwd_bwd": train,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's choice)")
    parser.add_argument("--memory-format", choices=("channels_last", "contiguous"), default="channels_last")
    parser.add_argument("--no-blurpool", action="store_true")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} threads, batch {args.batch}, "
        f"{args.memory_format}, blurpool {'off' if args.no_blurpool else 'on'}, 129x129 input"
    )
    header = (
        f"{'backbone':<12} {'width':>5} {'params':>8} {'GFLOPs':>7} {'fwd img/s':>10} {'fwd+bwd img/s':>14}"
    )
    print(header)
    print("-" * len(header))
    for backbone, width in CASES:
        r = measure(backbone, width, args)
        print(
            f"{r['backbone']:<12} {r['width']:>5.2f} {r['params_M']:>7.2f}M {r['gflops']:>7.3f} "
            f"{r['fwd']:>10.0f} {r['fwd_bwd']:>14.0f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
