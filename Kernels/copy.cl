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
typedef uchar8 element8;
#elif BYTES == 8
typedef ulong element;
typedef ulong8 element8;
#else
typedef uint element;
typedef uint8 element8;
#endif
#define ITEMS 16

__kernel void strided_copy(
    __global element* restrict y, __global const element* restrict x, const int count, const int rank,
    const int8 sizes8, const int8 xStrides8, const int8 yStrides8, const int xOffset, const int yOffset)
{
    const int first = get_global_id(0) * ITEMS;
    if (first >= count) return;
    int index[8];
    int ox = xOffset, oy = yOffset, rest = first;
    for (int d = rank - 1; d >= 0; --d) {
        const int size = lane(sizes8, d);
        index[d] = rest % size;
        rest /= size;
        ox += index[d] * lane(xStrides8, d);
        oy += index[d] * lane(yStrides8, d);
    }
    const int last = min(first + ITEMS, count);
    const int inner = rank - 1;
    const int length = lane(sizes8, inner), sx = lane(xStrides8, inner), sy = lane(yStrides8, inner);
    // A run along the inner axis at a time, as a plain strided loop; then the index carries.
    for (int i = first; i < last;) {
        const int run = min(last - i, length - index[inner]);
        for (int j = 0; j < run; ++j) y[oy + j * sy] = x[ox + j * sx];
        i += run;
        ox += run * sx;
        oy += run * sy;
        index[inner] += run;
        for (int d = inner; d > 0 && index[d] == lane(sizes8, d); --d) {
            index[d] = 0;
            ++index[d - 1];
            ox += lane(xStrides8, d - 1) - lane(xStrides8, d) * lane(sizes8, d);
            oy += lane(yStrides8, d - 1) - lane(yStrides8, d) * lane(sizes8, d);
        }
    }
}

// The strided copy of a transpose: the inner output axis a (y stride 1, x stride aStride) and the
// next one b (x stride 1, y stride bStride) swap, so the generic kernel reads x with a stride at
// every step. Here work-item t copies a tile of 8 along b × 32 along a for one index of the outer
// axes (sizes/xs/ys[0 .. rank - 2), as in strided_copy), as four 8 × 8 blocks: each block's 8 rows
// of x are read as vectors and its 8 rows of y written as vectors built from their lanes, in
// registers. Blocks cut by the end of an axis copy element by element. (The kernel before moved
// one 16 × 16 block through a private array and stored the outer sizes and strides to private
// arrays: a [16, 64, 128, 128] transpose ran at 12–13 GB/s against 14–17 for this one, the copy at
// 30–36, in alternated runs.) With `stream` (a large output, see OpenCLBackend.streams), rows of
// y aligned to a vector are stored non-temporally: that transpose 6.8–8.2 ms against 9.0–9.6,
// four alternated runs.
#define BLOCK 8
#define BLOCKS_A 4
// The columns of the 8 × 8 block v (rows v[0 .. 7]) into c[0 .. 7], in three rounds of two-vector
// shuffles with constant masks, each of which LLVM maps to one AVX instruction (unpack, shuffle,
// swap of 128-bit halves): 24 shuffles a block. The columns had been built lane by lane (each
// vector from eight extracted elements: blends, inserts and permutes, 330 blends in the kernel);
// with the shuffles the [16, 64, 128, 128] transpose ran at 5.1–6.0 ms against 7.2–7.4, four
// alternated runs. Straight-line code: written as loops over the private arrays, the rounds were
// compiled as loops through memory (shuffle2 too), and ran slower than the lane-by-lane build.
// (oclgrind follows these shuffles clean here, ci/kernel-check.sh; see PERMUTE in prelude.cl.)
#define SHUFFLE __builtin_shufflevector
ALWAYS_INLINE void transpose_block(const element8* v, element8* c)
{
    element8 t[BLOCK], s[BLOCK];
#define UNPACK(k) \
    t[k] = SHUFFLE(v[k], v[k + 1], 0, 8, 1, 9, 4, 12, 5, 13); \
    t[k + 1] = SHUFFLE(v[k], v[k + 1], 2, 10, 3, 11, 6, 14, 7, 15);
    UNPACK(0) UNPACK(2) UNPACK(4) UNPACK(6)
#define PAIR(k) \
    s[k] = SHUFFLE(t[k], t[k + 2], 0, 1, 8, 9, 4, 5, 12, 13); \
    s[k + 1] = SHUFFLE(t[k], t[k + 2], 2, 3, 10, 11, 6, 7, 14, 15); \
    s[k + 2] = SHUFFLE(t[k + 1], t[k + 3], 0, 1, 8, 9, 4, 5, 12, 13); \
    s[k + 3] = SHUFFLE(t[k + 1], t[k + 3], 2, 3, 10, 11, 6, 7, 14, 15);
    PAIR(0) PAIR(4)
#define HALVES(j) \
    c[j] = SHUFFLE(s[j], s[j + 4], 0, 1, 2, 3, 8, 9, 10, 11); \
    c[j + 4] = SHUFFLE(s[j], s[j + 4], 4, 5, 6, 7, 12, 13, 14, 15);
    HALVES(0) HALVES(1) HALVES(2) HALVES(3)
#undef UNPACK
#undef PAIR
#undef HALVES
}

