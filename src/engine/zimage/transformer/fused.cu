// zedit's fused CUDA kernels for the Z-Image DiT (bf16, head width 128), compiled to PTX by
// build.rs when the `cuda` feature is on and used only when ZEDIT_CUDA_FUSED=1 (see fused.rs):
//   zimage_qk_norm_rope      per-head RMSNorm, then RoPE on consecutive pairs, into [S, H*128];
//   zimage_flash_attention   softmax(q·kᵀ·scale)·v within each stacked sequence, with the
//                            logits, the softmax and the accumulation in f32 (P enters the
//                            second product as bf16, as flash attention's does).
#include <cuda_bf16.h>
#include <stdint.h>

#define HD 128           // head width
#define WARPS 4          // warps per attention block, 16 query rows each
#define BR (16 * WARPS)  // query rows per block
#define BC 64            // keys per tile
#define LDK (HD + 8)     // shared pitch of the key and value tiles (bf16), against bank conflicts
#define MAX_SEGMENTS 4

typedef __nv_bfloat16 bf16;

__device__ __forceinline__ float warp_sum(float v) {
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}

// One warp per (token, head); lane l holds columns 4l..4l+3. As the reference's RMSNorm:
// x·rsqrt(mean(x²) + eps) in f32, rounded to bf16, times the weight, rounded again; then the
// rotation in f32 with the f32 tables, rounded to bf16. `cs` is [rows, HD]: cos then sin.
extern "C" __global__ void zimage_qk_norm_rope(const bf16* __restrict__ x, int x_stride,
                                               const bf16* __restrict__ w,
                                               const float* __restrict__ cs,
                                               bf16* __restrict__ out, int rows, int heads,
                                               float eps) {
  const int warp = (blockIdx.x * blockDim.x + threadIdx.x) / 32;
  const int lane = threadIdx.x % 32;
  if (warp >= rows * heads) return;
  const int row = warp / heads, head = warp % heads;
  const bf16* src = x + (size_t)row * x_stride + head * HD + 4 * lane;
  float v[4];
  float ss = 0.f;
  for (int i = 0; i < 4; ++i) {
    v[i] = __bfloat162float(src[i]);
    ss += v[i] * v[i];
  }
  ss = warp_sum(ss);
  // 1/sqrt as two exact operations, as candle's sqrt and recip kernels in the unfused path
  // (rsqrtf may differ from it by 2 ulp).
  const float scale = 1.0f / sqrtf(ss / HD + eps);
  for (int i = 0; i < 4; ++i) {
    const float normed = __bfloat162float(__float2bfloat16(scale * v[i]));
    v[i] = __bfloat162float(__float2bfloat16(normed * __bfloat162float(w[4 * lane + i])));
  }
  const float* c = cs + (size_t)row * HD;
  bf16* dst = out + (size_t)row * heads * HD + head * HD + 4 * lane;
  for (int p = 0; p < 2; ++p) {
    const int j = 2 * lane + p;  // pair index in [0, HD/2)
    const float co = c[j], si = c[HD / 2 + j];
    const float a = v[2 * p], b = v[2 * p + 1];
    dst[2 * p] = __float2bfloat16(a * co - b * si);
    dst[2 * p + 1] = __float2bfloat16(a * si + b * co);
  }
}

__device__ __forceinline__ uint32_t pack(float lo, float hi) {
  __nv_bfloat162 v = __floats2bfloat162_rn(lo, hi);
  return *reinterpret_cast<uint32_t*>(&v);
}

__device__ __forceinline__ uint32_t ld32(const bf16* p) {
  return *reinterpret_cast<const uint32_t*>(p);
}

// The B fragments of two 16×8 tiles side by side (columns n0..n0+7 and n0+8..n0+15) of a
// row-major [k][n] bf16 tile in shared memory, rows k0..k0+15: ldmatrix with .trans.
__device__ __forceinline__ void ld_b_trans(const bf16* tile, int k0, int n0, int lane, uint32_t* b) {
  const int row = k0 + (lane % 8) + 8 * ((lane / 8) % 2), col = n0 + 8 * (lane / 16);
  const uint32_t addr = static_cast<uint32_t>(__cvta_generic_to_shared(tile + row * LDK + col));
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0,%1,%2,%3}, [%4];\n"
               : "=r"(b[0]), "=r"(b[1]), "=r"(b[2]), "=r"(b[3])
               : "r"(addr));
}

