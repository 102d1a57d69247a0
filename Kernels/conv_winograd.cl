// Winograd F(4×4, 3×3) for 3×3 convolutions with stride 1, dilation 1 and one group:
// Y = Aᵀ[(G g Gᵀ) ⊙ (Bᵀ d B)]A for each 4×4 output tile, with d the 6×6 input patch under it.
// The elementwise product, summed over input channels, is 36 GEMMs (one per position ξ of the
// 6×6 transformed tile), which the GEMM kernel of conv_gemm.cl runs as a batch:
//   M[ξ][k][t] = Σ_c U[ξ][k][c] · V[ξ][c][t]
// transform_filters writes U in the GEMM's filter panels (TILE_M filters per panel) and
// transform_input writes V in its column panels (TILE_N tiles per panel), one batch entry per ξ;
// transform_output reads M and writes the output with the bias and the activation.
// The weight gradient runs the same transforms backwards: with dM = A dY Aᵀ for each tile's 4×4
// output gradient dY (transform_gradient), 36 GEMMs reduce over the tiles,
//   dU[ξ][k][c] = Σ_t dM[ξ][k][t] · V[ξ][c][t],
// on V from transform_input laid out with the tiles as the GEMM's depth, and the filters'
// gradient is Gᵀ dU G (transform_filter_gradient).
// A work-item of the input and output transforms takes 16 tiles, one per lane of a float16:
// 16 / ROWS consecutive tiles of each of ROWS consecutive tile rows (ROWS = 1, 2 or 4, a build
// define: narrow images take several rows). Work-item g covers tiles t = 16g … 16g + 15, and g
// runs over (n, group of ROWS tile rows, block of 16 / ROWS tile columns). Tiles past the last
// row or column are computed from whatever input lies there (or zeros) and never stored; tiles
// of the padding past the last column panel and filters past the last filter are zeros.
//
//   Bᵀ = | 4  0 -5  0  1  0 |    G = |  1/4     0     0  |    Aᵀ = | 1  1  1  1  1  0 |
//        | 0 -4 -4  1  1  0 |        | -1/6  -1/6  -1/6 |         | 0  1 -1  2 -2  0 |
//        | 0  4 -4 -1  1  0 |        | -1/6   1/6  -1/6 |         | 0  1  1  4  4  0 |
//        | 0 -2 -1  2  1  0 |        |  1/24  1/12  1/6 |         | 0  1 -1  8 -8  1 |
//        | 0  2 -1 -2  1  0 |        |  1/24 -1/12  1/6 |
//        | 0  4  0 -5  0  1 |        |  0     0     1   |

#ifndef ROWS
#define ROWS 1
#endif
#define ROW_TILES (16 / ROWS)  // tiles of one row in a work-item
#define SEGMENTS (4 / ROWS)    // float16s of 16 columns per row segment of 4 · ROW_TILES columns

// x ↦ Bᵀx, G x and Aᵀx for one column (or row) of a tile, of float16s (lane: tile or filter).
#define INPUT_TRANSFORM(x, y) do { \
        const float16 x0 = (x)[0], x1 = (x)[1], x2 = (x)[2], x3 = (x)[3], x4 = (x)[4], x5 = (x)[5]; \
        (y)[0] = 4.0f * x0 - 5.0f * x2 + x4; \
        (y)[1] = x3 + x4 - 4.0f * (x1 + x2); \
        (y)[2] = 4.0f * (x1 - x2) + x4 - x3; \
        (y)[3] = 2.0f * (x3 - x1) + x4 - x2; \
        (y)[4] = 2.0f * (x1 - x3) + x4 - x2; \
        (y)[5] = 4.0f * x1 - 5.0f * x3 + x5; \
    } while (0)
#define FILTER_TRANSFORM(x, y) do { \
        const float16 x0 = (x)[0], x1 = (x)[1], x2 = (x)[2]; \
        (y)[0] = 0.25f * x0; \
        (y)[1] = (x0 + x1 + x2) * (-1.0f / 6.0f); \
        (y)[2] = (x0 - x1 + x2) * (-1.0f / 6.0f); \
        (y)[3] = x0 * (1.0f / 24.0f) + x1 * (1.0f / 12.0f) + x2 * (1.0f / 6.0f); \
        (y)[4] = x0 * (1.0f / 24.0f) - x1 * (1.0f / 12.0f) + x2 * (1.0f / 6.0f); \
        (y)[5] = x2; \
    } while (0)
