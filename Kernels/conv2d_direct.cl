// Direct 2-D convolution with no workspace; the algorithm for depthwise and other shapes with too
// few filters per group to share a GEMM.
// Layout: input [N][C][H][W], weight [K][C/groups][R][S], bias [K] or NULL, output [N][K][OH][OW].
// flip = 1 reads the kernel back to front (true convolution); activation: 0 none, 1 ReLU,
// 2 leaky ReLU with `slope`.
//
// Work-item (b, oh, n·blocks + block) computes passes b·passes … (b + 1)·passes - 1 of one output
// row, one after another; a pass is WINDOWS windows of 16 consecutive outputs (both build
// defines), for FILTERS filters of one group, as FILTERS·WINDOWS float16 accumulators: for each
// channel and tap, the 16 inputs under a window (zeros in the padding) are read once and
// multiplied by each filter's weight. (With one filter, the windows are what keeps several
// multiply-adds in flight: one window's sum is a single chain.) The weights come packed by
// pack_filters, a block's FILTERS weights of a tap side by side, so that they lie at constant
// offsets whatever the sizes. A group's last block, when the group's filters are not a multiple
// of FILTERS, shifts back to stay whole and stores only its own filters. The last pass of a row
// shifts left to stay whole when the row has 16·WINDOWS outputs or more, and stores only its own
// outputs; a shorter row computes all the lanes and stores those inside.
// Global size: (ceil(ceil(OW / (16·WINDOWS)) / passes), OH, N · groups · ceil((K / groups) / FILTERS));
// FILTERS ≤ K / groups.

// The 16 inputs under tap column `iw0` of a row: row[iw0], row[iw0 + strideW], …, zero outside.
inline float16 input_row(__global const float* row, const int iw0, const int strideW, const int W)
{
    float values[16];
    for (int j = 0; j < 16; ++j) {
        const int iw = iw0 + j * strideW;
        values[j] = iw >= 0 && iw < W ? row[iw] : 0.0f;
    }
    return vload16(0, values);
}

// The 16 even-indexed of the 32 floats at `p`: a stride-2 window from two whole loads.
inline float16 load_even16(__global const float* p)
{
    return shuffle2(vload16(0, p), vload16(0, p + 16), (uint16)(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30));
}

// Adds the bias, applies the activation (0 none, 1 ReLU, 2 leaky ReLU; NaN stays NaN) and stores
// the outputs [first, first + 16) ∩ [0, OW) of `sum`, whose lane j is output start + j.
ALWAYS_INLINE void store_row(
    __global float* row, float16 sum, const float bias, const int activation, const float slope,
    const int first, const int start, const int OW)
{
    store_inside(row, ACTIVATE(float16, sum + bias, activation, slope), first, start, OW);
}

#ifdef FIRST_CALL
// conv2d_generic, the first-call kernel (see KernelTier): work-item (ow, oh, n·K + k) computes one
// output as a plain loop over its taps; every size is an argument, so its program builds in a
// fraction of the other kernels' time. Same layout and arguments as conv2d_direct, less passes.
__kernel void conv2d_generic(
    __global const float* restrict input,
    __global const float* restrict weight,
    __global const float* restrict bias,
    __global float* restrict output,
    const int N, const int C, const int H, const int W,
    const int K, const int R, const int S, const int OH, const int OW,
    const int strideH, const int strideW, const int padTop, const int padLeft,
    const int dilationH, const int dilationW, const int groups, const int flip, const int activation, const float slope)
{
    const int ow = get_global_id(0), oh = get_global_id(1), nk = get_global_id(2);
    if (ow >= OW || oh >= OH || nk >= N * K) return;
    const int n = nk / K, k = nk % K;
    const int channelsPerGroup = C / groups;
    const int firstChannel = k / (K / groups) * channelsPerGroup;
    float sum = 0.0f;
    for (int c = 0; c < channelsPerGroup; ++c) {
        __global const float* plane = input + (size_t)(n * C + firstChannel + c) * H * W;
        __global const float* taps = weight + ((size_t)k * channelsPerGroup + c) * R * S;
        for (int r = 0; r < R; ++r) {
            const int ih = oh * strideH - padTop + r * dilationH;
            if (ih < 0 || ih >= H) continue;
            for (int s = 0; s < S; ++s) {
                const int iw = ow * strideW - padLeft + s * dilationW;
                if (iw < 0 || iw >= W) continue;
                sum = fma(plane[(size_t)ih * W + iw], taps[flip ? (R - 1 - r) * S + S - 1 - s : r * S + s], sum);
            }
        }
    }
    sum += bias ? bias[k] : 0.0f;
    output[((size_t)nk * OH + oh) * OW + ow] = ACTIVATE(float, sum, activation, slope);
}
#endif