// D += A·B for one m16n8k16 tile: A 16×16 bf16 (row), B 16×8 bf16 (col), D 16×8 f32.
__device__ __forceinline__ void mma(float* d, const uint32_t* a, uint32_t b0, uint32_t b1) {
  asm volatile(
      "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 "
      "{%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};\n"
      : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}

// The segment [start, end) holding row r, from the segments' cumulative ends.
__device__ __forceinline__ void segment_of(int r, const int* ends, int n, int* start, int* end) {
  int s = 0;
  for (int i = 0; i < n; ++i) {
    if (r < ends[i]) {
      *start = s;
      *end = ends[i];
      return;
    }
    s = ends[i];
  }
  *start = s;
  *end = s;
}

// q, k, v: [rows, heads*HD] with row strides (elements); out: [rows, heads*HD] contiguous.
// The stacked sequences end at e0..e3 (n_segments of them, each a multiple of 32 long).
// Grid (ceil(rows / BR), heads), 32·WARPS threads. Each warp owns 16 query rows, which lie in one
// sequence; the block walks the keys of the sequences its rows touch, and each warp masks the
// keys outside its own. Per thread (g = lane/4, t = lane%4): rows g and g+8 of its 16.
extern "C" __global__ void __launch_bounds__(32 * WARPS)
    zimage_flash_attention(const bf16* __restrict__ q, int q_stride, const bf16* __restrict__ k,
                           int k_stride, const bf16* __restrict__ v, int v_stride,
                           bf16* __restrict__ out, int rows, int heads, int n_segments, int e0,
                           int e1, int e2, int e3, float scale_log2) {
  __shared__ __align__(16) bf16 ks[BC * LDK];
  __shared__ __align__(16) bf16 vs[BC * LDK];
  const int ends[MAX_SEGMENTS] = {e0, e1, e2, e3};
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const int g = lane / 4, t = lane % 4;
  const int head = blockIdx.y;
  const int first = blockIdx.x * BR;
  const int last = min(first + BR, rows) - 1;
  int kv_start, kv_end, own_start, own_end, unused;
  segment_of(first, ends, n_segments, &kv_start, &unused);
  segment_of(last, ends, n_segments, &unused, &kv_end);
  const int row0 = first + 16 * warp;
  const bool active = row0 < rows;
  segment_of(active ? row0 : first, ends, n_segments, &own_start, &own_end);

  uint32_t qa[HD / 16][4];
  if (active) {
    const bf16* q0 = q + (size_t)(row0 + g) * q_stride + head * HD + 2 * t;
    const bf16* q8 = q0 + (size_t)8 * q_stride;
    for (int kk = 0; kk < HD / 16; ++kk) {
      qa[kk][0] = ld32(q0 + 16 * kk);
      qa[kk][1] = ld32(q8 + 16 * kk);
      qa[kk][2] = ld32(q0 + 16 * kk + 8);
      qa[kk][3] = ld32(q8 + 16 * kk + 8);
    }
  }
  float o[HD / 8][4];
  for (int i = 0; i < HD / 8; ++i) o[i][0] = o[i][1] = o[i][2] = o[i][3] = 0.f;
  float m_g = -INFINITY, m_g8 = -INFINITY, l_g = 0.f, l_g8 = 0.f;

  for (int kv = kv_start; kv < kv_end; kv += BC) {
    __syncthreads();  // the last tile's readers are done
    for (int c = threadIdx.x; c < BC * (HD / 8); c += blockDim.x) {
      const int r = c / (HD / 8), col = (c % (HD / 8)) * 8;
      uint4 kr = make_uint4(0, 0, 0, 0), vr = make_uint4(0, 0, 0, 0);
      if (kv + r < kv_end) {
        kr = *reinterpret_cast<const uint4*>(k + (size_t)(kv + r) * k_stride + head * HD + col);
        vr = *reinterpret_cast<const uint4*>(v + (size_t)(kv + r) * v_stride + head * HD + col);
      }
      *reinterpret_cast<uint4*>(ks + r * LDK + col) = kr;
      *reinterpret_cast<uint4*>(vs + r * LDK + col) = vr;
    }
    __syncthreads();
    // This warp's keys in the tile: a multiple of 32 of them, or none.
    if (!active || kv + BC <= own_start || kv >= own_end) continue;

    float s[BC / 8][4];
    for (int nt = 0; nt < BC / 8; ++nt) {
      s[nt][0] = s[nt][1] = s[nt][2] = s[nt][3] = 0.f;
      const bf16* kr = ks + (nt * 8 + g) * LDK + 2 * t;
      for (int kk = 0; kk < HD / 16; ++kk) mma(s[nt], qa[kk], ld32(kr + 16 * kk), ld32(kr + 16 * kk + 8));
    }
    float mx_g = -INFINITY, mx_g8 = -INFINITY;
    for (int nt = 0; nt < BC / 8; ++nt) {
      for (int j = 0; j < 2; ++j) {
        const int key = kv + nt * 8 + 2 * t + j;
        const bool ok = key >= own_start && key < own_end;
        s[nt][j] = ok ? s[nt][j] * scale_log2 : -INFINITY;
        s[nt][2 + j] = ok ? s[nt][2 + j] * scale_log2 : -INFINITY;
        mx_g = fmaxf(mx_g, s[nt][j]);
        mx_g8 = fmaxf(mx_g8, s[nt][2 + j]);
      }
    }
    for (int off = 1; off < 4; off <<= 1) {
      mx_g = fmaxf(mx_g, __shfl_xor_sync(0xffffffffu, mx_g, off));
      mx_g8 = fmaxf(mx_g8, __shfl_xor_sync(0xffffffffu, mx_g8, off));
    }
    const float new_g = fmaxf(m_g, mx_g), new_g8 = fmaxf(m_g8, mx_g8);
    const float alpha_g = exp2f(m_g - new_g), alpha_g8 = exp2f(m_g8 - new_g8);
    m_g = new_g;
    m_g8 = new_g8;
    float sum_g = 0.f, sum_g8 = 0.f;
    for (int nt = 0; nt < BC / 8; ++nt) {
      for (int j = 0; j < 2; ++j) {
        s[nt][j] = exp2f(s[nt][j] - new_g);
        s[nt][2 + j] = exp2f(s[nt][2 + j] - new_g8);
        sum_g += s[nt][j];
        sum_g8 += s[nt][2 + j];
      }
    }
    l_g = l_g * alpha_g + sum_g;  // per-thread partial sums; the quad's are added at the end
    l_g8 = l_g8 * alpha_g8 + sum_g8;
    for (int dt = 0; dt < HD / 8; ++dt) {
      o[dt][0] *= alpha_g;
      o[dt][1] *= alpha_g;
      o[dt][2] *= alpha_g8;
      o[dt][3] *= alpha_g8;
    }
    for (int kk = 0; kk < BC / 16; ++kk) {
      const uint32_t pa[4] = {pack(s[2 * kk][0], s[2 * kk][1]), pack(s[2 * kk][2], s[2 * kk][3]),
                              pack(s[2 * kk + 1][0], s[2 * kk + 1][1]),
                              pack(s[2 * kk + 1][2], s[2 * kk + 1][3])};
      for (int dt = 0; dt < HD / 8; dt += 2) {
        uint32_t b[4];  // keys 16kk.., columns 8dt.. (b[0], b[1]) and 8dt+8.. (b[2], b[3])
        ld_b_trans(vs, 16 * kk, 8 * dt, lane, b);
        mma(o[dt], pa, b[0], b[1]);
        mma(o[dt + 1], pa, b[2], b[3]);
      }
    }
  }
  if (!active) return;
  for (int off = 1; off < 4; off <<= 1) {
    l_g += __shfl_xor_sync(0xffffffffu, l_g, off);
    l_g8 += __shfl_xor_sync(0xffffffffu, l_g8, off);
  }
  const int width = heads * HD;
  uint32_t* d0 = reinterpret_cast<uint32_t*>(out + (size_t)(row0 + g) * width + head * HD + 2 * t);
  uint32_t* d8 = reinterpret_cast<uint32_t*>(out + (size_t)(row0 + g + 8) * width + head * HD + 2 * t);
  for (int dt = 0; dt < HD / 8; ++dt) {
    d0[4 * dt] = pack(o[dt][0] / l_g, o[dt][1] / l_g);
    d8[4 * dt] = pack(o[dt][2] / l_g8, o[dt][3] / l_g8);
  }
}