#define OUTPUT_TRANSFORM(x, y) do { \
        const float16 x0 = (x)[0], x1 = (x)[1], x2 = (x)[2], x3 = (x)[3], x4 = (x)[4], x5 = (x)[5]; \
        const float16 sum12 = x1 + x2, difference12 = x1 - x2, sum34 = x3 + x4, difference34 = x3 - x4; \
        (y)[0] = x0 + sum12 + sum34; \
        (y)[1] = difference12 + 2.0f * difference34; \
        (y)[2] = sum12 + 4.0f * sum34; \
        (y)[3] = difference12 + 8.0f * difference34 + x5; \
    } while (0)
// x ↦ A x (4 → 6, the transpose of Aᵀ) and Gᵀ x (6 → 3), of type T, for the weight gradient.
#define GRADIENT_TRANSFORM(T, x, y) do { \
        const T x0 = (x)[0], x1 = (x)[1], x2 = (x)[2], x3 = (x)[3]; \
        const T sum02 = x0 + x2, sum13 = x1 + x3, even = x0 + 4.0f * x2, odd = 2.0f * x1 + 8.0f * x3; \
        (y)[0] = x0; \
        (y)[1] = sum02 + sum13; \
        (y)[2] = sum02 - sum13; \
        (y)[3] = even + odd; \
        (y)[4] = even - odd; \
        (y)[5] = x3; \
    } while (0)
#define FILTER_GRADIENT_TRANSFORM(T, x, y) do { \
        const T x0 = (x)[0], x1 = (x)[1], x2 = (x)[2], x3 = (x)[3], x4 = (x)[4], x5 = (x)[5]; \
        (y)[0] = 0.25f * x0 - (x1 + x2) * (1.0f / 6.0f) + (x3 + x4) * (1.0f / 24.0f); \
        (y)[1] = (x2 - x1) * (1.0f / 6.0f) + (x3 - x4) * (1.0f / 12.0f); \
        (y)[2] = (x3 + x4 - x1 - x2) * (1.0f / 6.0f) + x5; \
    } while (0)

// The filters' transforms: work-item (p, c) writes U[ξ][k][c] for the 36 ξ and the TILE_M filters
// k of panel p, one per lane of a float16 (lanes past TILE_M unused).
__kernel void transform_filters(
    __global const float* restrict weight, __global float* restrict panels,
    const int K, const int C, const int Kpad, const int flip)
{
    const int p = get_global_id(0);
    const int c = get_global_id(1);
    if (p * TILE_M >= Kpad || c >= C) return;
    float taps[9][16];
    for (int m = 0; m < 16; ++m) {
        const int k = p * TILE_M + m;
        __global const float* filter = weight + ((size_t)k * C + c) * 9;
        for (int tap = 0; tap < 9; ++tap)
            taps[tap][m] = m < TILE_M && k < K ? filter[flip ? 8 - tap : tap] : 0.0f;
    }
    float16 gg[6][3];  // G g, column by column
    for (int s = 0; s < 3; ++s) {
        const float16 column[3] = {vload16(0, taps[s]), vload16(0, taps[3 + s]), vload16(0, taps[6 + s])};
        float16 transformed[6];
        FILTER_TRANSFORM(column, transformed);
        for (int i = 0; i < 6; ++i) gg[i][s] = transformed[i];
    }
    __global float* panel = panels + ((size_t)p * C + c) * TILE_M;
    for (int i = 0; i < 6; ++i) {
        float16 u[6];  // (G g) Gᵀ, row i
        FILTER_TRANSFORM(gg[i], u);
        for (int j = 0; j < 6; ++j) {
            float lanes[16];
            vstore16(u[j], 0, lanes);
            for (int m = 0; m < TILE_M; ++m) panel[(size_t)(i * 6 + j) * Kpad * C + m] = lanes[m];
        }
    }
}

// Lanes j, j + 4, …, j + 60 of the 64 lanes of v[0 … 3], for a constant j in 0 … 3.
#define EVERY_FOURTH(v, j) PERMUTE( \
    PERMUTE(v[0], v[1], j, j + 4, j + 8, j + 12, j + 16, j + 20, j + 24, j + 28, j, j + 4, j + 8, j + 12, j + 16, j + 20, j + 24, j + 28), \
    PERMUTE(v[2], v[3], j, j + 4, j + 8, j + 12, j + 16, j + 20, j + 24, j + 28, j, j + 4, j + 8, j + 12, j + 16, j + 20, j + 24, j + 28), \
    0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23)

