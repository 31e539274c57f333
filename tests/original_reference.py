"""The original code's pose networks, written for the tests from neuralnet-tracker-traincode
(``paper`` and ``master`` branches): its module names, hence its state_dict keys, and its forward(),
independently of ``opnet.models``. Tests import OpNet's conversion of these and compare outputs.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn


def positive(x: Tensor) -> Tensor:
    return F.elu(x) + 1.0


def quat_mult(u: Tensor, v: Tensor) -> Tensor:
    """Hamilton product, quaternions x y z w."""
    ux, uy, uz, uw = u.unbind(-1)
    vx, vy, vz, vw = v.unbind(-1)
    return torch.stack(
        [
            uw * vx + ux * vw + uy * vz - uz * vy,
            uw * vy - ux * vz + uy * vw + uz * vx,
            uw * vz + ux * vy - uy * vx + uz * vw,
            uw * vw - ux * vx - uy * vy - uz * vz,
        ],
        dim=-1,
    )


def quat_rotate(q: Tensor, p: Tensor) -> Tensor:
    """q p q^* for quaternions q (..., 4) and points p (..., 3) (broadcast)."""
    q, p = torch.broadcast_tensors(q, torch.cat([p, torch.zeros_like(p[..., :1])], dim=-1))
    conj = q * q.new_tensor([-1.0, -1.0, -1.0, 1.0])
    return quat_mult(quat_mult(q, p), conj)[..., :3]


class BlurPool2D(nn.Module):
    """kornia's blur pool with a persistent (3, 3) binomial kernel, as the original saves it."""

    def __init__(self, channels: int, stride: int):
        super().__init__()
        taps = torch.tensor([1.0, 2.0, 1.0])
        self.register_buffer("kernel", torch.outer(taps, taps) / 16.0)
        self.channels, self.stride = channels, stride

    def forward(self, x: Tensor) -> Tensor:
        weight = self.kernel.repeat((self.channels, 1, 1, 1))
        return F.conv2d(x, weight, stride=self.stride, padding=1, groups=self.channels)


class DepthWiseBlock(nn.Module):
    def __init__(self, inplanes: float, planes: float, stride: int, blur: bool):
        super().__init__()
        i, o = int(inplanes), int(planes)
        if stride == 2 and blur:
            self.conv_dw = nn.Sequential(
                BlurPool2D(i, 2), nn.Conv2d(i, i, 3, padding=1, stride=1, groups=i, bias=False)
            )
        else:
            self.conv_dw = nn.Conv2d(i, i, 3, padding=1, stride=stride, groups=i, bias=False)
        self.bn_dw = nn.BatchNorm2d(i)
        self.conv_sep = nn.Conv2d(i, o, 1, bias=False)
        self.bn_sep = nn.BatchNorm2d(o)
        self.skip = stride == 1 and i == o

    def forward(self, x: Tensor) -> Tensor:
        out = self.bn_sep(self.conv_sep(F.relu(self.bn_dw(self.conv_dw(x)))))
        return F.relu(out + x if self.skip else out)


MOBILENET = (
    ("dw2_1", 32, 64, 1), ("dw2_2", 64, 128, 2), ("dw3_1", 128, 128, 1), ("dw3_2", 128, 256, 2),
    ("dw4_1", 256, 256, 1), ("dw4_2", 256, 512, 2), ("dw5_1", 512, 512, 1), ("dw5_2", 512, 512, 1),
    ("dw5_3", 512, 512, 1), ("dw5_4", 512, 512, 1), ("dw5_5", 512, 512, 1), ("dw5_6", 512, 1024, 2),
    ("dw6", 1024, 1024, 1),
)  # fmt: skip


class MobileNet(nn.Module):
    def __init__(self, width: float, blur: bool):
        super().__init__()
        self.conv1 = nn.Conv2d(1, int(32 * width), 5, stride=2, padding=2, bias=False)
        self.bn1 = nn.BatchNorm2d(int(32 * width))
        self.names = [name for name, *_ in MOBILENET]
        for name, i, o, stride in MOBILENET:
            setattr(self, name, DepthWiseBlock(i * width, o * width, stride, blur))
        self.num_features = int(1024 * width)

    def forward(self, x: Tensor) -> Tensor:
        x = F.relu(self.bn1(self.conv1(x)))
        for name in self.names:
            x = getattr(self, name)(x)
        return x.mean(dim=(2, 3))


