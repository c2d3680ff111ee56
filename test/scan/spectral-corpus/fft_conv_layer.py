# A layer meant as a convolution: the FFT of a learned spatial kernel times the input's spectrum, unpadded —
# a circular convolution where a linear one was meant (a true warning).
import torch
import torch.nn as nn


class FFTConv2d(nn.Module):
    def __init__(self, channels, size):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(channels, size, size))

    def forward(self, x):
        x_hat = torch.fft.rfft2(x)
        k_hat = torch.fft.rfft2(self.weight, s=x.shape[-2:])
        return torch.fft.irfft2(x_hat * k_hat, s=x.shape[-2:])