// The input transform reads each input row in 16-column chunks from `origin` (a multiple of 16
// from the row's start) and shifts them by PAD_SHIFT = padLeft mod 16 columns, a build define,
// so that every shift is a constant permutation.
#ifndef PAD_SHIFT
#define PAD_SHIFT 0
#endif
// Lanes 16q … 16q + 15 of the tiles' span from column o (0 or 4) of their row segments, whose
// columns start at origin - PAD_SHIFT: segment q / SEGMENTS, its columns from 16 (q % SEGMENTS).
#define SPAN_QUARTER(chunks, q, o) WINDOW(chunks[(q) / SEGMENTS], 16 * ((q) % SEGMENTS) + (o) - PAD_SHIFT)
#define SPAN_FROM(chunks, o) { \
    SPAN_QUARTER(chunks, 0, o), SPAN_QUARTER(chunks, 1, o), SPAN_QUARTER(chunks, 2, o), SPAN_QUARTER(chunks, 3, o) }

// The tiles of work-item g: image n, first tile row and first tile column.
inline int3 first_tile(const int g, const int rowGroups, const int columnBlocks)
{
    const int rest = g / columnBlocks;
    return (int3)(rest / rowGroups, rest % rowGroups * ROWS, g % columnBlocks * ROW_TILES);
}

// Writes lane l of `v` to panel position t0 + l of row `c` in batch entry ξ's column panels; for
// the weight gradient (gradient set), to row t0 + l of column c of the panels of TILE_N channels,
// Tpad rows each.
inline void store_panel(
    __global float* panels, const size_t batchOffset, const int C, const int c, const int t0, const float16 v, const int gradient,
    const int Tpad)
{
    if (gradient) {
        float lanes[16];
        vstore16(v, 0, lanes);
        __global float* column = panels + batchOffset + ((size_t)(c / TILE_N) * Tpad + t0) * TILE_N + c % TILE_N;
        for (int l = 0; l < 16; ++l) column[l * TILE_N] = lanes[l];
        return;
    }
#if TILE_N % 16 == 0
    STORE(float16, v, panels + batchOffset + ((size_t)(t0 / TILE_N) * C + c) * TILE_N + t0 % TILE_N);
#else
    float lanes[16];
    vstore16(v, 0, lanes);
    for (int l = 0; l < 16; ++l) {
        const int t = t0 + l;
        panels[batchOffset + ((size_t)(t / TILE_N) * C + c) * TILE_N + t % TILE_N] = lanes[l];
    }
#endif
}

