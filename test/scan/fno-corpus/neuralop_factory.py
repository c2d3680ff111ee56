# A spectral convolution in the shape of the neuraloperator library's current one: the contraction is chosen in
# __init__ by a factory (self._contract = get_contract_fun(...)); each function it can return builds its einsum
# equation from symbol strings at run time and calls tl.einsum; the transform is rfftn over computed dims with
# an fftshift (centred modes); the weight may be a factorized tensor object. Written for fconv's tests.
import torch
import tensorly as tl
from torch import nn

tl.set_backend('pytorch')
SYMBOLS = 'abcdefghijklmnopqrstuvwxyz'


def _contract_dense(x, weight, separable=False):
    order = x.ndim
    x_syms = list(SYMBOLS[:order])
    w_syms = list(x_syms[1:])
    if separable:
        out_syms = [x_syms[0]] + list(w_syms)
    else:
        w_syms.insert(1, SYMBOLS[order])
        out_syms = list(w_syms)
        out_syms[0] = x_syms[0]
    eq = ''.join(x_syms) + ',' + ''.join(w_syms) + '->' + ''.join(out_syms)
    if not torch.is_tensor(weight):
        weight = weight.to_tensor()
    return tl.einsum(eq, x, weight)


def _contract_cp(x, cp_weight, separable=False):
    order = x.ndim
    x_syms = SYMBOLS[:order]
    rank = SYMBOLS[order + 1]
    out_syms = x_syms[0] + SYMBOLS[order] + x_syms[2:]
    factors = ','.join(s + rank for s in x_syms[1:2] + SYMBOLS[order] + x_syms[2:])
    eq = x_syms + ',' + rank + ',' + factors + '->' + out_syms
    return tl.einsum(eq, x, cp_weight.weights, *cp_weight.factors)


def get_contract_fun(weight, implementation='reconstructed', separable=False):
    if implementation == 'reconstructed':
        return _contract_dense
    if implementation == 'factorized':
        if torch.is_tensor(weight):
            return _contract_dense
        if weight.name.lower().endswith('cp'):
            return _contract_cp
    raise ValueError(f'unknown implementation {implementation}')


class SpectralConv(nn.Module):
    def __init__(self, in_channels, out_channels, n_modes, implementation='reconstructed', fft_norm='forward'):
        super().__init__()
        self.in_channels, self.out_channels = in_channels, out_channels
        self.n_modes = n_modes
        self.order = len(n_modes)
        self.fft_norm = fft_norm
        shape = (in_channels, out_channels, *n_modes[:-1], n_modes[-1] // 2 + 1)
        self.weight = nn.Parameter(torch.randn(*shape, dtype=torch.cfloat) / (in_channels * out_channels))
        self._contract = get_contract_fun(self.weight, implementation=implementation)

    def forward(self, x):
        batch, channels, *sizes = x.shape
        fft_size = list(sizes)
        fft_size[-1] = fft_size[-1] // 2 + 1
        fft_dims = list(range(-self.order, 0))
        x = torch.fft.rfftn(x, norm=self.fft_norm, dim=fft_dims)
        x = torch.fft.fftshift(x, dim=fft_dims[:-1])
        out_fft = torch.zeros([batch, self.out_channels, *fft_size], device=x.device, dtype=torch.cfloat)
        slices = [slice(None), slice(None)]
        for size, kept in zip(fft_size[:-1], self.weight.shape[2:-1]):
            slices.append(slice(size // 2 - kept // 2, size // 2 + kept - kept // 2))
        slices.append(slice(None, self.weight.shape[-1]))
        out_fft[slices] = self._contract(x[slices], self.weight, separable=False)
        out_fft = torch.fft.ifftshift(out_fft, dim=fft_dims[:-1])
        return torch.fft.irfftn(out_fft, s=sizes, dim=fft_dims, norm=self.fft_norm)


conv = SpectralConv(in_channels=16, out_channels=24, n_modes=(12, 12))
