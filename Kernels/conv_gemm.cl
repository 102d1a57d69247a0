// Convolution as im2col + GEMM, for one group at a time, on packed panels.
//
// im2col writes the group's input patches as the matrix B[CRS][P] (row (c·R + r)·S + s, column
// p = n·OH·OW + oh·OW + ow) packed in panels of TILE_N columns: panel j holds B[0..CRS)[j·TILE_N ..
// + TILE_N) row after row, so a work-item streams one contiguous block. Padded positions and
// columns p ≥ P hold zeros.
// pack_weights writes the group's filters A[Kg][CRS] (flipped for true convolution) in panels of
// TILE_M filters the same way: panel i holds, for each row, TILE_M consecutive filters' taps.
// gemm computes out[Kg][P] = A · B: work-item (i, j) keeps a TILE_M × TILE_N tile of accumulators
// (TILE_M rows of TILE_N / WIDTH vectors), broadcasting each filter's tap against the vectors of
// columns. A work-group covers every filter panel of a few column panels (dimension 0 runs over
// filter panels), so those panels are read from memory once and reused from cache. Tails are zero
// padding, so only the stores are guarded; the bias and the activation are applied at the store.
// Dimension 2 runs over a batch of independent GEMMs (Winograd's 36) at given strides.
// Both im2col and gemm take a chunk of the column panels at a time, from panel firstPanel on: the
// panels buffer holds that chunk's panels only, so that it stays in cache between the two.

// A row of a panel is TILE_N floats: VECTORS vectors of WIDTH floats, WIDTH (4, 8 or 16, a build
// define) the device's SIMD width, so that no vector is wider than its registers.
#ifndef WIDTH
#define WIDTH 16
#endif
#if (WIDTH != 4 && WIDTH != 8 && WIDTH != 16) || TILE_N % WIDTH != 0
#error "WIDTH must be 4, 8 or 16 and divide TILE_N"
#endif
#define VECTORS (TILE_N / WIDTH)
#define CONCAT(a, b) a##b
#define EXPAND(a, b) CONCAT(a, b)
#define floatW EXPAND(float, WIDTH)
#define vloadW EXPAND(vload, WIDTH)
#define vstoreW EXPAND(vstore, WIDTH)

