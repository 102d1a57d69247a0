// Winograd F(2×2, 3×3) for 3×3 convolutions with stride 1, dilation 1 and one group:
// Y = Aᵀ[(G g Gᵀ) ⊙ (Bᵀ d B)]A for each 2×2 output tile, with d the 4×4 input patch under it.
// The elementwise product, summed over input channels, is 16 GEMMs (one per position ξ of the
// 4×4 transformed tile), which the GEMM kernel of conv_gemm.cl runs as a batch:
//   M[ξ][k][t] = Σ_c U[ξ][k][c] · V[ξ][c][t]
// transform_filters writes U in the GEMM's filter panels (TILE_M filters per panel) and
// transform_input writes V in its column panels (TILE_N tiles per panel), one batch entry per ξ;
// transform_output reads M and writes the output with the bias and the activation.
// Tiles t run over (n, tile row, tile column); tiles of the padding past the last column panel
// and filters past the last filter are zeros.
//
//   Bᵀ = | 1  0 -1  0 |    G = | 1    0    0   |    Aᵀ = | 1  1  1  0 |
//        | 0  1  1  0 |        | 1/2  1/2  1/2 |         | 0  1 -1 -1 |
//        | 0 -1  1  0 |        | 1/2 -1/2  1/2 |
//        | 0  1  0 -1 |        | 0    0    1   |

#ifndef TILE_M
#define TILE_M 6
#endif
#ifndef TILE_N
#define TILE_N 16
#endif

// The filters' transforms: work-item (k, c) writes U[ξ][k][c] for the 16 ξ.
__kernel void transform_filters(
    __global const float* restrict weight, __global float* restrict panels,
    const int K, const int C, const int Kpad, const int flip)
{
    const int k = get_global_id(0);
    const int c = get_global_id(1);
    if (k >= Kpad || c >= C) return;
    float u[4][4];
    if (k < K) {
        float g[3][3];
        __global const float* taps = weight + ((size_t)k * C + c) * 9;
        for (int r = 0; r < 3; ++r)
            for (int s = 0; s < 3; ++s) g[r][s] = flip ? taps[(2 - r) * 3 + 2 - s] : taps[r * 3 + s];
        float gg[4][3];  // G g
        for (int s = 0; s < 3; ++s) {
            gg[0][s] = g[0][s];
            gg[1][s] = 0.5f * (g[0][s] + g[1][s] + g[2][s]);
            gg[2][s] = 0.5f * (g[0][s] - g[1][s] + g[2][s]);
            gg[3][s] = g[2][s];
        }
        for (int i = 0; i < 4; ++i) {  // (G g) Gᵀ
            u[i][0] = gg[i][0];
            u[i][1] = 0.5f * (gg[i][0] + gg[i][1] + gg[i][2]);
            u[i][2] = 0.5f * (gg[i][0] - gg[i][1] + gg[i][2]);
            u[i][3] = gg[i][2];
        }
    } else {
        for (int i = 0; i < 4; ++i)
            for (int j = 0; j < 4; ++j) u[i][j] = 0.0f;
    }
    const size_t position = ((size_t)(k / TILE_M) * C + c) * TILE_M + k % TILE_M;
    for (int i = 0; i < 4; ++i)
        for (int j = 0; j < 4; ++j) panels[(size_t)(i * 4 + j) * Kpad * C + position] = u[i][j];
}

// Tiles t run over (n, tile row, tile column) with the columns padded to a multiple of 16
// (tilesWpad): the 16 tiles of a work-item lie in one tile row. Tiles past the last column are
// computed from whatever input lies there (or zeros) and never stored.

// Writes lane l of `v` to panel position t0 + l of row `c` in batch entry ξ's column panels.
inline void store_panel(__global float* panels, const size_t batchOffset, const int C, const int c, const int t0, const float16 v)
{
#if TILE_N % 16 == 0
    vstore16(v, 0, panels + batchOffset + ((size_t)(t0 / TILE_N) * C + c) * TILE_N + t0 % TILE_N);
#else
    float lanes[16];
    vstore16(v, 0, lanes);
    for (int l = 0; l < 16; ++l) {
        const int t = t0 + l;
        panels[batchOffset + ((size_t)(t / TILE_N) * C + c) * TILE_N + t % TILE_N] = lanes[l];
    }
#endif
}

// Lanes l = 0 … 15 of span[2l + offset].
inline float16 every_other(const float span[34], const int offset)
{
    float lanes[16];
    for (int l = 0; l < 16; ++l) lanes[l] = span[2 * l + offset];
    return vload16(0, lanes);
}

