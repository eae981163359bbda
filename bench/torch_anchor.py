# SPDX-License-Identifier: BSD-2-Clause
"""PyTorch anchors for bench/anchors.sh (Debian's python3-torch, CPU).

  infer MODEL.crisp W H FRAMES THREADS   crisp's model file run by PyTorch
                                          (same layers, same weights), prints
                                          "fps <x>"
  train MODEL.crisp BATCH PATCH STEPS THREADS
                                          one Adam step (forward, L1 loss,
                                          backward, update) on BATCH luma
                                          patches, prints "s_per_step <x>"

The model file is read per docs/weights-format.md, so the PyTorch network is
exactly the crisp one (conv, relu, lrelu, prelu, bn, s2d, d2s, add, concat,
clamp; residual output).
"""
import struct
import sys
import time

import torch
import torch.nn.functional as F


def load(path):
    b = open(path, "rb").read()
    assert b[:8] == b"CRISPWT\0", "not a crisp model"
    color, output = struct.unpack_from("<II", b, 16)
    n_layers, n_tensors = struct.unpack_from("<II", b, 32)
    lo, to, do = struct.unpack_from("<QQQ", b, 40)
    layers = []
    for i in range(n_layers):
        t, skip, cout, k, stride, factor, alpha, clo, chi, eps = struct.unpack_from("<IiIIIIffff", b, lo + 48 * i)
        layers.append(dict(type=t, skip=skip, cout=cout, k=k, stride=stride, factor=factor, alpha=alpha,
                           lo=clo, hi=chi, eps=eps, t={}))
    for j in range(n_tensors):
        layer, role, dtype, _, count, off = struct.unpack_from("<IIIIQQ", b, to + 32 * j)
        vals = struct.unpack_from("<%df" % count, b, do + off)
        layers[layer]["t"][role] = torch.tensor(vals, dtype=torch.float32)
    return color, output, layers


class Net(torch.nn.Module):
    def __init__(self, path):
        super().__init__()
        self.color, self.output, self.layers = load(path)
        cin = self.color
        chans = []
        self.params = torch.nn.ParameterList()
        for L in self.layers:
            prev = chans[-1] if chans else cin
            if L["type"] == 1:
                w = L["t"][0].reshape(L["cout"], prev, L["k"], L["k"])
                L["w"] = torch.nn.Parameter(w.clone())
                L["b"] = torch.nn.Parameter(L["t"][1].clone())
                self.params.extend([L["w"], L["b"]])
                c = L["cout"]
            elif L["type"] == 6:
                c = prev * L["factor"] ** 2
            elif L["type"] == 7:
                c = prev // L["factor"] ** 2
            elif L["type"] == 9:
                c = prev + (chans[L["skip"]] if L["skip"] >= 0 else cin)
            else:
                c = prev
            chans.append(c)

    def forward(self, x):
        outs = []
        y = x
        for L in self.layers:
            t = L["type"]
            if t == 1:
                y = F.conv2d(y, L["w"], L["b"], stride=L["stride"], padding=(L["k"] - 1) // 2)
            elif t == 2:
                y = F.relu(y)
            elif t == 3:
                y = F.leaky_relu(y, L["alpha"])
            elif t == 4:
                y = F.prelu(y, L["t"][6])
            elif t == 5:
                y = F.batch_norm(y, L["t"][4], L["t"][5], L["t"][2], L["t"][3], False, 0.0, L["eps"])
            elif t == 6:
                y = F.pixel_unshuffle(y, L["factor"])
            elif t == 7:
                y = F.pixel_shuffle(y, L["factor"])
            elif t == 8:
                y = y + (outs[L["skip"]] if L["skip"] >= 0 else x)
            elif t == 9:
                y = torch.cat([y, outs[L["skip"]] if L["skip"] >= 0 else x], 1)
            elif t == 10:
                y = torch.clamp(y, L["lo"], L["hi"])
            outs.append(y)
        return x + y if self.output == 1 else y


def main():
    mode, path = sys.argv[1], sys.argv[2]
    net = Net(path)
    if mode == "infer":
        w, h, frames, threads = map(int, sys.argv[3:7])
        torch.set_num_threads(threads)
        net.eval()
        x = torch.rand(1, net.color, h, w)
        with torch.no_grad():
            for _ in range(3):
                net(x)
            t0 = time.perf_counter()
            for _ in range(frames):
                net(x)
            dt = time.perf_counter() - t0
        print("fps %.3f" % (frames / dt))
    else:
        batch, patch, steps, threads = map(int, sys.argv[3:7])
        torch.set_num_threads(threads)
        net.train()
        opt = torch.optim.Adam(net.parameters(), lr=1e-4)
        x = torch.rand(batch, net.color, patch, patch)
        gt = torch.rand(batch, net.color, patch, patch)
        times = []
        for i in range(steps + 2):
            t0 = time.perf_counter()
            opt.zero_grad()
            loss = F.l1_loss(net(x), gt)
            loss.backward()
            opt.step()
            if i >= 2:
                times.append(time.perf_counter() - t0)
        print("s_per_step %.4f" % (sum(times) / len(times)))


if __name__ == "__main__":
    main()
