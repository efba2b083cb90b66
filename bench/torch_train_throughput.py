"""PyTorch CPU training throughput: images/s for the Fashion-MNIST net and Cifar-quick, plain and
with Asymmetric Convolution Blocks, batch 128, SGD step included. Run: python3 torch_train_throughput.py"""
# Extended in this repository (issue #17): CIFAR ResNet-20 plain and with ACBs (the network of
# ACTraining's registry, Sources/ACTraining/Models/Models.swift `resnetCifar`), and
# `--models` / `--threads` options. Output lines: `NAME acb=BOOL threads=T   N img/s`, the format
# `acnet train-bench` prints; scripts/train_throughput.sh joins the two.
import argparse, time, torch, torch.nn as nn


class ACB(nn.Module):
    def __init__(self, cin, cout, k, stride=1, padding=0, dilation=1, groups=1,
                 padding_mode="zeros", use_affine=True):
        super().__init__()
        self.k, self.p, self.d = k, padding, dilation
        self.square_conv = nn.Conv2d(cin, cout, (k, k), stride, padding, dilation, groups, bias=False,
                                     padding_mode=padding_mode)
        self.square_bn = nn.BatchNorm2d(cout, affine=use_affine)
        c = k // 2 * dilation
        if padding - c >= 0:
            self.crop = 0
            hor_pad, ver_pad = [padding - c, padding], [padding, padding - c]
        else:
            self.crop = c - padding
            hor_pad, ver_pad = [0, padding], [padding, 0]
        self.ver_conv = nn.Conv2d(cin, cout, (k, 1), stride, ver_pad, dilation, groups, bias=False,
                                  padding_mode=padding_mode)
        self.hor_conv = nn.Conv2d(cin, cout, (1, k), stride, hor_pad, dilation, groups, bias=False,
                                  padding_mode=padding_mode)
        self.ver_bn = nn.BatchNorm2d(cout, affine=use_affine)
        self.hor_bn = nn.BatchNorm2d(cout, affine=use_affine)

    def forward(self, x):
        s = self.square_bn(self.square_conv(x))
        if self.crop > 0:
            vx = x[:, :, :, self.crop:-self.crop]
            hx = x[:, :, self.crop:-self.crop, :]
        else:
            vx = hx = x
        return s + self.ver_bn(self.ver_conv(vx)) + self.hor_bn(self.hor_conv(hx))

    @staticmethod
    def _fuse_bn(w, bn):
        std = (bn.running_var + bn.eps).sqrt()
        g = bn.weight if bn.weight is not None else torch.ones_like(std)
        b = bn.bias if bn.bias is not None else torch.zeros_like(std)
        return w * (g / std).reshape(-1, 1, 1, 1), b - bn.running_mean * g / std

    def fused(self):
        k = self.k
        sk, sb = self._fuse_bn(self.square_conv.weight, self.square_bn)
        vk, vb = self._fuse_bn(self.ver_conv.weight, self.ver_bn)
        hk, hb = self._fuse_bn(self.hor_conv.weight, self.hor_bn)
        sk = sk.clone()
        sk[:, :, :, k // 2:k // 2 + 1] += vk
        sk[:, :, k // 2:k // 2 + 1, :] += hk
        return sk, sb + vb + hb


def cbr(cin, cout, k, p, acb):
    if acb:
        return nn.Sequential(ACB(cin, cout, k, 1, p), nn.ReLU())
    return nn.Sequential(nn.Conv2d(cin, cout, k, 1, p, bias=False), nn.BatchNorm2d(cout), nn.ReLU())

def fashion_net(acb):  # 1x28x28 -> 10
    return nn.Sequential(cbr(1, 32, 3, 1, acb), cbr(32, 32, 3, 1, acb), nn.MaxPool2d(2),
                         cbr(32, 64, 3, 1, acb), cbr(64, 64, 3, 1, acb), nn.MaxPool2d(2),
                         cbr(64, 128, 3, 1, acb), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(128, 10))

def cifar_quick(acb):  # 3x32x32 -> 10, floor-mode pools: 32->15->7->3
    return nn.Sequential(cbr(3, 32, 5, 2, acb), nn.MaxPool2d(3, 2), cbr(32, 32, 5, 2, acb), nn.AvgPool2d(3, 2),
                         cbr(32, 64, 5, 2, acb), nn.AvgPool2d(3, 2), nn.Flatten(), nn.Linear(576, 64), nn.ReLU(), nn.Linear(64, 10))

def conv_bn_or_acb(cin, cout, k, stride, p, acb):
    """ConvBN (conv without bias + BatchNorm) or, for 1 < k < 7 with acb, an ACB (Models.convBNOrACB)."""
    if acb and 1 < k < 7:
        return ACB(cin, cout, k, stride, p)
    return nn.Sequential(nn.Conv2d(cin, cout, k, stride, p, bias=False), nn.BatchNorm2d(cout))

class BasicBlock(nn.Module):
    """conv1 (3x3, stride) ReLU conv2 (3x3) + shortcut (1x1 conv + BN when the shape changes), ReLU."""
    def __init__(self, cin, cout, stride, acb):
        super().__init__()
        self.conv1 = conv_bn_or_acb(cin, cout, 3, stride, 1, acb)
        self.conv2 = conv_bn_or_acb(cout, cout, 3, 1, 1, acb)
        self.shortcut = (nn.Sequential(nn.Conv2d(cin, cout, 1, stride, 0, bias=False), nn.BatchNorm2d(cout))
                         if stride != 1 or cin != cout else None)
        self.relu1, self.relu2 = nn.ReLU(), nn.ReLU()

    def forward(self, x):
        y = self.conv2(self.relu1(self.conv1(x)))
        return self.relu2(y + (self.shortcut(x) if self.shortcut is not None else x))

def resnet20(acb):  # 3x32x32 -> 10: stem 3->16, stages of 3 blocks (16, 32/2, 64/2), GAP, Linear 64->10
    layers, cin = [conv_bn_or_acb(3, 16, 3, 1, 1, acb), nn.ReLU()], 16
    for si, width in enumerate((16, 32, 64)):
        for b in range(3):
            layers.append(BasicBlock(cin, width, 2 if si > 0 and b == 0 else 1, acb))
            cin = width
    return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(64, 10))

MODELS = {"fashion_net": (fashion_net, (1, 28, 28)), "cifar_quick": (cifar_quick, (3, 32, 32)),
          "resnet20": (resnet20, (3, 32, 32))}

def bench(name, net, shape, iters=20):
    torch.manual_seed(0)
    opt = torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-4)
    x = torch.randn(128, *shape); y = torch.randint(0, 10, (128,))
    lossf = nn.CrossEntropyLoss(); net.train()
    for _ in range(3):
        opt.zero_grad(); lossf(net(x), y).backward(); opt.step()
    t = time.perf_counter()
    for _ in range(iters):
        opt.zero_grad(); lossf(net(x), y).backward(); opt.step()
    dt = time.perf_counter() - t
    print(f"{name:24s} threads={torch.get_num_threads()} {128*iters/dt:8.0f} img/s")

if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", default="fashion_net,cifar_quick", help="comma-separated: " + ", ".join(MODELS))
    ap.add_argument("--threads", default="1,2", help="comma-separated thread counts")
    ap.add_argument("--iterations", type=int, default=20, help="timed steps per measurement")
    args = ap.parse_args()
    names = args.models.split(",")
    for n in names:
        if n not in MODELS:
            ap.error(f"unknown model {n!r}; choose from {', '.join(MODELS)}")
    for th in (int(t) for t in args.threads.split(",")):
        torch.set_num_threads(th)
        for acb in (False, True):
            for n in names:
                make, shape = MODELS[n]
                bench(f"{n} acb={acb}", make(acb), shape, args.iterations)