#ifdef FILTERS
// The first filter of block b (of FILTERS filters, within one group): a group's last block shifts
// back to stay whole when the group's filters are not a multiple of FILTERS.
inline int block_filter(const int b, const int K, const int groups)
{
    const int filtersPerGroup = K / groups;
    const int blocksPerGroup = (filtersPerGroup + FILTERS - 1) / FILTERS;
    const int group = b / blocksPerGroup;
    return min(group * filtersPerGroup + (b % blocksPerGroup) * FILTERS, (group + 1) * filtersPerGroup - FILTERS);
}

// Packs weight [K][taps] (taps = (C / groups)·R·S) as packed[b][t][f] = weight[k + f][t], k the
// first filter of block b. Work-item (t, b).
__kernel void pack_filters(
    __global const float* restrict weight, __global float* restrict packed, const int K, const int groups, const int taps)
{
    const int t = get_global_id(0), b = get_global_id(1);
    const int blocks = groups * ((K / groups + FILTERS - 1) / FILTERS);
    if (t >= taps || b >= blocks) return;
    const int k = block_filter(b, K, groups);
    for (int f = 0; f < FILTERS; ++f) packed[((size_t)b * taps + t) * FILTERS + f] = weight[(size_t)(k + f) * taps + t];
}

// How add_row_taps reads a window's inputs: INSIDE, every window lies inside the row (read
// without checks); EDGE, zeros outside it.
#define INSIDE 0
#define EDGE 1

// Adds the products of one row of S taps (`tapRow`, FILTERS weights a tap, flip as the kernel's)
// and the inputs of row ih of `plane` (`row`) under the pass's windows, which start at column
// iw0, to `sum`. Inlined with `reading` and, inside, `strideW` constant, each call is a loop of
// its own: the compiler keeps one branch-free body for each (see the kernel).
ALWAYS_INLINE void add_row_taps(
    float16 sum[FILTERS][WINDOWS], __global const float* plane, __global const float* row,
    __global const float* tapRow, const int H, const int W, const int ih, const int iw0, const int S,
    const int strideW, const int dilationW, const int flip, const int reading)
{
    for (int s = 0; s < S; ++s) {
        __global const float* tap = tapRow + (flip ? S - 1 - s : s) * FILTERS;
#pragma unroll
        for (int q = 0; q < WINDOWS; ++q) {
            // At stride 1 a window's 16 inputs are consecutive: one load (at the row's ends with
            // the lanes in the padding set to zero); at stride 2, inside, 32 of them, the even
            // lanes kept.
            const int iw = iw0 + 16 * q * strideW + s * dilationW;
            const float16 inputs = reading == INSIDE && strideW == 2 ? load_even16(row + iw)
                : reading == INSIDE ? load_whole16(row + iw)
                : strideW == 1 ? load_chunk(plane, H * W, ih, iw, W, true)
                : input_row(row, iw, strideW, W);
#pragma unroll
            for (int f = 0; f < FILTERS; ++f) sum[f][q] = fma(inputs, (float16)(tap[f]), sum[f][q]);
        }
    }
}

