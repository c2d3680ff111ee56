# Pseudo-spectral derivatives on a periodic domain: a spectrum times (1j·k)**order. Periodic is the point.
import math

import torch


def wavenumbers(n, length=2 * math.pi):
    return torch.fft.rfftfreq(n, d=length / (2 * math.pi * n))


def spectral_derivative(u, order=1, length=2 * math.pi):
    n = u.shape[-1]
    k = wavenumbers(n, length)
    u_hat = torch.fft.rfft(u, dim=-1)
    du_hat = (1j * k) ** order * u_hat
    return torch.fft.irfft(du_hat, n=n, dim=-1)


def laplacian_2d(u):
    h, w = u.shape[-2:]
    kx = torch.fft.fftfreq(h) * h
    ky = torch.fft.rfftfreq(w) * w
    k2 = kx[:, None] ** 2 + ky[None, :] ** 2
    u_hat = torch.fft.rfft2(u)
    return torch.fft.irfft2(-k2 * u_hat, s=(h, w))
