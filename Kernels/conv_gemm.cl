// Convolution as im2col + GEMM, for one group at a time, on packed panels.
//
// im2col writes the group's input patches as the matrix B[CRS][P] (row (c·R + r)·S + s, column
// p = n·OH·OW + oh·OW + ow) packed in panels of TILE_N columns: panel j holds B[0..CRS)[j·TILE_N ..
// + TILE_N) row after row, so a work-item streams one contiguous block. Padded positions and
// columns p ≥ P hold zeros.
// pack_weights writes the group's filters A[Kg][CRS] (flipped for true convolution) in panels of
// TILE_M filters the same way: panel i holds, for each row, TILE_M consecutive filters' taps.
// gemm computes out[Kg][P] = A · B: work-item (i, j) keeps a TILE_M × TILE_N tile of accumulators
// (TILE_M vectors of TILE_N floats), broadcasting each filter's tap against a vector of columns.
// The work-items of a work-group share one column panel (dimension 0 runs over filter panels), so
// the panel is read from memory once and reused from cache. Tails are zero padding, so only the
// stores are guarded; the bias and the activation are applied at the store.

#ifndef TILE_M
#define TILE_M 6
#endif
#ifndef TILE_N
#define TILE_N 16
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
    __global const float* restrict input, __global float* restrict panels,
    const int C, const int H, const int W, const int OH, const int OW,
    const int R, const int S, const int strideH, const int strideW, const int padTop, const int padLeft,
    const int dilationH, const int dilationW, const int channelsPerGroup, const int group,
    const int P, const int Ppad, const int CRS)
{
    // Work-item (row, panel) writes the panel's TILE_N columns of one row as one vector; neighbours
    // in dimension 0 take the next row, so together they write a contiguous block.
    const int row = get_global_id(0);  // (c·R + r)·S + s within the group
    const int panel = get_global_id(1);
    if (row >= CRS || panel * TILE_N >= Ppad) return;
    const int s = row % S;
    const int r = (row / S) % R;
    const int c = row / (R * S);
    const int rowOffset = r * dilationH - padTop;
    const int columnOffset = s * dilationW - padLeft;
    const size_t plane = (size_t)H * W;
    const int spatial = OH * OW;
    const int p0 = panel * TILE_N;
    // The first column's position; the loop steps to the next one without dividing.
    int n = p0 / spatial;
    int oh = (p0 - n * spatial) / OW;
    int ow = p0 - n * spatial - oh * OW;
    float values[TILE_N];
    for (int j = 0; j < TILE_N; ++j) {
        const int ih = oh * strideH + rowOffset;
        const int iw = ow * strideW + columnOffset;
        const bool inside = p0 + j < P && ih >= 0 && ih < H && iw >= 0 && iw < W;
        values[j] = inside ? input[(size_t)(n * C + group * channelsPerGroup + c) * plane + (size_t)ih * W + iw] : 0.0f;
        if (++ow == OW) {
            ow = 0;
            if (++oh == OH) { oh = 0; ++n; }
        }
    }
    vstoreN(vloadN(0, values), 0, panels + ((size_t)panel * CRS + row) * TILE_N);
}

__kernel void pack_weights(
    __global const float* restrict weight, __global float* restrict panels,
    const int Kg, const int CRS, const int RS, const int Mpad, const int group, const int flip)
{
    const int m = get_global_id(0);
    const int row = get_global_id(1);
    if (m >= Mpad || row >= CRS) return;
    float value = 0.0f;
    if (m < Kg) {
        const int tap = row % RS;  // r·S + s; flipping both axes reverses it
        const int source = flip ? row - tap + (RS - 1 - tap) : row;
        value = weight[(size_t)(group * Kg + m) * CRS + source];
    }
    panels[((size_t)(m / TILE_M) * CRS + row) * TILE_M + m % TILE_M] = value;
}

__kernel void gemm(
    __global const float* restrict filterPanels, __global const float* restrict columnPanels,
    __global const float* restrict bias, __global float* restrict output,
    const int CRS, const int Kg, const int P, const int K, const int spatial, const int group,
    const int activation, const float slope)
{
    const int m0 = get_global_id(0) * TILE_M;
    const int p0 = get_global_id(1) * TILE_N;
    __global const float* a = filterPanels + (size_t)get_global_id(0) * CRS * TILE_M;
    __global const float* b = columnPanels + (size_t)get_global_id(1) * CRS * TILE_N;

    floatN acc[TILE_M];
    for (int i = 0; i < TILE_M; ++i) acc[i] = (floatN)(0.0f);
    for (int k = 0; k < CRS; ++k) {
        const floatN columns = vloadN(k, b);
        for (int i = 0; i < TILE_M; ++i) acc[i] = fma((floatN)(a[k * TILE_M + i]), columns, acc[i]);
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