class BasicBlock(nn.Module):
    """torchvision's BasicBlock; with blur the original's CustomBlock (conv1 blurred with the stride)."""

    def __init__(self, inplanes: int, planes: int, stride: int, blur: bool):
        super().__init__()
        conv = nn.Conv2d(inplanes, planes, 3, stride=1 if blur else stride, padding=1, bias=False)
        self.conv1 = nn.Sequential(BlurPool2D(inplanes, stride), conv) if blur else conv
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = None
        if stride != 1 or inplanes != planes:
            self.downsample = nn.Sequential(
                nn.Conv2d(inplanes, planes, 1, stride=stride, bias=False), nn.BatchNorm2d(planes)
            )

    def forward(self, x: Tensor) -> Tensor:
        out = self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))
        return F.relu(out + (x if self.downsample is None else self.downsample(x)))


class ResNet18(nn.Module):
    def __init__(self, blur: bool):
        super().__init__()
        stages, inplanes = [], 64
        for k, planes in enumerate((64, 128, 256, 512)):
            stride = 1 if k == 0 else 2
            stages.append(
                nn.Sequential(BasicBlock(inplanes, planes, stride, blur), BasicBlock(planes, planes, 1, blur))
            )
            inplanes = planes
        pool = BlurPool2D(64, 2) if blur else nn.MaxPool2d(3, stride=2, padding=1)
        self.layers = nn.Sequential(
            nn.Conv2d(1, 64, 7, stride=2, padding=3, bias=False),
            nn.BatchNorm2d(64),
            nn.ReLU(),
            pool,
            *stages,
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),
        )
        self.num_features = 512

    def forward(self, x: Tensor) -> Tensor:
        return self.layers(x)


def fill_tril(z: Tensor) -> Tensor:
    m = z.new_zeros(len(z), 3, 3)
    m[:, 0, 0], m[:, 1, 1], m[:, 2, 2] = z[:, 0], z[:, 1], z[:, 2]
    m[:, 1, 0], m[:, 2, 0], m[:, 2, 1] = z[:, 3], z[:, 4], z[:, 5]
    return m


class PaperTril(nn.Module):
    def __init__(self, features: int):
        super().__init__()
        self.lin = nn.Linear(features, 6, bias=False)
        self.bn = nn.BatchNorm1d(6)

    def forward(self, z: Tensor) -> Tensor:
        m = fill_tril(self.bn(self.lin(z)))
        m = m * torch.sign(torch.diagonal(m, dim1=-2, dim2=-1))[..., None, :]
        return m + 0.01 * torch.eye(3)


class MasterTril(nn.Module):
    def __init__(self, features: int):
        super().__init__()
        self.neck = nn.Module()
        self.neck.lin = nn.Linear(features, 7)
        self.register_buffer("min_diag", torch.tensor([1e-6] * 3 + [0.0] * 3))

    def forward(self, z: Tensor) -> Tensor:
        x = self.neck.lin(z)
        x, multiplier = x[:, 1:], positive(x[:, :1])
        return fill_tril(multiplier * torch.cat([positive(x[:, :3]), x[:, 3:]], dim=1) + self.min_diag)


class Scales(nn.Module):
    def __init__(self, n: int, master: bool):
        super().__init__()
        self.master = master
        self.hidden_scale = nn.Parameter(torch.zeros(n + 1 if master else n))

    def forward(self) -> Tensor:
        h = self.hidden_scale
        return positive(h[:1]) * positive(h[1:]) + 1e-6 if self.master else h.square() + 0.01