__kernel void im2col(
    __global const float* restrict input, __global float* restrict panels,
    const int C, const int H, const int W, const int OH, const int OW,
    const int R, const int S, const int strideH, const int strideW, const int padTop, const int padLeft,
    const int dilationH, const int dilationW, const int channelsPerGroup, const int group,
    const int P, const int Ppad, const int CRS, const int firstPanel)
{
    // Work-item (row, panel) writes the panel's TILE_N columns of one row as one vector; neighbours
    // in dimension 0 take the next row, so together they write a contiguous block.
    const int row = get_global_id(0);  // (c·R + r)·S + s within the group
    const int panel = firstPanel + get_global_id(1);
    if (row >= CRS || panel * TILE_N >= Ppad) return;
    const int s = row % S;
    const int r = (row / S) % R;
    const int c = row / (R * S);
    const int rowOffset = r * dilationH - padTop;
    const int columnOffset = s * dilationW - padLeft;
    const size_t plane = (size_t)H * W;
    const int spatial = OH * OW;
    const int p0 = panel * TILE_N;
    // The panel's columns, as runs that each lie in one output row (n, oh): a run reads one input
    // row, with no division per element.
    int n = p0 / spatial;
    int oh = (p0 - n * spatial) / OW;
    int ow = p0 - n * spatial - oh * OW;
    __global float* destination = panels + ((size_t)(panel - firstPanel) * CRS + row) * TILE_N;
    // Where the panel's columns are all real, lie in one output row, and read inside the input,
    // they are one whole load (stride 1) or a gather straight into registers, 16 at a time.
#if TILE_N % 16 == 0
    {
        const int ih = oh * strideH + rowOffset;
        const int iw0 = ow * strideW + columnOffset;
        if (ow + TILE_N <= OW && p0 + TILE_N <= P && ih >= 0 && ih < H && iw0 >= 0 && iw0 + (TILE_N - 1) * strideW < W) {
            __global const float* inputRow = input + (size_t)(n * C + group * channelsPerGroup + c) * plane + (size_t)ih * W + iw0;
#pragma unroll
            for (int h = 0; h < TILE_N / 16; ++h) {
                __global const float* p = inputRow + 16 * h * strideW;
                STORE(float16, strideW == 1 ? load_whole16(p) : gather16(p, strideW), destination + 16 * h);
            }
            return;
        }
    }
#endif
    float values[TILE_N];
    for (int j = 0; j < TILE_N;) {
        const int length = min(min(TILE_N - j, OW - ow), max(P - p0 - j, 0));
        if (length == 0) {  // past the last column: zeros
            for (; j < TILE_N; ++j) values[j] = 0.0f;
            break;
        }
        const int ih = oh * strideH + rowOffset;
        if (ih < 0 || ih >= H) {
            for (int t = 0; t < length; ++t) values[j + t] = 0.0f;
        } else {
            __global const float* inputRow = input + (size_t)(n * C + group * channelsPerGroup + c) * plane + (size_t)ih * W;
            for (int t = 0; t < length; ++t) {
                const int iw = (ow + t) * strideW + columnOffset;
                values[j + t] = iw >= 0 && iw < W ? inputRow[iw] : 0.0f;
            }
        }
        j += length;
        ow += length;
        if (ow == OW) {
            ow = 0;
            if (++oh == OH) { oh = 0; ++n; }
        }
    }
    for (int v = 0; v < VECTORS; ++v) STORE(floatW, vloadW(v, values), destination + v * WIDTH);
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

// The GEMM's arguments (shared by gemm and gemm_deep).
#define GEMM_PARAMETERS \
    __global const float* restrict filterPanels, __global const float* restrict columnPanels, \
    __global const float* restrict bias, __global float* restrict output, \
    const int CRS, const int Kg, const int P, const int K, const int spatial, const int group, \
    const int activation, const float slope, const int batchA, const int batchB, const int batchOutput, const int firstPanel

// The parts of gemm and gemm_deep, as statement macros over the kernel's variables rather than
// inline functions: with the accumulators passed to functions as an array, every GEMM ran about
// 10% slower (Winograd and im2col-gemm cases, three alternated runs), though PoCL inlines them.
//
// GEMM_TILE: work-item (i, j, batch) takes the tile of filter panel i and column panel j of GEMM
// `batch` (dimension 2 runs over independent GEMMs, Winograd's 36, `batch…` floats apart), its
// accumulators zeroed. Every loop over them is fully unrolled, so that they live in registers.
#define GEMM_TILE \
    const size_t batch = get_global_id(2); \
    const int m0 = get_global_id(0) * TILE_M; \
    const int p0 = (firstPanel + get_global_id(1)) * TILE_N; \
    __global const float* a = filterPanels + batch * batchA + (size_t)get_global_id(0) * CRS * TILE_M; \
    __global const float* b = columnPanels + batch * batchB + (size_t)get_global_id(1) * CRS * TILE_N; \
    output += batch * batchOutput; \
    floatW acc[TILE_M][VECTORS]; \
    _Pragma("unroll") for (int i = 0; i < TILE_M; ++i) \
        _Pragma("unroll") for (int v = 0; v < VECTORS; ++v) acc[i][v] = (floatW)(0.0f);

// GEMM_ACCUMULATE(from, to): adds rows [from, to) of the filter panel times the column panel.
#define GEMM_ACCUMULATE(from, to) \
    for (int k = (from); k < (to); ++k) { \
        floatW columns[VECTORS]; \
        _Pragma("unroll") for (int v = 0; v < VECTORS; ++v) columns[v] = vloadW(k * VECTORS + v, b); \
        _Pragma("unroll") for (int i = 0; i < TILE_M; ++i) { \
            const floatW filter = (floatW)(a[k * TILE_M + i]); \
            _Pragma("unroll") for (int v = 0; v < VECTORS; ++v) acc[i][v] = fma(filter, columns[v], acc[i][v]); \
        } \
    }

// Stores the tile with the bias and the activation. A tile whose columns all lie in one image is
// stored as vectors; one that crosses an image or the end of the columns, element by element.
#define GEMM_STORE \
    const int n0 = p0 / spatial; \
    const int q0 = p0 - n0 * spatial; \
    const bool contiguous = p0 + TILE_N <= P && q0 + TILE_N <= spatial; \
    _Pragma("unroll") for (int i = 0; i < TILE_M; ++i) { \
        const int m = m0 + i; \
        if (m < Kg) { \
            const int k = group * Kg + m; \
            const float add = bias ? bias[k] : 0.0f; \
            if (contiguous) { \
                __global float* destination = output + ((size_t)n0 * K + k) * spatial + q0; \
                _Pragma("unroll") for (int v = 0; v < VECTORS; ++v) \
                    STORE(floatW, ACTIVATE(floatW, acc[i][v] + add, activation, slope), destination + v * WIDTH); \
            } else { \
                float values[TILE_N]; \
                _Pragma("unroll") for (int v = 0; v < VECTORS; ++v) \
                    vstoreW(ACTIVATE(floatW, acc[i][v] + add, activation, slope), v, values); \
                int n = n0, q = q0; \
                for (int j = 0; j < TILE_N && p0 + j < P; ++j) { \
                    output[((size_t)n * K + k) * spatial + q] = values[j]; \
                    if (++q == spatial) { q = 0; ++n; } \
                } \
            } \
        } \
    }

__kernel void gemm(GEMM_PARAMETERS)
{
    GEMM_TILE
    GEMM_ACCUMULATE(0, CRS)
    GEMM_STORE
}

// gemm over a long depth: the work-group's work-items take `depthBlock` rows at a time, all of them
// before the next block (the barrier), so that the block of the group's column panels stays in the
// first-level cache while every filter panel uses it. Without the barrier PoCL runs each work-item
// over the whole depth in turn; at depth 4096 a column panel is 256 KiB and falls out of cache.
// Kept apart from gemm because the barrier costs there: the accumulators then live in memory
// across it (Winograd's GEMMs ran 2–40% slower).
__kernel void gemm_deep(GEMM_PARAMETERS, const int depthBlock)
{
    GEMM_TILE
    for (int from = 0; from < CRS; from += depthBlock) {
        GEMM_ACCUMULATE(from, min(CRS, from + depthBlock))
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    GEMM_STORE
}

// The weight gradient as the same GEMM: dW[k][(c·R + r)·S + s] = Σ_p dY[k][p] · patch[p][(c·R + r)·S + s],
// the reduction over the output positions p = n·OH·OW + oh·OW + ow, cut into chunks of L positions
// that gemm runs as its batch (dimension 2); the chunks' partial products are summed afterwards, in
// a fixed order. Positions past P and filters or columns past the group's are zeros.
// pack_gradient writes A[chunk][filter panel][l][TILE_M] from the output gradient [N][K][OH·OW]:
// work-item (p, panel) writes position p's TILE_M filters; neighbours in dimension 0 read the
// next positions and write the next TILE_M floats.
__kernel void pack_gradient(
    __global const float* restrict gradient, __global float* restrict panels,
    const int K, const int Kg, const int group, const int spatial, const int P, const int L, const int filterPanels)
{
    const int p = get_global_id(0);
    const int panel = get_global_id(1);
    const int n = p / spatial;
    __global const float* source = gradient + ((size_t)n * K + group * Kg) * spatial + p - n * spatial;
    const int chunk = p / L;
    __global float* destination = panels + (((size_t)chunk * filterPanels + panel) * L + p - chunk * L) * TILE_M;
    for (int i = 0; i < TILE_M; ++i) {
        const int m = panel * TILE_M + i;
        destination[i] = m < Kg && p < P ? source[(size_t)m * spatial] : 0.0f;
    }
}

// im2row writes B[chunk][column panel][l][TILE_N]: position p's patch values for the panel's
// TILE_N columns (c·R + r)·S + s of the group's channels, one row per work-item; neighbours in
// dimension 0 take the next positions, so together they write a contiguous block.
__kernel void im2row(
    __global const float* restrict input, __global float* restrict panels,
    const int C, const int H, const int W, const int OH, const int OW,
    const int R, const int S, const int strideH, const int strideW, const int padTop, const int padLeft,
    const int dilationH, const int dilationW, const int channelsPerGroup, const int group,
    const int P, const int CRS, const int L, const int columnPanels)
{
    const int p = get_global_id(0);
    const int panel = get_global_id(1);
    const int spatial = OH * OW;
    const int n = p / spatial;
    const int oh = (p - n * spatial) / OW;
    const int ow = p - n * spatial - oh * OW;
    const int top = oh * strideH - padTop, left = ow * strideW - padLeft;
    const int first = panel * TILE_N;
    int s = first % S, r = (first / S) % R, c = first / (R * S);
    float values[TILE_N];
    for (int j = 0; j < TILE_N; ++j) {
        float value = 0.0f;
        const int ih = top + r * dilationH, iw = left + s * dilationW;
        if (p < P && first + j < CRS && ih >= 0 && ih < H && iw >= 0 && iw < W)
            value = input[((size_t)(n * C + group * channelsPerGroup + c) * H + ih) * W + iw];
        values[j] = value;
        if (++s == S) {
            s = 0;
            if (++r == R) { r = 0; ++c; }
        }
    }
    const int chunk = p / L;
    __global float* destination = panels + (((size_t)chunk * columnPanels + panel) * L + p - chunk * L) * TILE_N;
    for (int v = 0; v < VECTORS; ++v) STORE(floatW, vloadW(v, values), destination + v * WIDTH);
}
