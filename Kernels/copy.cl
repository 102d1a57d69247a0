// Data movement: one strided copy serves Transpose, Slice, Expand, Tile, Concat and Split (the
// host turns each into sizes and strides, as MNN's Raster does), pad_copy serves Pad, gather
// serves Gather, phase_split cuts a strided convolution's input and kernel into phases. Elements
// are moved as bits: BYTES (a build define: 1, 4 or 8) is their size, whatever their type.
//
// strided_copy: output element at multi-index i over `sizes` (up to 8 merged axes) goes to
// yOffset + Σ i[d]·yStrides[d] from xOffset + Σ i[d]·xStrides[d] (strides may be 0 or negative).
// ITEMS consecutive indices per work-item, the multi-index stepped without divisions.

#ifndef BYTES
#define BYTES 4
#endif
#if BYTES == 1
typedef uchar element;
#elif BYTES == 8
typedef ulong element;
#else
typedef uint element;
#endif
#define ITEMS 16

__kernel void strided_copy(
    __global element* restrict y, __global const element* restrict x, const int count, const int rank,
    const int8 sizes8, const int8 xStrides8, const int8 yStrides8, const int xOffset, const int yOffset)
{
    const int first = get_global_id(0) * ITEMS;
    if (first >= count) return;
    int sizes[8], xs[8], ys[8], index[8];
    vstore8(sizes8, 0, sizes);
    vstore8(xStrides8, 0, xs);
    vstore8(yStrides8, 0, ys);
    int ox = xOffset, oy = yOffset, rest = first;
    for (int d = rank - 1; d >= 0; --d) {
        index[d] = rest % sizes[d];
        rest /= sizes[d];
        ox += index[d] * xs[d];
        oy += index[d] * ys[d];
    }
    const int last = min(first + ITEMS, count);
    const int inner = rank - 1;
    // A run along the inner axis at a time, as a plain strided loop; then the index carries.
    for (int i = first; i < last;) {
        const int run = min(last - i, sizes[inner] - index[inner]);
        const int sx = xs[inner], sy = ys[inner];
        for (int j = 0; j < run; ++j) y[oy + j * sy] = x[ox + j * sx];
        i += run;
        ox += run * sx;
        oy += run * sy;
        index[inner] += run;
        for (int d = inner; d > 0 && index[d] == sizes[d]; --d) {
            index[d] = 0;
            ++index[d - 1];
            ox += xs[d - 1] - xs[d] * sizes[d];
            oy += ys[d - 1] - ys[d] * sizes[d];
        }
    }
}

// The strided copy of a transpose: the inner output axis a (y stride 1, x stride aStride) and the
// next one b (x stride 1, y stride bStride) swap, so the generic kernel reads x with a stride at
// every step. Here work-item t copies one 16 × 16 tile of (b, a) for one index of the outer axes
// (sizes/xs/ys[0 .. rank - 2), as in strided_copy): 16 contiguous reads along b, then 16
// contiguous writes along a. Tiles cut by the end of an axis copy element by element.
#define TILE 16
#define CONCAT2(a, b) a##b
#define EXPAND2(a, b) CONCAT2(a, b)
#define element16 EXPAND2(element, 16)

__kernel void transpose_tiles(
    __global element* restrict y, __global const element* restrict x, const int tiles, const int outerRank,
    const int8 sizes8, const int8 xStrides8, const int8 yStrides8, const int xOffset, const int yOffset,
    const int sizeB, const int sizeA, const int bStride, const int aStride)
{
    const int t = get_global_id(0);
    if (t >= tiles) return;
    const int tilesA = (sizeA + TILE - 1) / TILE, tilesB = (sizeB + TILE - 1) / TILE;
    int sizes[8], xs[8], ys[8];
    vstore8(sizes8, 0, sizes);
    vstore8(xStrides8, 0, xs);
    vstore8(yStrides8, 0, ys);
    const int a0 = (t % tilesA) * TILE, b0 = (t / tilesA % tilesB) * TILE;
    int rest = t / (tilesA * tilesB);
    int ox = xOffset + a0 * aStride + b0, oy = yOffset + b0 * bStride + a0;
    for (int d = outerRank - 1; d >= 0; --d) {
        const int i = rest % sizes[d];
        rest /= sizes[d];
        ox += i * xs[d];
        oy += i * ys[d];
    }
    const int na = min(TILE, sizeA - a0), nb = min(TILE, sizeB - b0);
    if (na < TILE || nb < TILE) {
        for (int j = 0; j < nb; ++j)
            for (int i = 0; i < na; ++i) y[oy + j * bStride + i] = x[ox + i * aStride + j];
        return;
    }
    element tile[TILE][TILE];  // tile[i][j]: a0 + i, b0 + j
    for (int i = 0; i < TILE; ++i) vstore16(vload16(0, x + ox + i * aStride), 0, tile[i]);
    for (int j = 0; j < TILE; ++j) {
        element column[TILE];
        for (int i = 0; i < TILE; ++i) column[i] = tile[i][j];
        vstore16(vload16(0, column), 0, y + oy + j * bStride);
    }
}