__kernel void conv2d_direct(
    __global const float* restrict input,
    __global const float* restrict packed,
    __global const float* restrict bias,
    __global float* restrict output,
    const int N, const int C, const int H, const int W,
    const int K, const int R, const int S, const int OH, const int OW,
    const int strideH, const int strideW, const int padTop, const int padLeft,
    const int dilationH, const int dilationW, const int groups, const int passes,
    const int flip, const int activation, const float slope)
{
    const int oh = get_global_id(1);
    const int filtersPerGroup = K / groups;
    const int blocksPerGroup = (filtersPerGroup + FILTERS - 1) / FILTERS;
    const int blocks = groups * blocksPerGroup;
    const int nb = get_global_id(2);
    if (get_global_id(0) * passes * 16 * WINDOWS >= OW || oh >= OH || nb >= N * blocks) return;
    const int n = nb / blocks;
    const int group = (nb % blocks) / blocksPerGroup;
    const int own = group * filtersPerGroup + (nb % blocksPerGroup) * FILTERS;
    const int k0 = block_filter(nb % blocks, K, groups);
    const int channelsPerGroup = C / groups;
    const int firstChannel = group * channelsPerGroup;
    __global const float* taps = packed + (size_t)(nb % blocks) * channelsPerGroup * R * S * FILTERS;
    // The work-item's passes, one after another: each output row is written front to back.
    for (int pass = get_global_id(0) * passes; pass < (get_global_id(0) + 1) * passes; ++pass) {
        const int first = pass * 16 * WINDOWS;
        if (first >= OW) break;
        const int start = OW >= 16 * WINDOWS ? min(first, OW - 16 * WINDOWS) : 0;
        const int iw0 = start * strideW - padLeft;
        // Whether every window of the pass's outputs lies inside the row.
        const bool inside = strideW <= 2 && iw0 >= 0 && iw0 + 16 * WINDOWS * strideW - 1 + (S - 1) * dilationW < W;
        float16 sum[FILTERS][WINDOWS];
#pragma unroll
        for (int f = 0; f < FILTERS; ++f)
#pragma unroll
            for (int q = 0; q < WINDOWS; ++q) sum[f][q] = (float16)(0.0f);
        for (int c = 0; c < channelsPerGroup; ++c) {
            __global const float* plane = input + (size_t)(n * C + firstChannel + c) * H * W;
            for (int r = 0; r < R; ++r) {
                const int ih = oh * strideH - padTop + r * dilationH;
                if (ih < 0 || ih >= H) continue;  // the same padding row for all the pass's outputs
                const int wr = flip ? R - 1 - r : r;
                __global const float* row = plane + (size_t)ih * W;
                __global const float* tapRow = taps + (c * R + wr) * S * FILTERS;
#if FILTERS < 16
                // One copy of the tap loop for each way of reading the inputs, chosen once a row
                // (with four windows PoCL no longer unswitched the loop by itself).
                if (inside && strideW == 1) add_row_taps(sum, plane, row, tapRow, H, W, ih, iw0, S, 1, dilationW, flip, INSIDE);
                else if (inside) add_row_taps(sum, plane, row, tapRow, H, W, ih, iw0, S, 2, dilationW, flip, INSIDE);
                else add_row_taps(sum, plane, row, tapRow, H, W, ih, iw0, S, strideW, dilationW, flip, EDGE);
#else
                // One copy, left to the compiler: three made 16 filters a work-item 1.1–1.25×
                // slower (built for 16-float vectors on the AVX2 machine; alternated).
                add_row_taps(sum, plane, row, tapRow, H, W, ih, iw0, S, strideW, dilationW, flip, inside ? INSIDE : EDGE);
#endif
            }
        }

#pragma unroll
        for (int f = 0; f < FILTERS; ++f) {
            if (k0 + f < own) continue;  // the previous block's
            __global float* outputRow = output + (((size_t)n * K + k0 + f) * OH + oh) * OW;
            const float b = bias ? bias[k0 + f] : 0.0f;
#pragma unroll
            for (int q = 0; q < WINDOWS; ++q)
                store_row(outputRow, sum[f][q], b, activation, slope, max(first, start + 16 * q), start + 16 * q, OW);
        }
    }
}

#endif

#ifdef ROW_TAPS
// conv2d_rows: stride 1 with one filter per work-item (depthwise), where the loads and the work-item
// overhead dominate. Work-item (b, rowBlock, n·K + k) computes ROW_SEGMENTS segments of 16 outputs
// from column 16·ROW_SEGMENTS·b of output rows rows·rowBlock … + rows - 1 of filter k. It reads
// the input rows under them once, top to bottom, as aligned 16-column chunks (zeros outside the
// row) that neighbouring segments share; tap s's 16 inputs are a constant permute of two chunks.
// Each input row feeds every output row it lies under: the sums of the last DEPTH output rows are
// kept in registers, and the oldest is complete, and stored, once the input row under its last
// tap row is read. Build defines: ROW_TAPS = S, TAP_ROWS = R, PAD_SHIFT = padLeft (< 16) and
// ROW_SEGMENTS; dilation 1.
#ifndef ROW_SEGMENTS
#define ROW_SEGMENTS 1
#endif
// Output rows an input row lies under: input row t is tap row r of output row t - r.
#define DEPTH TAP_ROWS
// Chunks from origin - 16 on: enough for every tap's window of every segment and the chunk after it.
#define CHUNKS (CHUNK_OF(ROW_TAPS - 1 - PAD_SHIFT + 15) + 2 + ROW_SEGMENTS - 1)

