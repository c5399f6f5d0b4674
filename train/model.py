"""Frustum ConvNet (docs/design.md §6): four depth-slab PointNets, a 1D fully-convolutional network with deconvolutions,
classification and regression heads. Widths, strides and group sizes come from :class:`train.config.Config`, so the
paper model and a CPU-sized model share the code.

Input batch (from :class:`train.frustum_dataset.FrustumDataset`): ``points (B, 3, N)`` and ``ref0..ref3
(B, 3, M_s)`` in the frustum frame (metres), ``one_hot (B, V)``. Output: ``cls (B, M2, 2)`` logits
(background, object) and ``reg (B, M2, 3 + 2 NB + 4 S)`` = [centre offset (3) | heading scores (NB) | heading
residuals (NB) | size scores (S) | size residuals (3 S)], aligned with ``ref1``; with ``model.quality_head`` also
``quality (B, M2)``: the logit of the predicted 3D IoU of the box decoded at that slice (sigmoid -> [0, 1]).
"""
from __future__ import annotations

from typing import Any

import torch
from torch import nn

from kitti.priors import CLASSES
from train.config import Config, ConfigError
from train.grouping import query_depth_point, slice_depths

NUM_CLASSES = len(CLASSES)


def conv_bn(cin: int, cout: int, dims: int, kernel: int = 1, stride: int = 1) -> nn.Sequential:
    conv = (nn.Conv2d if dims == 2 else nn.Conv1d)(cin, cout, kernel, stride, padding=kernel // 2, bias=False)
    bn = nn.BatchNorm2d(cout) if dims == 2 else nn.BatchNorm1d(cout)
    return nn.Sequential(conv, bn, nn.ReLU(inplace=True))


class SlabPointNet(nn.Module):
    """One scale: group the first K points of each depth slab, shared MLP on xyz relative to the centre, zero the
    features of empty slabs, max-pool over K, append the one-hot class."""

    def __init__(self, widths: list[int], half_height: float, group_size: int) -> None:
        super().__init__()
        self.half_height, self.group_size = half_height, group_size
        layers, cin = [], 3
        for width in widths:
            layers.append(conv_bn(cin, width, 2))
            cin = width
        self.mlp = nn.Sequential(*layers)
        self.out_channels = cin

    def forward(self, points: torch.Tensor, centres: torch.Tensor, one_hot: torch.Tensor) -> torch.Tensor:
        with torch.profiler.record_function("grouping"):
            idx, count = query_depth_point(points[:, 2], centres[:, 2], self.half_height, self.group_size)
            b, m, k = idx.shape
            grouped = torch.gather(points, 2, idx.view(b, 1, m * k).expand(b, 3, m * k)).view(b, 3, m, k)
            grouped = grouped - centres[:, :, :, None]
        feats = self.mlp(grouped).amax(dim=3)                                   # (B, C, M)
        feats = feats * (count > 0)[:, None, :].to(feats.dtype)
        return torch.cat([feats, one_hot[:, :, None].expand(b, one_hot.shape[1], m)], dim=1)


class FConvNet(nn.Module):
    """The detector; ``forward(batch)`` returns ``{"cls": (B, M2, 2), "reg": (B, M2, R)}`` (+ ``"quality": (B, M2)``
    logits with ``model.quality_head``)."""

    def __init__(self, cfg: Config) -> None:
        super().__init__()
        data, model = cfg.data, cfg.model
        self.num_bins = model.num_heading_bins
        lengths = [len(slice_depths(s, data.max_depth)) for s in data.strides]
        for a, b in zip(lengths, lengths[1:]):
            if (a + 1) // 2 != b:
                raise ConfigError(f"data.strides {data.strides} with max_depth {data.max_depth} give slice counts "
                                 f"{lengths}; each scale must have ceil(M/2) slices of the previous one")
        if 2 * lengths[2] < lengths[1] or 4 * lengths[3] < lengths[1]:
            raise ConfigError(f"data.strides {data.strides}: slice counts {lengths} cannot be deconvolved back to "
                              f"{lengths[1]}")
        self.out_length = lengths[1]
        self.pointnets = nn.ModuleList(SlabPointNet(w, s, k) for w, s, k in
                                       zip(model.pointnet, data.strides, data.group_sizes))
        c = [p.out_channels for p in self.pointnets]
        v = NUM_CLASSES
        self.block1 = conv_bn(c[0] + v, c[0], 1, 3)
        self.block2 = nn.Sequential(conv_bn(c[0], c[1], 1, 3, 2), conv_bn(c[1], c[1], 1, 3))
        self.merge2 = conv_bn(c[1] + c[1] + v, c[1], 1)
        self.block3 = nn.Sequential(conv_bn(c[1], c[2], 1, 3, 2), conv_bn(c[2], c[2], 1, 3))
        self.merge3 = conv_bn(c[2] + c[2] + v, c[2], 1)
        self.block4 = nn.Sequential(conv_bn(c[2], c[3], 1, 3, 2), conv_bn(c[3], c[3], 1, 3))
        self.merge4 = conv_bn(c[3] + c[3] + v, c[3], 1)
        d = model.deconv
        self.deconvs = nn.ModuleList(
            nn.Sequential(nn.ConvTranspose1d(cin, d, k, k, bias=False), nn.BatchNorm1d(d), nn.ReLU(inplace=True))
            for cin, k in ((c[1], 1), (c[2], 2), (c[3], 4)))
        self.cls_head = nn.Conv1d(3 * d, 2, 1)
        self.reg_head = nn.Conv1d(3 * d, 3 + 2 * self.num_bins + 4 * NUM_CLASSES, 1)
        self.quality_head = nn.Conv1d(3 * d, 1, 1) if model.quality_head else None
        self._init_weights()

    def _init_weights(self) -> None:
        for module in self.modules():
            if isinstance(module, (nn.Conv1d, nn.Conv2d, nn.ConvTranspose1d)):
                if module in (self.cls_head, self.reg_head, self.quality_head):
                    nn.init.kaiming_uniform_(module.weight)
                else:
                    nn.init.kaiming_normal_(module.weight, mode="fan_in")
                if module.bias is not None:
                    nn.init.zeros_(module.bias)
            elif isinstance(module, (nn.BatchNorm1d, nn.BatchNorm2d)):
                nn.init.ones_(module.weight)
                nn.init.zeros_(module.bias)

    def forward(self, batch: dict[str, Any]) -> dict[str, torch.Tensor]:
        points, one_hot = batch["points"], batch["one_hot"]
        feats = [net(points, batch[f"ref{s}"], one_hot) for s, net in enumerate(self.pointnets)]
        x = self.block1(feats[0])
        xx1 = self.merge2(torch.cat([self.block2(x), feats[1]], dim=1))
        xx2 = self.merge3(torch.cat([self.block3(xx1), feats[2]], dim=1))
        xx3 = self.merge4(torch.cat([self.block4(xx2), feats[3]], dim=1))
        m = self.out_length
        x = torch.cat([deconv(t)[:, :, :m] for deconv, t in zip(self.deconvs, (xx1, xx2, xx3))], dim=1)
        out = {"cls": self.cls_head(x).transpose(1, 2), "reg": self.reg_head(x).transpose(1, 2)}
        if self.quality_head is not None:
            out["quality"] = self.quality_head(x)[:, 0]
        return out


def split_regression(reg: torch.Tensor, num_bins: int) -> dict[str, torch.Tensor]:
    """Named views of the regression output (.., R): ``delta (.., 3)``, ``heading_scores``/``heading_res``
    (.., NB), ``size_scores (.., S)``, ``size_res (.., S, 3)``."""
    nb, s = num_bins, NUM_CLASSES
    return {"delta": reg[..., :3], "heading_scores": reg[..., 3:3 + nb], "heading_res": reg[..., 3 + nb:3 + 2 * nb],
            "size_scores": reg[..., 3 + 2 * nb:3 + 2 * nb + s],
            "size_res": reg[..., 3 + 2 * nb + s:].reshape(*reg.shape[:-1], s, 3)}