__kernel void transpose_tiles(
    __global element* restrict y, __global const element* restrict x, const int tiles, const int outerRank,
    const int8 sizes8, const int8 xStrides8, const int8 yStrides8, const int xOffset, const int yOffset,
    const int sizeB, const int sizeA, const int bStride, const int aStride, const int stream)
{
    const int t = get_global_id(0);
    if (t >= tiles) return;
    const int tilesA = (sizeA + BLOCKS_A * BLOCK - 1) / (BLOCKS_A * BLOCK), tilesB = (sizeB + BLOCK - 1) / BLOCK;
    const int b0 = (t / tilesA % tilesB) * BLOCK;
    int rest = t / (tilesA * tilesB);
    int ox = xOffset + b0, oy = yOffset + b0 * bStride;
    for (int d = outerRank - 1; d >= 0; --d) {
        const int size = lane(sizes8, d);
        const int i = rest % size;
        rest /= size;
        ox += i * lane(xStrides8, d);
        oy += i * lane(yStrides8, d);
    }
    const int nb = min(BLOCK, sizeB - b0);
    for (int pair = 0; pair < BLOCKS_A; pair += 2) {
        const int a0 = ((t % tilesA) * BLOCKS_A + pair) * BLOCK;
        if (stream && nb == BLOCK && sizeA - a0 >= 2 * BLOCK && (size_t)(y + oy + a0) % sizeof(element8) == 0
            && bStride % BLOCK == 0) {
            // Two blocks side by side, so that each row of y is written 16 elements in a row:
            // streamed one block at a time, the lines of y were left half written between blocks,
            // and the transpose ran at either of two speeds, 7 or 13.7 ms, run to run.
            __global const element* source = x + ox + a0 * aStride;
            __global element* destination = y + oy + a0;
            element8 r[BLOCK], q[BLOCK];  // rows a0 + i and a0 + 8 + i of x, columns b0 .. b0 + 7
            #pragma unroll
            for (int i = 0; i < BLOCK; ++i) {
                r[i] = vload8(0, source + i * aStride);
                q[i] = vload8(0, source + (BLOCK + i) * aStride);
            }
            element8 cr[BLOCK], cq[BLOCK];
            transpose_block(r, cr);
            transpose_block(q, cq);
            #pragma unroll
            for (int j = 0; j < BLOCK; ++j) {
                __builtin_nontemporal_store(cr[j], (__global element8*)(destination + j * bStride));
                __builtin_nontemporal_store(cq[j], (__global element8*)(destination + j * bStride + BLOCK));
            }
            continue;
        }
        for (int block = pair; block < pair + 2; ++block) {
            const int a0 = ((t % tilesA) * BLOCKS_A + block) * BLOCK;
            const int na = min(BLOCK, sizeA - a0);
            __global const element* source = x + ox + a0 * aStride;
            __global element* destination = y + oy + a0;
            if (na < BLOCK || nb < BLOCK) {
                for (int j = 0; j < nb; ++j)
                    for (int i = 0; i < na; ++i) destination[j * bStride + i] = source[i * aStride + j];
                continue;
            }
            element8 r[BLOCK];  // r[i]: row a0 + i of x, columns b0 .. b0 + 7
            #pragma unroll
            for (int i = 0; i < BLOCK; ++i) r[i] = vload8(0, source + i * aStride);
            element8 c[BLOCK];
            transpose_block(r, c);
            #pragma unroll
            for (int j = 0; j < BLOCK; ++j) vstore8(c[j], 0, destination + j * bStride);
        }
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
    const int inner = lane(sizes8, rank - 1), n = lane(inSizes8, rank - 1), shift = lane(before8, rank - 1);
    if (row >= rows || run * 64 >= inner) return;
    // The input row under this output row, or none (constant padding of an outer axis).
    int rest = row, offset = 0, stride = n;
    bool inside = true;
    for (int d = rank - 2; d >= 0; --d) {
        const int size = lane(sizes8, d), inSize = lane(inSizes8, d);
        const int i = pad_source(rest % size - lane(before8, d), inSize, mode);
        rest /= size;
        inside = inside && i >= 0;
        offset += i * stride;
        stride *= inSize;
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
