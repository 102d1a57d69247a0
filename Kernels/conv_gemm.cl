// Convolution as im2col + GEMM, for one group at a time.
//
// im2col writes the input patches of group `group` as a matrix col[CRS][Ppad]: row (c·R + r)·S + s,
// column p = n·OH·OW + oh·OW + ow; padded positions and columns p ≥ P hold zeros.
// pack_weights writes the group's filters transposed as wt[CRS][Mpad] (zeros for rows ≥ Kg), with
// the kernel flipped for true convolution.
// gemm computes out[Kg][P] = wtᵀ · col with a TILE_M × TILE_N register tile per work-item: the
// filters' values broadcast against a vector of TILE_N consecutive columns, TILE_M accumulators.
// Ppad and Mpad are multiples of the tile sizes, so the inner loop has no tails; only the stores are
// guarded. The bias and the activation are applied at the store.

#ifndef TILE_M
#define TILE_M 8
#endif
#ifndef TILE_N
#define TILE_N 8
#endif

#if TILE_N == 4
#define floatN float4
#define vloadN vload4
#define vstoreN vstore4
#elif TILE_N == 8
#define floatN float8
#define vloadN vload8
#define vstoreN vstore8
#elif TILE_N == 16
#define floatN float16
#define vloadN vload16
#define vstoreN vstore16
#else
#error "TILE_N must be 4, 8 or 16"
#endif

__kernel void im2col(
    __global const float* restrict input, __global float* restrict col,
    const int C, const int H, const int W, const int OH, const int OW,
    const int R, const int S, const int strideH, const int strideW, const int padTop, const int padLeft,
    const int dilationH, const int dilationW, const int channelsPerGroup, const int group,
    const int P, const int Ppad)
{
    const int p = get_global_id(0);
    const int row = get_global_id(1);  // (c·R + r)·S + s within the group
    if (p >= Ppad) return;
    float value = 0.0f;
    if (p < P) {
        const int s = row % S;
        const int r = (row / S) % R;
        const int c = row / (R * S);
        const int spatial = OH * OW;
        const int n = p / spatial;
        const int q = p - n * spatial;
        const int oh = q / OW;
        const int ow = q - oh * OW;
        const int ih = oh * strideH - padTop + r * dilationH;
        const int iw = ow * strideW - padLeft + s * dilationW;
        if (ih >= 0 && ih < H && iw >= 0 && iw < W)
            value = input[((size_t)(n * C + group * channelsPerGroup + c) * H + ih) * W + iw];
    }
    col[(size_t)row * Ppad + p] = value;
}

__kernel void pack_weights(
    __global const float* restrict weight, __global float* restrict wt,
    const int Kg, const int CRS, const int RS, const int Mpad, const int group, const int flip)
{
    const int m = get_global_id(0);
    const int row = get_global_id(1);
    if (m >= Mpad || row >= CRS) return;
    float value = 0.0f;
    if (m < Kg) {
        const int tap = row % RS;  // r·S + s
        const int source = flip ? row - tap + (RS - 1 - tap) : row;
        value = weight[(size_t)(group * Kg + m) * CRS + source];
    }
    wt[(size_t)row * Mpad + m] = value;
}

__kernel void gemm(
    __global const float* restrict wt, __global const float* restrict col,
    __global const float* restrict bias, __global float* restrict output,
    const int CRS, const int Mpad, const int Ppad, const int Kg, const int P,
    const int K, const int spatial, const int group, const int activation, const float slope)
{
    const int p0 = get_global_id(0) * TILE_N;
    const int m0 = get_global_id(1) * TILE_M;
    if (p0 >= Ppad || m0 >= Mpad) return;

    floatN acc[TILE_M];
    for (int i = 0; i < TILE_M; ++i) acc[i] = (floatN)(0.0f);
    __global const float* a = wt + m0;
    __global const float* b = col + p0;
    for (int k = 0; k < CRS; ++k) {
        const floatN columns = vloadN(0, b + (size_t)k * Ppad);
        __global const float* filters = a + (size_t)k * Mpad;
        for (int i = 0; i < TILE_M; ++i) acc[i] = fma((floatN)(filters[i]), columns, acc[i]);
    }

    for (int i = 0; i < TILE_M; ++i) {
        const int m = m0 + i;
        if (m >= Kg) break;
        const int k = group * Kg + m;
        const float add = bias ? bias[k] : 0.0f;
        float values[TILE_N];
        vstoreN(acc[i], 0, values);
        for (int j = 0; j < TILE_N; ++j) {
            const int p = p0 + j;
            if (p >= P) break;
            float y = values[j] + add;
            if (activation == 1) y = y < 0.0f ? 0.0f : y;
            else if (activation == 2) y = y > 0.0f ? y : slope * y;
            const int n = p / spatial;
            output[((size_t)n * K + k) * spatial + (p - n * spatial)] = y;
        }
    }
}