class Offset(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.p = nn.Parameter(torch.zeros(8, 4))

    def forward(self, q: Tensor, coord: Tensor) -> tuple[Tensor, Tensor]:
        angle = 0.5 * self.p[0, 1]
        rot_x = torch.stack([torch.sin(angle), angle * 0, angle * 0, torch.cos(angle)])
        scale = coord[:, 2:] * positive(self.p[0, 3])
        shift = torch.stack([self.p[0, 0] * 0, self.p[0, 1], self.p[0, 2]])
        xy = coord[:, :2] + quat_rotate(q, shift)[:, :2] * scale
        return quat_mult(q, rot_x.expand_as(q)), torch.cat([xy, scale], dim=1)


class OriginalPoseNet(nn.Module):
    """``NetworkWithPointHead`` of the given branch (eval-mode forward, original output names)."""

    def __init__(self, backbone: str, blur: bool, master: bool, width: float = 1.0, uncertainty: bool = True):
        super().__init__()
        self.master, self.uncertainty, self.width = master, uncertainty, width
        self.convnet = MobileNet(width, blur) if backbone == "mobilenetv1" else ResNet18(blur)
        features = self.convnet.num_features
        tril = MasterTril if master else PaperTril
        self.boxnet = nn.Module()
        self.boxnet.linear = nn.Linear(features, 4)
        self.posnet = nn.Module()
        self.posnet.linear_xy = nn.Linear(features, 2)
        self.posnet.linear_size = nn.Linear(features, 1)
        self.quatnet = nn.Module()
        self.quatnet.linear = nn.Linear(features, 4)
        self.landmarks = nn.Module()
        self.landmarks.deformablekeypoints = nn.Module()
        self.landmarks.deformablekeypoints.register_buffer("keypts", torch.randn(68, 3) * 0.5)
        self.landmarks.deformablekeypoints.register_buffer("keyeigvecs", torch.randn(50, 68, 3) * 0.02)
        self.landmarks.shapenet = nn.Linear(features, 50)
        if uncertainty:
            self.boxnet.scales = Scales(4, master)
            self.posnet.scales = tril(features)
            self.quatnet.uncertainty_net = tril(features)
            self.landmarks.point_distrib_scales = Scales(68, master)
            self.landmarks.shape_distrib_scales = Scales(50, master)
        if master:
            self.local_pose_offset = Offset()
            self.local_pose_offset_kpts = Offset()

    def forward(self, x: Tensor) -> dict[str, Tensor]:
        z = self.convnet(x)
        b = self.boxnet.linear(z)
        half = positive(b[:, 2:])
        coord = torch.cat([self.posnet.linear_xy(z), positive(self.posnet.linear_size(z))], dim=1)
        raw = self.quatnet.linear(z)
        raw = torch.cat([raw[:, :3], positive(raw[:, 3:])], dim=1)
        quat = F.normalize(raw, dim=-1, eps=1e-6)
        kpt_quat, kpt_coord = quat, coord
        if self.master:
            kpt_quat, kpt_coord = self.local_pose_offset_kpts(quat, coord)
            quat, coord = self.local_pose_offset(quat, coord)
        shapeparam = self.landmarks.shapenet(z)
        kp = self.landmarks.deformablekeypoints
        local = kp.keypts + (kp.keyeigvecs * shapeparam[:, :, None, None]).sum(dim=1)
        pt3d = quat_rotate(kpt_quat[:, None, :], local) * kpt_coord[:, None, 2:]
        pt3d = torch.cat([pt3d[..., :2] + kpt_coord[:, None, :2], pt3d[..., 2:]], dim=-1)
        out = {
            "roi": torch.cat([b[:, :2] - half, b[:, :2] + half], dim=1),
            "coord": coord,
            "unnormalized_quat": raw,
            "pose": quat,
            "pt3d_68": pt3d,
            "shapeparam": shapeparam,
        }
        if self.uncertainty:
            out["roi_scales"] = self.boxnet.scales()[None].expand(len(z), 4)
            out["coord_scales"] = self.posnet.scales(z)
            out["pose_scales_tril"] = self.quatnet.uncertainty_net(z)
            out["pt3d_68_scales"] = self.landmarks.point_distrib_scales()[None, :, None].expand(len(z), 68, 3)
            out["shapeparam_scales"] = self.landmarks.shape_distrib_scales()[None].expand(len(z), 50)
        return out


def randomised(net: OriginalPoseNet, seed: int, calibrated: bool = True) -> OriginalPoseNet:
    """Random weights and head parameters (BlurPool kernels untouched), batch-norm statistics
    calibrated on random inputs so that activations keep a realistic scale; eval mode.

    Calibrated random networks are chaotic (1/256 of input noise turns them by degrees); with
    ``calibrated`` False the statistics move only a tenth of the way, which keeps the network
    as smooth as a trained one (for int8 tests)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in net.named_parameters():
            if name.startswith("convnet") and p.ndim > 1:
                p.copy_(torch.randn(p.shape, generator=g) * (2.0 / p[0].numel()) ** 0.5)
            elif name.endswith(".weight") and p.ndim == 1:
                p.copy_(torch.rand(p.shape, generator=g) + 0.5)
            else:
                p.copy_(torch.randn(p.shape, generator=g) * (0.3 if p.ndim == 1 else 0.05))
        for m in net.modules():
            if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
                m.reset_running_stats()
                m.momentum = None if calibrated else 0.1
        net.train()(torch.rand(8, 1, 65, 65, generator=g) - 0.5)
    return net.eval()


def master_checkpoint(net: OriginalPoseNet, backbone: str, blur: bool, **changes: object) -> dict:
    """The master branch's file content for ``net`` (config as ``get_config()`` writes it)."""
    config = {
        "enable_point_head": True,
        "enable_face_detector": False,
        "config": backbone,
        "enable_uncertainty": net.uncertainty,
        "use_local_pose_offset": True,
        "backbone_args": {"use_blurpool": blur, **({"widen_factor": net.width} if net.width != 1 else {})},
        "enable_6drot": False,
        **changes,
    }
    return {"state_dict": net.state_dict(), "class_name": "NetworkWithPointHead", "config": config}