__kernel void conv2d_rows(
    __global const float* restrict input,
    __global const float* restrict weight,
    __global const float* restrict bias,
    __global float* restrict output,
    const int N, const int C, const int H, const int W, const int K, const int OH, const int OW,
    const int padTop, const int padLeft, const int groups, const int rows, const int flip, const int activation,
    const float slope)
{
    const int first = get_global_id(0) * 16 * ROW_SEGMENTS;
    const int oh0 = get_global_id(1) * rows;
    const int nk = get_global_id(2);
    if (first >= OW || oh0 >= OH || nk >= N * K) return;
    const int n = nk / K, k = nk % K;
    const int channelsPerGroup = C / groups;
    const int firstChannel = k / (K / groups) * channelsPerGroup;
    const int origin = first - (padLeft - PAD_SHIFT);
    const float b = bias ? bias[k] : 0.0f;
    float16 sum[DEPTH][ROW_SEGMENTS];  // sum[d]: output row oh0 + t - d, after input row t
#pragma unroll
    for (int d = 0; d < DEPTH; ++d)
#pragma unroll
        for (int q = 0; q < ROW_SEGMENTS; ++q) sum[d][q] = (float16)(0.0f);
    for (int t = 0; t < rows + DEPTH - 1; ++t) {
        const int ih = oh0 - padTop + t;
        if (ih >= 0 && ih < H) {  // padding rows add nothing
            for (int c = 0; c < channelsPerGroup; ++c) {
                __global const float* plane = input + (size_t)(n * C + firstChannel + c) * H * W;
                __global const float* taps = weight + ((size_t)k * channelsPerGroup + c) * TAP_ROWS * ROW_TAPS;
                float16 chunks[CHUNKS];
#pragma unroll
                for (int m = 0; m < CHUNKS; ++m)
                    chunks[m] = m >= CHUNK_OF(-PAD_SHIFT)
                        ? load_chunk(plane, H * W, ih, origin + 16 * (m - 1), W, true) : (float16)(0.0f);
#pragma unroll
                for (int q = 0; q < ROW_SEGMENTS; ++q) {
                    float16 inputs[ROW_TAPS];  // segment q's chunks start q chunks later
#pragma unroll
                    for (int s = 0; s < ROW_TAPS; ++s) inputs[s] = WINDOW((chunks + q), s - PAD_SHIFT);
#pragma unroll
                    for (int r = 0; r < TAP_ROWS; ++r) {
                        __global const float* tapRow = taps + (flip ? TAP_ROWS - 1 - r : r) * ROW_TAPS;
#pragma unroll
                        for (int s = 0; s < ROW_TAPS; ++s) {
                            const float tap = tapRow[flip ? ROW_TAPS - 1 - s : s];
                            sum[r][q] = fma(inputs[s], (float16)(tap), sum[r][q]);
                        }
                    }
                }
            }
        }
        const int oh = oh0 + t - (DEPTH - 1);  // complete now
        if (oh >= oh0 && oh < OH) {
            __global float* outputRow = output + (((size_t)n * K + k) * OH + oh) * OW;
#pragma unroll
            for (int q = 0; q < ROW_SEGMENTS; ++q)
                store_row(outputRow, sum[DEPTH - 1][q], b, activation, slope, first + 16 * q, first + 16 * q, OW);
        }
#pragma unroll
        for (int d = DEPTH - 1; d > 0; --d)
#pragma unroll
            for (int q = 0; q < ROW_SEGMENTS; ++q) sum[d][q] = sum[d - 1][q];
#pragma unroll
        for (int q = 0; q < ROW_SEGMENTS; ++q) sum[0][q] = (float16)(0.0f);
    }
}
#endif
