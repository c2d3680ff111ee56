// The engine's own small kernels: layout permutes, padding (zero or circular), crop with scale, and
// the broadcast complex product for in-channels = 1. Compiled to PTX by nvcc at build time when nvcc is
// there, else at run time by NVRTC (the same source, embedded in the addon).
extern "C" {

// out = permute(in) for a 4-D tensor of `elem` floats per element (1 real, 2 complex).
__global__ void fconv_permute4(const float* in, float* out, int d0, int d1, int d2, int d3, int p0, int p1, int p2, int p3, int elem) {
  long long n = (long long)d0 * d1 * d2 * d3;
  int d[4] = {d0, d1, d2, d3};
  int p[4] = {p0, p1, p2, p3};
  long long sin[4];
  sin[3] = 1;
  sin[2] = d3;
  sin[1] = (long long)d2 * d3;
  sin[0] = (long long)d1 * d2 * d3;
  for (long long o = blockIdx.x * (long long)blockDim.x + threadIdx.x; o < n; o += (long long)gridDim.x * blockDim.x) {
    long long rest = o, src = 0;
    for (int j = 3; j >= 0; j--) {
      int dim = d[p[j]];
      long long idx = rest % dim;
      rest /= dim;
      src += idx * sin[p[j]];
    }
    for (int e = 0; e < elem; e++) out[o * elem + e] = in[src * elem + e];
  }
}

// out[b, i, j, c] (oh × ow) = in[b, i − top, j − left, c] (h × w), zero outside — or wrapped around when circular.
__global__ void fconv_pad(const float* in, float* out, int batch, int h, int w, int c, int top, int left, int oh, int ow, int circular) {
  long long n = (long long)batch * oh * ow * c;
  for (long long o = blockIdx.x * (long long)blockDim.x + threadIdx.x; o < n; o += (long long)gridDim.x * blockDim.x) {
    int ch = (int)(o % c);
    long long t = o / c;
    int j = (int)(t % ow);
    t /= ow;
    int i = (int)(t % oh);
    long long b = t / oh;
    int si = i - top, sj = j - left;
    if (circular) {
      si = ((si % h) + h) % h;
      sj = ((sj % w) + w) % w;
      out[o] = in[((b * h + si) * w + sj) * c + ch];
    } else {
      out[o] = (si >= 0 && si < h && sj >= 0 && sj < w) ? in[((b * h + si) * w + sj) * c + ch] : 0.0f;
    }
  }
}

// out[b, i, j] (oh × ow) = scale · in[b, top + i, left + j] (h × w maps).
__global__ void fconv_crop(const float* in, float* out, int batch, int h, int w, int top, int left, int oh, int ow, float scale) {
  long long n = (long long)batch * oh * ow;
  for (long long o = blockIdx.x * (long long)blockDim.x + threadIdx.x; o < n; o += (long long)gridDim.x * blockDim.x) {
    int j = (int)(o % ow);
    long long t = o / ow;
    int i = (int)(t % oh);
    long long b = t / oh;
    out[o] = scale * in[(b * h + top + i) * w + left + j];
  }
}

// out[b, ot + i, ol + j] = in[b, it + i, il + j] for the rh × rw block; nothing else of out is written.
// Maps are ih × iw (in) and oh × ow (out), `batch` of each: the gather and scatter of an FNO's kept modes.
__global__ void fconv_copy2d(const float* in, float* out, int batch, int ih, int iw, int oh, int ow, int rh, int rw, int it, int il, int ot, int ol) {
  long long n = (long long)batch * rh * rw;
  for (long long o = blockIdx.x * (long long)blockDim.x + threadIdx.x; o < n; o += (long long)gridDim.x * blockDim.x) {
    int j = (int)(o % rw);
    long long t = o / rw;
    int i = (int)(t % rh);
    long long b = t / rh;
    out[(b * oh + ot + i) * ow + ol + j] = in[(b * ih + it + i) * iw + il + j];
  }
}

// y[b, o, f] = x[b, f] · k[o, f] (complex, interleaved): the product of spectra with one input channel.
__global__ void fconv_bcast_cmul(const float2* x, const float2* k, float2* y, int batch, int outc, int f) {
  long long n = (long long)batch * outc * f;
  for (long long idx = blockIdx.x * (long long)blockDim.x + threadIdx.x; idx < n; idx += (long long)gridDim.x * blockDim.x) {
    int i = (int)(idx % f);
    long long t = idx / f;
    int o = (int)(t % outc);
    long long b = t / outc;
    float2 a = x[b * f + i], c = k[(long long)o * f + i];
    float2 r;
    r.x = a.x * c.x - a.y * c.y;
    r.y = a.x * c.y + a.y * c.x;
    y[idx] = r;
  }
}

}  // extern "C"