// The input tiles' transforms for work-items first … first + items - 1 (one chunk of them):
// work-item (i, c) of the launch, g = first + i, transforms tiles 16g … 16g + 15 of channel c, one
// per lane of a float16, and writes V[ξ][c][t] for the 36 ξ at the chunk's tiles t = 16i … 16i + 15.
// Tpad, the chunk's tiles with the padding to whole GEMM panels, is a multiple of 16; the
// padding's tiles are zeros. padLeft mod 16 must equal PAD_SHIFT. For the weight gradient,
// gradientChannels > 0 is C padded to whole column panels (the channels past C are zeros), and
// the panels take the gradient's layout (see store_panel).
__kernel void transform_input(
    __global const float* restrict input, __global float* restrict panels,
    const int C, const int H, const int W, const int padTop, const int padLeft,
    const int rowGroups, const int columnBlocks, const int first, const int items, const int Tpad, const int gradientChannels)
{
    const int i = get_global_id(0);
    const int g = first + i;
    const int c = get_global_id(1);
    if (16 * i >= Tpad || c >= max(C, gradientChannels)) return;
    const int3 tile = first_tile(g, rowGroups, columnBlocks);
    const int ih0 = tile.y * 4 - padTop;
    const int origin = tile.z * 4 - (padLeft - PAD_SHIFT);
    __global const float* plane = input + ((size_t)tile.x * C + c) * H * W;
    float16 rows[6][6];  // d B: row i of each tile's d, transformed
    for (int row = 0; row < 6; ++row) {
        float16 chunks[ROWS][6];  // of input row i under each tile row
        for (int r = 0; r < ROWS; ++r) {
            const int ih = ih0 + 4 * r + row;
            const bool valid = i < items && c < C && ih >= 0 && ih < H;
            for (int m = 0; m < 6; ++m)
                chunks[r][m] = m >= CHUNK_OF(-PAD_SHIFT) && m <= CHUNK_OF(4 * ROW_TILES + 1 - PAD_SHIFT)
                    ? load_chunk(plane, H * W, ih, origin + 16 * (m - 1), W, valid) : (float16)(0.0f);
        }
        // d[j]: lane l holds column 4l + j of the span, the tiles' row `row`.
        const float16 from0[4] = SPAN_FROM(chunks, 0), from4[4] = SPAN_FROM(chunks, 4);
        const float16 d[6] = {
            EVERY_FOURTH(from0, 0), EVERY_FOURTH(from0, 1), EVERY_FOURTH(from0, 2), EVERY_FOURTH(from0, 3),
            EVERY_FOURTH(from4, 0), EVERY_FOURTH(from4, 1)};
        INPUT_TRANSFORM(d, rows[row]);
    }
    const size_t batchStride = (size_t)Tpad * max(C, gradientChannels);
    for (int j = 0; j < 6; ++j) {  // Bᵀ (d B), column by column, stored as it is formed
        const float16 column[6] = {rows[0][j], rows[1][j], rows[2][j], rows[3][j], rows[4][j], rows[5][j]};
        float16 v[6];
        INPUT_TRANSFORM(column, v);
        for (int row = 0; row < 6; ++row)
            store_panel(panels, (size_t)(row * 6 + j) * batchStride, C, c, 16 * i, v[row], gradientChannels > 0, Tpad);
    }
}

