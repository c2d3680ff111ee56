# Spectral filters and a 2/3-rule dealiasing mask, built from frequency grids and applied by a product.
import numpy as np
import torch


class GaussianSmoother(torch.nn.Module):
    def __init__(self, sigma=2.0):
        super().__init__()
        self.sigma = sigma

    def forward(self, x):
        h, w = x.shape[-2:]
        ky, kx = torch.meshgrid(torch.fft.fftfreq(h), torch.fft.rfftfreq(w), indexing="ij")
        gain = torch.exp(-2 * (np.pi * self.sigma) ** 2 * (kx ** 2 + ky ** 2))
        x_hat = torch.fft.rfft2(x)
        return torch.fft.irfft2(x_hat * gain, s=(h, w))


def dealias(u_hat, n):
    k = np.fft.fftfreq(n) * n
    mask = np.abs(k) < (2.0 / 3.0) * (n // 2)
    return u_hat * mask


def burgers_rhs(u, nu=0.01):
    n = u.shape[-1]
    k = np.fft.fftfreq(n) * n
    u_hat = np.fft.fft(u)
    nonlinear = dealias(np.fft.fft(0.5 * u * u), n)
    return np.real(np.fft.ifft(-1j * k * nonlinear - nu * k ** 2 * u_hat))
