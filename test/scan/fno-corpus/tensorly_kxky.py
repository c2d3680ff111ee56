# A 2-D FNO whose channel mixing is tensorly's einsum in a helper, with modes named kX, kY.
import torch
import tensorly as tl
from torch import nn

tl.set_backend('pytorch')


def contract_dense(x, weight):
    return tl.einsum('bixy,ioxy->boxy', x, weight)


class SpectralConv2D(nn.Module):
    def __init__(self, in_channels, out_channels, kX, kY):
        super().__init__()
        self.kX, self.kY = kX, kY
        self.weight = nn.Parameter(torch.randn(in_channels, out_channels, 2 * kX, kY, dtype=torch.cfloat))

    def forward(self, x):
        x_ft = torch.fft.rfft2(x)
        out = torch.zeros(x.shape[0], self.weight.shape[1], x.size(-2), x.size(-1) // 2 + 1, dtype=torch.cfloat)
        out[:, :, :self.kX, :self.kY] = contract_dense(x_ft[:, :, :self.kX, :self.kY], self.weight[:, :, :self.kX])
        out[:, :, -self.kX:, :self.kY] = contract_dense(x_ft[:, :, -self.kX:, :self.kY], self.weight[:, :, self.kX:])
        return torch.fft.irfft2(out, s=x.shape[-2:])


conv = SpectralConv2D(32, 32, 12, 12)
