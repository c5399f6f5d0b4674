"""Depth Anything 3 (DA3) on KITTI images: network building, safetensors weights, preprocessing and metric depth.

Light "network only" route (docs/design.md §10.2): the network is built from the package's bundled YAML config
(``create_object(load_config(MODEL_REGISTRY[name]))`` -> ``DepthAnything3Net``) without the high-level
``DepthAnything3`` API class, which needs torchvision (not importable beside the CPU torch 2.13 wheel) and whose
forward always autocasts, to fp16 on a CPU machine (about 5x slower than fp32 there).

Models (``--model`` of :mod:`kitti.depth.generate`, :func:`load_model`) are given as

* a local directory holding ``config.json`` (``{"model_name": "<registry name>"}``, as the package's
  ``save_pretrained`` writes it) and ``model.safetensors`` (keys prefixed ``model.``), see :func:`save_model_dir`;
* a registry name (``da3metric-large``, ``da3-small``, ...): the pretrained weights of its hub id
  (:data:`HUB_IDS`), downloaded with ``huggingface_hub`` where a hub is reachable;
* a hub id (``owner/name``) holding the same two files.

Weights are read with safetensors only (never pickle). Randomly initialised networks (tests, benchmarks) come from
:func:`build_network`.

Preprocessing (:func:`preprocess`) reproduces the package's ``InputProcessor`` without torchvision/PIL: RGB,
boundary resize of the longest (``upper_bound_resize``, default, ``process_res`` 504) or shortest
(``lower_bound_resize``) side with cv2 INTER_AREA (INTER_CUBIC when enlarging), each side rounded to the nearest
multiple of 14 (ties up) by a second small resize, intrinsics rescaled per axis, ``/255`` and ImageNet
normalisation. For KITTI 1242x375 at 504 this gives a 154x504 input with fx' = 292.8, fy' = 296.3 (docs/design.md
§10.2).

Depth kinds (:func:`depth_kind`):

* ``focal_metric`` (``da3metric-*``): the network predicts depth normalised to a 300 px focal length; metres are
  ``out * (fx' + fy') / 2 / 300`` with the rescaled ground-truth focal lengths (:func:`metric_scale`);
* ``metric`` (``da3nested-*``): already metric (scaled internally with the predicted focal length);
* ``relative`` (any-view and mono models): depth up to an unknown scale; align it with
  :mod:`kitti.depth.alignment` before using it as metres.
"""
from __future__ import annotations

import json
import os
import re
import warnings
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import torch

from kitti.atomic import read_json_object
from kitti.errors import InputError, KittiFormatError

PATCH_SIZE = 14
DEFAULT_MODEL = "da3metric-large"
DEFAULT_PROCESS_RES = 504
RESIZE_METHODS = ("upper_bound_resize", "lower_bound_resize")
PRECISIONS = ("fp32", "bf16")
#: focal length (pixels) the metric model's output is normalised to
METRIC_FOCAL_PX = 300.0
IMAGENET_MEAN = np.array([0.485, 0.456, 0.406], np.float32)
IMAGENET_STD = np.array([0.229, 0.224, 0.225], np.float32)
CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.safetensors"
#: registry name -> hub id of its published weights (docs/design.md §10.2)
HUB_IDS: dict[str, str] = {
    "da3-small": "depth-anything/DA3-SMALL",
    "da3-base": "depth-anything/DA3-BASE",
    "da3-large": "depth-anything/DA3-LARGE-1.1",
    "da3-giant": "depth-anything/DA3-GIANT-1.1",
    "da3mono-large": "depth-anything/DA3MONO-LARGE",
    "da3metric-large": "depth-anything/DA3METRIC-LARGE",
    "da3nested-giant-large": "depth-anything/DA3NESTED-GIANT-LARGE-1.1",
}
INSTALL_HINT = "install it with scripts/setup_env.sh (requirements-da3.txt: depth-anything-3 --no-deps + light deps)"


class ModelError(InputError):
    """A model that cannot be resolved or loaded (bad name, missing/malformed files, mismatching weights)."""


