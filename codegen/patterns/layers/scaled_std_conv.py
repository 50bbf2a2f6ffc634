"""A conv whose weight is standardised when called and scaled by a learned per-channel `gain`
(Brock et al. 2021, "Characterizing signal propagation to close the performance gap in
unnormalized ResNets"; timm's ScaledStdConv2d, every conv of its NF-ResNets, NF-RegNets and
NFNets): keys `weight` [out, in/groups, k, k], `gain` [out, 1, 1, 1] and a `bias`.

The layer is what the weight's shape says (layers/conv.py reads it: stride, padding, groups), built
as ir/layer_classes.py's `ScaledStdConv2d`. Two values leave no key, choices on each conv:
- `gamma`, the scale that keeps the activation's variance (timm's `_nonlin_gamma`; NF-ResNets pass
  their activation's: ReLU's 1.7139588594436646); 1.0 where the gain sits in the activation;
- `eps` under the filter's variance: the class's own default, 1e-6 (timm's NfCfg passes its
  `std_conv_eps`, 1e-8, to the NF-ResNets it builds: an alternative).
"""

from __future__ import annotations

import dataclasses

from codegen.ir import Arg
from codegen.patterns._kit import Example, LayerContext, LayerPattern, Recognised, names, shape
from codegen.patterns.layers.conv import conv

RELU_GAMMA = 1.7139588594436646  # timm nfnet _nonlin_gamma['relu']
GAMMAS = [1.0, 1.7881293296813965, 1.7015043497085571, 1.5939117670059204]  # silu, gelu, tanh
EPS = 1e-6  # timm ScaledStdConv2d's own default (NfCfg.std_conv_eps passes 1e-8)


class ScaledStdConv(LayerPattern):
    role = "ScaledStdConv"

    def recognise(self, node, ctx: LayerContext) -> Recognised | None:
        found = names(node)
        if node.children or not {"weight", "gain"} <= found <= {"weight", "gain", "bias"}:
            return None
        w, gain = shape(node, "weight"), shape(node, "gain")
        if len(w) != 4 or gain != (w[0], 1, 1, 1):
            return None
        tensors = {n: t for n, t in node.tensors.items() if n != "gain"}
        plain = conv(dataclasses.replace(node, tensors=tensors, children={}), ctx)
        if plain is None or plain.type_name != "nn.Conv2d":
            return None
        gamma = ctx.resolver.choose(
            node.path,
            "gamma",
            RELU_GAMMA,
            GAMMAS,
            "the filters' scale beside the gain (timm's NF-ResNets: ReLU's gamma)",
        )
        eps = ctx.resolver.choose(
            node.path, "eps", EPS, [1e-8, 1e-5, 1e-4], "under each filter's variance"
        )
        plain.args += [
            Arg("gamma", gamma.value, "choice", choice=gamma),
            Arg("eps", eps.value, "choice", choice=eps),
        ]
        return dataclasses.replace(plain, type_name="ScaledStdConv2d")

    @staticmethod
    def examples():
        import torch
        import torch.nn as nn
        import torch.nn.functional as F

        class Conv2d(nn.Conv2d):  # timm.layers.ScaledStdConv2d (named as the layer it extends)
            def __init__(self, c_in, c_out, k, bias=True, gamma=RELU_GAMMA, eps=EPS) -> None:
                super().__init__(c_in, c_out, k, padding=k // 2, bias=bias)
                self.gain = nn.Parameter(torch.full((c_out, 1, 1, 1), 1.0))
                self.scale = gamma * self.weight[0].numel() ** -0.5
                self.eps = eps

            def forward(self, x: torch.Tensor) -> torch.Tensor:
                w = self.weight.reshape(1, self.out_channels, -1)
                weight = F.batch_norm(
                    w, None, None, (self.gain * self.scale).view(-1), None, True, 0.0, self.eps
                )
                return self._conv_forward(x, weight.reshape_as(self.weight), self.bias)

        class Net(nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.conv = Conv2d(3, 8, 3)
                self.proj = Conv2d(8, 4, 1, bias=False)

            def forward(self, x: torch.Tensor) -> torch.Tensor:
                return self.proj(torch.relu(self.conv(x)))

        torch.manual_seed(0)
        net = Net()
        with torch.no_grad():
            net.conv.gain.uniform_(0.5, 1.5)
        return [Example(net, (torch.randn(2, 3, 8, 8),))]