// The input tiles' transforms: work-item (j, c) transforms tiles 16j … 16j + 15 of channel c, one
// per lane of a float16, and writes V[ξ][c][t] for the 16 ξ. Tpad is a multiple of 16; tiles
// past T (the padded count of real ones) are zeros.
__kernel void transform_input(
    __global const float* restrict input, __global float* restrict panels,
    const int C, const int H, const int W, const int padTop, const int padLeft,
    const int tilesH, const int tilesWpad, const int T, const int Tpad)
{
    const int t0 = get_global_id(0) * 16;
    const int c = get_global_id(1);
    if (t0 >= Tpad || c >= C) return;
    const int tileRow = t0 / tilesWpad;  // n · tilesH + tile row
    const int n = tileRow / tilesH;
    const int ih0 = (tileRow - n * tilesH) * 2 - padTop;
    const int iw0 = (t0 - tileRow * tilesWpad) * 2 - padLeft;
    __global const float* plane = input + ((size_t)n * C + c) * H * W;
    // Each of the 4 input rows under the 16 tiles is read once, as a span of 34 columns.
    float16 d[4][4];
    for (int i = 0; i < 4; ++i) {
        const int ih = ih0 + i;
        float span[34];
        const bool inside = t0 < T && ih >= 0 && ih < H;
        for (int e = 0; e < 34; ++e) {
            const int iw = iw0 + e;
            span[e] = inside && iw >= 0 && iw < W ? plane[(size_t)ih * W + iw] : 0.0f;
        }
        for (int j = 0; j < 4; ++j) d[i][j] = every_other(span, j);
    }
    float16 bd[4][4];  // Bᵀ d
    for (int j = 0; j < 4; ++j) {
        bd[0][j] = d[0][j] - d[2][j];
        bd[1][j] = d[1][j] + d[2][j];
        bd[2][j] = d[2][j] - d[1][j];
        bd[3][j] = d[1][j] - d[3][j];
    }
    const size_t plane16 = (size_t)Tpad * C;
    for (int i = 0; i < 4; ++i) {  // (Bᵀ d) B, stored as it is formed
        store_panel(panels, (size_t)(i * 4 + 0) * plane16, C, c, t0, bd[i][0] - bd[i][2]);
        store_panel(panels, (size_t)(i * 4 + 1) * plane16, C, c, t0, bd[i][1] + bd[i][2]);
        store_panel(panels, (size_t)(i * 4 + 2) * plane16, C, c, t0, bd[i][2] - bd[i][1]);
        store_panel(panels, (size_t)(i * 4 + 3) * plane16, C, c, t0, bd[i][1] - bd[i][3]);
    }
}

// The output tiles: work-item (j, k) reads M[ξ][k][t] for tiles 16j … 16j + 15 and the 16 ξ, and
// writes the 2×2 outputs of each that lie inside the output, with the bias and the activation
// (0 none, 1 ReLU, 2 leaky ReLU; NaN passes through both). T is a multiple of 16.
__kernel void transform_output(
    __global const float* restrict products, __global const float* restrict bias, __global float* restrict output,
    const int K, const int OH, const int OW, const int tilesH, const int tilesWpad, const int T,
    const int activation, const float slope)
{
    const int t0 = get_global_id(0) * 16;
    const int k = get_global_id(1);
    if (t0 >= T || k >= K) return;
    const int tileRow = t0 / tilesWpad;
    const int n = tileRow / tilesH;
    const int oh0 = (tileRow - n * tilesH) * 2;
    const int ow0 = (t0 - tileRow * tilesWpad) * 2;
    float16 m[4][4];
    for (int i = 0; i < 4; ++i)
        for (int j = 0; j < 4; ++j) m[i][j] = vload16(0, products + ((size_t)(i * 4 + j) * K + k) * T + t0);
    float16 am[2][4];  // Aᵀ m
    for (int j = 0; j < 4; ++j) {
        am[0][j] = m[0][j] + m[1][j] + m[2][j];
        am[1][j] = m[1][j] - m[2][j] - m[3][j];
    }
    const float add = bias ? bias[k] : 0.0f;
    __global float* plane = output + ((size_t)n * K + k) * OH * OW;
    for (int i = 0; i < 2 && oh0 + i < OH; ++i) {
        float16 y[2] = {am[i][0] + am[i][1] + am[i][2] + add, am[i][1] - am[i][2] - am[i][3] + add};  // (Aᵀ m) A
        // The 16 tiles' two columns each, interleaved into 32 consecutive outputs of row oh0 + i.
        float row[32];
        for (int j = 0; j < 2; ++j) {
            if (activation == 1) y[j] = select(y[j], (float16)(0.0f), isless(y[j], (float16)(0.0f)));
            else if (activation == 2) y[j] = select(y[j] * slope, y[j], isgreater(y[j], (float16)(0.0f)));
            float lanes[16];
            vstore16(y[j], 0, lanes);
            for (int l = 0; l < 16; ++l) row[2 * l + j] = lanes[l];
        }
        __global float* destination = plane + (size_t)(oh0 + i) * OW + ow0;
        if (ow0 + 32 <= OW) {
            vstore16(vload16(0, row), 0, destination);
            vstore16(vload16(1, row), 0, destination + 16);
        } else {
            for (int e = 0; e < 32 && ow0 + e < OW; ++e) destination[e] = row[e];
        }
    }
}