def _registry() -> dict[str, str]:
    """The package's ``MODEL_REGISTRY`` (registry name -> bundled YAML path)."""
    try:
        from depth_anything_3.registry import MODEL_REGISTRY
    except ImportError as exc:
        raise ModelError(f"depth_anything_3 is not importable ({exc}); {INSTALL_HINT}") from exc
    return dict(MODEL_REGISTRY)


def depth_kind(name: str) -> str:
    """``focal_metric``, ``metric`` or ``relative`` for a registry name (see the module docstring)."""
    if name.startswith("da3metric"):
        return "focal_metric"
    if name.startswith("da3nested"):
        return "metric"
    return "relative"


def build_network(name: str) -> torch.nn.Module:
    """``DepthAnything3Net`` of registry ``name`` with random initial weights, in eval mode (CPU, fp32)."""
    registry = _registry()
    if name not in registry:
        raise ModelError(f"unknown DA3 model {name!r}; registry names: {', '.join(sorted(registry))}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # omegaconf's deprecation warning about the package's "eval" resolver
        from depth_anything_3.cfg import create_object, load_config
        net = create_object(load_config(registry[name]))
    return net.eval()


def _tied_names(net: torch.nn.Module) -> set[str]:
    """State-dict names whose tensor shares its storage with an earlier name (safetensors stores one of them)."""
    seen: dict[int, str] = {}
    tied = set()
    for key, value in net.state_dict().items():
        if seen.setdefault(value.data_ptr(), key) != key:
            tied.add(key)
    return tied


def load_weights(net: torch.nn.Module, path: str | Path) -> None:
    """Load ``model.*`` tensors of a safetensors file into ``net`` (prefix stripped). Missing keys are allowed
    only for parameters tied to a loaded one (the 6 ``head.scratch.output_conv2_aux.*`` of the any-view heads);
    any other missing or unexpected key, or a shape mismatch, is a :class:`ModelError` naming the file."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    path = Path(path)
    try:
        tensors = load_file(str(path))
    except FileNotFoundError:
        raise ModelError(f"{path}: weights file not found") from None
    except (SafetensorError, OSError, ValueError) as exc:
        raise ModelError(f"{path}: not a readable safetensors file ({exc})") from None
    state = {key[len("model."):]: value for key, value in tensors.items() if key.startswith("model.")}
    if not state:
        raise ModelError(f"{path}: no 'model.*' tensors (found {len(tensors)} other keys)")
    try:
        result = net.load_state_dict(state, strict=False)
    except RuntimeError as exc:
        raise ModelError(f"{path}: weights do not fit the network ({str(exc).splitlines()[0]} ...)") from None
    missing = set(result.missing_keys) - _tied_names(net)
    if missing or result.unexpected_keys:
        raise ModelError(f"{path}: weights do not fit the network: missing {sorted(missing)[:5]}, "
                         f"unexpected {sorted(result.unexpected_keys)[:5]} (wrong config.json model_name?)")


def save_model_dir(net: torch.nn.Module, name: str, directory: str | Path) -> Path:
    """Save ``net`` as a local model directory (``config.json`` + ``model.safetensors``, keys ``model.*``) that
    :func:`load_model` and the package's ``from_pretrained`` read. Returns the directory."""
    from safetensors.torch import save_model

    from kitti.atomic import atomic_write_text

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    wrapper = torch.nn.Module()
    wrapper.model = net  # the API class holds the network as .model; save_model drops duplicate tied tensors
    save_model(wrapper, str(directory / WEIGHTS_FILE))
    atomic_write_text(directory / CONFIG_FILE, json.dumps({"model_name": name}) + "\n")
    return directory


def _read_model_name(config_path: Path) -> str:
    try:
        config = read_json_object(config_path, "a DA3 model config", f"a model directory needs config.json and "
                                                                    f"{WEIGHTS_FILE}")
    except KittiFormatError as exc:
        raise ModelError(str(exc)) from None
    name = config.get("model_name")
    if not isinstance(name, str):
        raise ModelError(f"{config_path}: expected {{\"model_name\": \"<registry name>\"}}, got model_name "
                         f"{str(name)[:60]!r}")
    return name


def _download(hub_id: str) -> Path:
    """Directory holding ``config.json`` and ``model.safetensors`` of ``hub_id`` (downloaded into the HF cache)."""
    try:
        from huggingface_hub import hf_hub_download
    except ImportError:
        raise ModelError(f"model {hub_id!r} is a hub id but huggingface_hub is not installed; {INSTALL_HINT}, "
                         f"or pass a local directory") from None
    try:
        config = hf_hub_download(hub_id, CONFIG_FILE)
        hf_hub_download(hub_id, WEIGHTS_FILE)
    except Exception as exc:  # network, authentication or missing-repo errors of the hub client
        raise ModelError(f"cannot download {hub_id!r} from the model hub ({type(exc).__name__}: {exc}); "
                         f"pass a local directory with {CONFIG_FILE} and {WEIGHTS_FILE} instead") from None
    return Path(config).parent


@dataclass
class Da3Model:
    """A loaded network: ``name`` (registry name), ``source`` (directory or hub id it came from)."""

    name: str
    source: str
    net: torch.nn.Module

    @property
    def kind(self) -> str:
        return depth_kind(self.name)


def load_model(spec: str | Path) -> Da3Model:
    """Load a model from a local directory, a registry name (its hub weights) or a hub id (see module docstring)."""
    spec = str(spec)
    if Path(spec).is_dir():
        directory = Path(spec)
    elif spec in HUB_IDS:
        directory = _download(HUB_IDS[spec])
    elif re.fullmatch(r"[\w.-]+/[\w.-]+", spec) and not spec.startswith("."):
        directory = _download(spec)
    else:
        raise ModelError(f"model {spec!r} is neither an existing directory, a registry name "
                         f"({', '.join(HUB_IDS)}) nor a hub id (owner/name)")
    name = _read_model_name(directory / CONFIG_FILE)
    net = build_network(name)
    load_weights(net, directory / WEIGHTS_FILE)
    return Da3Model(name, spec, net)


def processed_size(height: int, width: int, process_res: int = DEFAULT_PROCESS_RES,
                   method: str = "upper_bound_resize") -> tuple[tuple[int, int], tuple[int, int]]:
    """``((h1, w1), (h2, w2))``: the size after the boundary resize and after rounding to multiples of 14."""
    if method not in RESIZE_METHODS:
        raise ValueError(f"process_res_method must be one of {RESIZE_METHODS}, got {method!r}")
    bound = max(height, width) if method == "upper_bound_resize" else min(height, width)
    if bound == process_res:
        h1, w1 = height, width
    else:
        scale = process_res / float(bound)
        h1, w1 = max(1, int(round(height * scale))), max(1, int(round(width * scale)))

    def nearest_multiple(x: int) -> int:
        down = (x // PATCH_SIZE) * PATCH_SIZE
        up = down + PATCH_SIZE
        return max(1, up if abs(up - x) <= abs(x - down) else down)

    return (h1, w1), (nearest_multiple(h1), nearest_multiple(w1))


def _resize(image: np.ndarray, size_hw: tuple[int, int]) -> np.ndarray:
    """The package's resize: INTER_CUBIC if either side grows, else INTER_AREA (no-op at the same size)."""
    h, w = image.shape[:2]
    if (h, w) == size_hw:
        return image
    grow = size_hw[0] > h or size_hw[1] > w
    return cv2.resize(image, (size_hw[1], size_hw[0]), interpolation=cv2.INTER_CUBIC if grow else cv2.INTER_AREA)


def rescale_intrinsics(K: np.ndarray, from_hw: tuple[int, int], to_hw: tuple[int, int]) -> np.ndarray:
    """3x3 intrinsics after resizing an image from ``from_hw`` to ``to_hw`` (row 0 by the width ratio, row 1 by the
    height ratio, as the package's ``_resize_ixt``)."""
    K = np.array(K, dtype=np.float64, copy=True)
    K[0] *= to_hw[1] / float(from_hw[1])
    K[1] *= to_hw[0] / float(from_hw[0])
    return K


def preprocess(image_bgr: np.ndarray, K: np.ndarray, process_res: int = DEFAULT_PROCESS_RES,
               method: str = "upper_bound_resize") -> tuple[np.ndarray, np.ndarray]:
    """A BGR uint8 ``(H, W, 3)`` image and its 3x3 intrinsics (pixels) -> the network input float32 ``(3, h, w)``
    (ImageNet-normalised RGB, ``h, w`` multiples of 14) and the rescaled intrinsics ``K'`` (float64 3x3)."""
    height, width = image_bgr.shape[:2]
    first, second = processed_size(height, width, process_res, method)
    rgb = _resize(_resize(np.ascontiguousarray(image_bgr[:, :, ::-1]), first), second)
    K1 = rescale_intrinsics(rescale_intrinsics(K, (height, width), first), first, second)
    x = (rgb.astype(np.float32) / np.float32(255.0) - IMAGENET_MEAN) / IMAGENET_STD
    return np.ascontiguousarray(x.transpose(2, 0, 1)), K1


def metric_scale(K_processed: np.ndarray) -> float:
    """Metres per unit of the metric model's output: ``(fx' + fy') / 2 / 300`` with ``K'`` the rescaled intrinsics
    of the network input (docs/design.md §10.2; 0.982 for KITTI 1242x375 at 504)."""
    return float((K_processed[0, 0] + K_processed[1, 1]) / 2.0 / METRIC_FOCAL_PX)


def resolve_device(device: str = "auto") -> torch.device:
    """``auto`` -> CUDA (the ``LOCAL_RANK`` device under torchrun) when available, else CPU."""
    if device == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")) % torch.cuda.device_count())
        return torch.device("cpu")
    return torch.device(device)


@dataclass
class DepthPrediction:
    """One image's result at the original image size: ``depth`` float32 ``(H, W)`` (metres for metric kinds),
    ``sky`` float32 sky probability ``(H, W)`` or None, ``conf`` float32 ``(H, W)`` or None, ``K_processed`` the
    network-input intrinsics and ``scale`` the metric factor applied (1 for non-``focal_metric`` kinds)."""

    depth: np.ndarray
    sky: np.ndarray | None
    conf: np.ndarray | None
    K_processed: np.ndarray
    scale: float


class Da3Predictor:
    """Runs a :class:`Da3Model` on batches of same-size images, each as its own single-view scene ``(B, 1, ...)``
    so that any-view models never mix frames. fp32 by default; ``bf16`` autocasts (CPU or CUDA)."""

    def __init__(self, model: Da3Model, device: str | torch.device = "auto", precision: str = "fp32",
                 process_res: int = DEFAULT_PROCESS_RES, method: str = "upper_bound_resize") -> None:
        if precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {PRECISIONS}, got {precision!r}")
        self.model = model
        self.device = resolve_device(device) if isinstance(device, str) else device
        self.net = model.net.to(self.device).eval()
        self.precision = precision
        self.process_res = process_res
        self.method = method

    def predict(self, images_bgr: list[np.ndarray], intrinsics: list[np.ndarray]) -> list[DepthPrediction]:
        """Depth of each image (same size for all); ``intrinsics`` are their 3x3 K (e.g. ``P2[:, :3]``)."""
        sizes = {image.shape[:2] for image in images_bgr}
        if len(sizes) != 1:
            raise ValueError(f"Da3Predictor.predict: batch images must share one size, got {sorted(sizes)}")
        (height, width), = sizes
        inputs = [preprocess(image, K, self.process_res, self.method) for image, K in zip(images_bgr, intrinsics)]
        x = torch.from_numpy(np.stack([x for x, _ in inputs]))[:, None].to(self.device)
        with torch.inference_mode(), torch.autocast(self.device.type, dtype=torch.bfloat16,
                                                    enabled=self.precision == "bf16"):
            out = self.net(x)
        raw = {key: out[key][:, 0].float().cpu().numpy() for key in ("depth", "sky", "depth_conf") if key in out}
        results = []
        for i, (_, K1) in enumerate(inputs):
            scale = metric_scale(K1) if self.model.kind == "focal_metric" else 1.0
            maps = {key: cv2.resize(value[i], (width, height), interpolation=cv2.INTER_LINEAR)
                    for key, value in raw.items()}
            results.append(DepthPrediction(depth=(maps["depth"] * np.float32(scale)).astype(np.float32),
                                           sky=maps.get("sky"), conf=maps.get("depth_conf"), K_processed=K1,
                                           scale=scale))
        return results