// Pad: output [sizes] from input [inSizes] shifted by `before` pads per axis (negative crops).
// mode 0 constant (`value`'s low BYTES bytes), 1 reflect (the edge element not repeated), 2 edge,
// 3 wrap (the input repeated). Work-item (run, row) writes elements 64·run … 64·run + 63 of output
// row `row` (the innermost axis); global size (ceil(sizes[rank - 1] / 64), rows).
inline int pad_source(int i, const int n, const int mode)
{
    if (i >= 0 && i < n) return i;
    if (mode == 1) return i < 0 ? -i : 2 * (n - 1) - i;
    if (mode == 2) return i < 0 ? 0 : n - 1;
    if (mode == 3) return (i % n + n) % n;
    return -1;
}

__kernel void pad_copy(
    __global element* restrict y, __global const element* restrict x, const int rows, const int rank,
    const int8 sizes8, const int8 inSizes8, const int8 before8, const int mode, const ulong value)
{
    const int run = get_global_id(0), row = get_global_id(1);
    int sizes[8], inSizes[8], before[8];
    vstore8(sizes8, 0, sizes);
    vstore8(inSizes8, 0, inSizes);
    vstore8(before8, 0, before);
    const int inner = sizes[rank - 1], n = inSizes[rank - 1], shift = before[rank - 1];
    if (row >= rows || run * 64 >= inner) return;
    // The input row under this output row, or none (constant padding of an outer axis).
    int rest = row, offset = 0, stride = n;
    bool inside = true;
    for (int d = rank - 2; d >= 0; --d) {
        const int i = pad_source(rest % sizes[d] - before[d], inSizes[d], mode);
        rest /= sizes[d];
        inside = inside && i >= 0;
        offset += i * stride;
        stride *= inSizes[d];
    }
    __global element* out = y + (size_t)row * inner;
    const int end = min(inner, run * 64 + 64);
    for (int j = run * 64; j < end; ++j) {
        const int i = pad_source(j - shift, n, mode);
        out[j] = inside && i >= 0 ? x[offset + i] : (element)value;
    }
}

// A strided convolution's phases (Sources/ConvCL/StridePhases.swift): x [outer][H][W] padded by
// padTop and padLeft (zeros) and cut into sH·sW phases, y [outer][sH][sW][JH][JW] with
// y[o][ph][pw][a][b] = x[o][a·sH + ph - padTop][b·sW + pw - padLeft], zero outside x. Work-item
// (run, row) writes elements 64·run … 64·run + 63 of output row `row` ((o·sH + ph)·sW + pw)·JH + a;
// global size (ceil(JW / 64), rows).
__kernel void phase_split(
    __global element* restrict y, __global const element* restrict x, const int rows, const int H, const int W,
    const int sH, const int sW, const int JH, const int JW, const int padTop, const int padLeft)
{
    const int run = get_global_id(0), row = get_global_id(1);
    if (row >= rows || run * 64 >= JW) return;
    const int a = row % JH, pw = row / JH % sW, ph = row / (JH * sW) % sH, o = row / (JH * sW * sH);
    const int ih = a * sH + ph - padTop;
    __global element* out = y + (size_t)row * JW;
    __global const element* in = x + ((size_t)o * H + (ih >= 0 && ih < H ? ih : 0)) * W;
    const int end = min(JW, run * 64 + 64);
    for (int j = run * 64; j < end; ++j) {
        const int iw = j * sW + pw - padLeft;
        out[j] = ih >= 0 && ih < H && iw >= 0 && iw < W ? in[iw] : (element)0;
    }
}

// Gather along an axis: x viewed as [outer][n][inner], indices [m] (int64, negative counting
// from the end, checked by the host), y [outer][m][inner].
__kernel void gather(
    __global element* restrict y, __global const element* restrict x, __global const long* restrict indices,
    const int outer, const int n, const int m, const int inner)
{
    const int k = get_global_id(0), j = get_global_id(1), o = get_global_id(2);
    if (k >= inner || j >= m || o >= outer) return;
    const long index = indices[j];
    const int source = (int)(index < 0 ? index + n : index);
    y[((size_t)o * m + j) * inner + k] = x[((size_t)o * n + source) * inner + k];
}
