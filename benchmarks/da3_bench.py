"""Seconds per image of Depth Anything 3 on this machine (random weights: speed does not depend on them).

    python benchmarks/da3_bench.py [--models da3-small da3metric-large] [--repeats 3] [--process-res 504]
                                   [--fp16-autocast]

For each model: build, one warm-up forward, then ``--repeats`` timed single-image forwards of a KITTI-sized
(375x1242) image through :class:`kitti.depth.da3_model.Da3Predictor` (preprocessing, network, metric scaling,
resize back) in fp32, and with bf16 autocast. ``--fp16-autocast`` also times the raw network under
``torch.autocast("cpu", torch.float16)``, what the package's ``DepthAnything3.forward`` does on a CPU-only
machine (docs/design.md §10.2). Wall-clock figures depend on what else runs on the cores.
"""
from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from kitti.depth.da3_model import DEFAULT_PROCESS_RES, Da3Model, Da3Predictor, build_network, preprocess

K_KITTI = np.array([[721.5377, 0.0, 609.5593], [0.0, 721.5377, 172.854], [0.0, 0.0, 1.0]])


def seconds_per_call(fn, repeats: int) -> float:
    fn()  # warm-up
    start = time.perf_counter()
    for _ in range(repeats):
        fn()
    return (time.perf_counter() - start) / repeats


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", nargs="+", default=["da3-small", "da3metric-large"])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--process-res", type=int, default=DEFAULT_PROCESS_RES)
    parser.add_argument("--fp16-autocast", action="store_true", help="also time the API-style fp16 autocast")
    args = parser.parse_args()
    image = np.random.default_rng(0).integers(0, 256, (375, 1242, 3), dtype=np.uint8)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, device cpu, 375x1242 image, "
          f"process_res {args.process_res}")
    for name in args.models:
        start = time.perf_counter()
        net = build_network(name)
        built = time.perf_counter() - start
        params = sum(p.numel() for p in net.parameters()) / 1e6
        model = Da3Model(name, "random", net)
        rows = {}
        for precision in ("fp32", "bf16"):
            predictor = Da3Predictor(model, "cpu", precision, args.process_res)
            rows[precision] = seconds_per_call(lambda: predictor.predict([image], [K_KITTI]), args.repeats)
        if args.fp16_autocast:
            x = torch.from_numpy(preprocess(image, K_KITTI, args.process_res)[0])[None, None]

            def fp16() -> None:
                with torch.inference_mode(), torch.autocast("cpu", dtype=torch.float16):
                    net(x)
            rows["fp16 autocast (net only)"] = seconds_per_call(fp16, args.repeats)
        timings = ", ".join(f"{key} {value:.2f} s/img" for key, value in rows.items())
        print(f"{name}: {params:.1f} M params, built in {built:.1f} s; {timings}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