// The output tiles of work-items first … (one chunk of them): work-item (i, k) of the launch,
// g = first + i, reads M[ξ][k][t] for the chunk's tiles t = 16i … 16i + 15 (T of them) and the
// 36 ξ, and writes the 4×4 outputs of tiles 16g … 16g + 15 that lie inside the output, with the
// bias and the activation (0 none, 1 ReLU, 2 leaky ReLU; NaN passes through both).
__kernel void transform_output(
    __global const float* restrict products, __global const float* restrict bias, __global float* restrict output,
    const int K, const int OH, const int OW, const int rowGroups, const int columnBlocks, const int first, const int T,
    const int activation, const float slope)
{
    const int t0 = 16 * get_global_id(0);
    const int g = first + get_global_id(0);
    const int k = get_global_id(1);
    if (t0 >= T || k >= K) return;
    const int3 tile = first_tile(g, rowGroups, columnBlocks);
    float16 am[4][6];  // Aᵀ m, column by column
    for (int j = 0; j < 6; ++j) {
        float16 column[6];
        for (int i = 0; i < 6; ++i) column[i] = vload16(0, products + ((size_t)(i * 6 + j) * K + k) * T + t0);
        float16 transformed[4];
        OUTPUT_TRANSFORM(column, transformed);
        for (int i = 0; i < 4; ++i) am[i][j] = transformed[i];
    }
    const float add = bias ? bias[k] : 0.0f;
    __global float* plane = output + ((size_t)tile.x * K + k) * OH * OW;
    for (int i = 0; i < 4; ++i) {
        float16 y[4];  // (Aᵀ m) A: lane l holds column j of tile l's row i
        OUTPUT_TRANSFORM(am[i], y);
        for (int j = 0; j < 4; ++j) y[j] = ACTIVATE(float16, y[j] + add, activation, slope);
        // The 16 tiles' four columns each, interleaved into 64 outputs: 16 (q % SEGMENTS) … + 15
        // of the row segment of tile row q / SEGMENTS, for quarter q.
        const float16 low01 = PERMUTE(y[0], y[1], 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
        const float16 low23 = PERMUTE(y[2], y[3], 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
        const float16 high01 = PERMUTE(y[0], y[1], 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
        const float16 high23 = PERMUTE(y[2], y[3], 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
        const float16 quarters[4] = {
            PERMUTE(low01, low23, 0, 1, 16, 17, 2, 3, 18, 19, 4, 5, 20, 21, 6, 7, 22, 23),
            PERMUTE(low01, low23, 8, 9, 24, 25, 10, 11, 26, 27, 12, 13, 28, 29, 14, 15, 30, 31),
            PERMUTE(high01, high23, 0, 1, 16, 17, 2, 3, 18, 19, 4, 5, 20, 21, 6, 7, 22, 23),
            PERMUTE(high01, high23, 8, 9, 24, 25, 10, 11, 26, 27, 12, 13, 28, 29, 14, 15, 30, 31)};
        for (int q = 0; q < 4; ++q) {
            const int oh = (tile.y + q / SEGMENTS) * 4 + i;
            const int start = tile.z * 4 + 16 * (q % SEGMENTS);
            if (oh < OH) store_inside(plane + (size_t)oh * OW, quarters[q], start, start, OW);
        }
    }
}

// The output gradient's tiles for the weight gradient: work-item (i, k) transforms dY of filter k
// (zeros past K and outside the output) over tiles t = 16i … 16i + 15 (lane l: tile row
// l / ROW_TILES, column l % ROW_TILES of the work-item's tiles), and writes dM[ξ][k][t] = (A dY Aᵀ)
// for the 36 ξ in the GEMM's filter panels: [ξ][k / TILE_M][t][TILE_M], T tiles each.
__kernel void transform_gradient(
    __global const float* restrict gradient, __global float* restrict panels,
    const int K, const int OH, const int OW, const int rowGroups, const int columnBlocks, const int T, const int Kpad)
{
    const int i = get_global_id(0);
    const int k = get_global_id(1);
    if (16 * i >= T || k >= Kpad) return;
    const int3 tile = first_tile(i, rowGroups, columnBlocks);
    __global const float* plane = gradient + ((size_t)tile.x * K + k) * OH * OW;
    float16 ad[6][4];  // A dY, column by column
    for (int j = 0; j < 4; ++j) {
        float16 column[4];
        for (int r = 0; r < 4; ++r) {
            float lanes[16];
            for (int l = 0; l < 16; ++l) {
                const int oh = (tile.y + l / ROW_TILES) * 4 + r, ow = (tile.z + l % ROW_TILES) * 4 + j;
                lanes[l] = k < K && oh < OH && ow < OW ? plane[(size_t)oh * OW + ow] : 0.0f;
            }
            column[r] = vload16(0, lanes);
        }
        float16 transformed[6];
        GRADIENT_TRANSFORM(float16, column, transformed);
        for (int a = 0; a < 6; ++a) ad[a][j] = transformed[a];
    }
    __global float* destination = panels + ((size_t)(k / TILE_M) * T + 16 * i) * TILE_M + k % TILE_M;
    for (int a = 0; a < 6; ++a) {
        float16 m[6];  // (A dY) Aᵀ, row a
        GRADIENT_TRANSFORM(float16, ad[a], m);
        for (int b = 0; b < 6; ++b) {
            float lanes[16];
            vstore16(m[b], 0, lanes);
            for (int l = 0; l < 16; ++l) destination[(size_t)(a * 6 + b) * T * Kpad + l * TILE_M] = lanes[l];
        }
    }
}

// The filters' gradient: work-item (k, c) reads dU[ξ][k][c] for the 36 ξ (K × C apart) and writes
// Gᵀ dU G, the 3×3 taps of weight [k][c] (reversed for a true convolution).
__kernel void transform_filter_gradient(
    __global const float* restrict products, __global float* restrict weight, const int K, const int C, const int flip)
{
    const int k = get_global_id(0);
    const int c = get_global_id(1);
    if (k >= K || c >= C) return;
    float gu[3][6];  // Gᵀ dU, column by column
    for (int b = 0; b < 6; ++b) {
        float column[6];
        for (int a = 0; a < 6; ++a) column[a] = products[((size_t)(a * 6 + b) * K + k) * C + c];
        float transformed[3];
        FILTER_GRADIENT_TRANSFORM(float, column, transformed);
        for (int r = 0; r < 3; ++r) gu[r][b] = transformed[r];
    }
    __global float* taps = weight + ((size_t)k * C + c) * 9;
    for (int r = 0; r < 3; ++r) {
        float row[3];
        FILTER_GRADIENT_TRANSFORM(float, gu[r], row);
        for (int s = 0; s < 3; ++s) taps[flip ? 8 - (3 * r + s) : 3 * r + s] = row[s];
    }
}
