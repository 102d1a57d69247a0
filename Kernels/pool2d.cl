// 2-D max and average pooling (1-D runs with height 1). Layout: input [planes][H][W]
// (planes = N*C), output [planes][OH][OW].
// Build defines, so that the vector loads are specialised: MODE (0 max, 1 average), INDICES (max
// pooling writes the argmax too), VECTOR_STRIDE (strideW when it is 1 or 2, else 0) and PAIRS (1
// for windows 2 wide at stride 2, dilation 1). Sizes, window, strides, padding and dilation are
// kernel arguments, so a handful of programs serves every configuration.
// MODE 0 = max: padding never wins; a NaN does (PyTorch's rule: a later NaN replaces an earlier
//   one), and ties keep the first tap. `indices` receives the argmax as a flat index ih*W + iw
//   into the input plane.
// MODE 1 = average: the divisor counts the taps inside the input, or with countIncludePad the
//   taps inside the padded input (a ceil-mode window's part past the padding never counts).
//
// Each segment of 16 outputs [16·segment, 16·segment + 16) of a row: where every tap of those
// windows lies inside the input, it computes them as one float16 (the last segment of a row
// shifts left to stay whole and stores only its own outputs); elsewhere, output by output.

#ifndef INDICES
#define INDICES 0
#endif

// Whether tap value v replaces the best so far: greater, or NaN (then the last NaN wins).
#define TAKES(v, best) (isgreater(v, best) | isnan(v))

#define EVEN_LANES 0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30

// The sizes and window of a call, as the kernel received them.
typedef struct {
    int H, W, OH, OW, windowR, windowS, strideH, strideW, padTop, padLeft, padBottom, padRight, dilationH, dilationW,
        countIncludePad;
} Geometry;

// One window row of 16 windows, taps p[s·dilationW + j·strideW] (j = 0 … 15): for max pooling
// the first greatest tap of each window (or its last NaN) and, in *tap, which tap s it is; for
// average pooling their sum. Row by row, these combine to the raster-order answer.
ALWAYS_INLINE float16 pool_row(__global const float* p, const Geometry g, int16* tap)
{
#if PAIRS
    // 2 wide, stride 2: each pair p[2j], p[2j + 1] is combined inside two loads (a lane with the
    // next one), then the even lanes are gathered: two loads and three permutes a row.
    const float16 low = load_whole16(p), high = load_whole16(p + 16);
    const float16 lowNext = PERMUTE(low, low, 1, 1, 3, 3, 5, 5, 7, 7, 9, 9, 11, 11, 13, 13, 15, 15);
    const float16 highNext = PERMUTE(high, high, 1, 1, 3, 3, 5, 5, 7, 7, 9, 9, 11, 11, 13, 13, 15, 15);
#if MODE == 0
    const int16 takeLow = TAKES(lowNext, low), takeHigh = TAKES(highNext, high);
    *tap = PERMUTE(takeLow, takeHigh, EVEN_LANES) & 1;
    return PERMUTE(select(low, lowNext, takeLow), select(high, highNext, takeHigh), EVEN_LANES);
#else
    return PERMUTE(low + lowNext, high + highNext, EVEN_LANES);
#endif
#else
    float16 best = (float16)(0.0f);
    *tap = (int16)(0);
    for (int s = 0; s < g.windowS; ++s) {
        __global const float* q = p + s * g.dilationW;
#if VECTOR_STRIDE == 1
        const float16 v = vload16(0, q);
#elif VECTOR_STRIDE == 2
        // The even lanes of q[0 … 15] and the odd ones of q[15 … 30], a constant permute.
        const float16 v = PERMUTE(load_whole16(q), load_whole16(q + 15), 0, 2, 4, 6, 8, 10, 12, 14, 17, 19, 21, 23, 25, 27, 29, 31);
#else
        float values[16];
        for (int j = 0; j < 16; ++j) values[j] = q[j * g.strideW];
        const float16 v = vload16(0, values);
#endif
#if MODE == 0
        if (s == 0) {
            best = v;
        } else {
            const int16 take = TAKES(v, best);
            best = select(best, v, take);
            *tap = select(*tap, (int16)(s), take);
        }
#else
        best += v;
#endif
    }
    return best;
#endif
}

inline void pool_one(
    __global const float* in, __global float* output, __global long* indices, const size_t out,
    const int oh, const int ow, const Geometry g)
{
    float best = -INFINITY;
    int bestIndex = -1;
    float sum = 0.0f;
    int inputTaps = 0;
    int paddedTaps = 0;
    for (int r = 0; r < g.windowR; ++r) {
        const int ih = oh * g.strideH - g.padTop + r * g.dilationH;
        for (int s = 0; s < g.windowS; ++s) {
            const int iw = ow * g.strideW - g.padLeft + s * g.dilationW;
            paddedTaps += (ih >= -g.padTop && ih < g.H + g.padBottom && iw >= -g.padLeft && iw < g.W + g.padRight);
            if (ih < 0 || ih >= g.H || iw < 0 || iw >= g.W) continue;
            const int index = ih * g.W + iw;
            const float value = in[index];
            ++inputTaps;
            sum += value;
            if (bestIndex < 0 || value > best || isnan(value)) {
                best = value;
                bestIndex = index;
            }
        }
    }
#if MODE == 0
    output[out] = best;
#if INDICES
    indices[out] = bestIndex;
#endif
#else
    output[out] = sum / (float)(g.countIncludePad ? paddedTaps : inputTaps);
#endif
}

// Outputs [16·segment, 16·segment + 16) of output row oh of a plane. (PoCL called it as a function
// from the kernel's loop: inlined, the benchmark's max pooling took 0.85 ms instead of 1.3.)
ALWAYS_INLINE void pool_segment(
    __global const float* in, __global float* output, __global long* indices, const size_t row,
    const int segment, const int oh, const Geometry g)
{
    const int first = segment * 16;
    const int start = min(first, g.OW - 16);
    const int ih0 = oh * g.strideH - g.padTop;
    const int iw0 = start * g.strideW - g.padLeft;
    const bool interior = g.OW >= 16 && ih0 >= 0 && ih0 + (g.windowR - 1) * g.dilationH < g.H && iw0 >= 0
        && iw0 + 15 * g.strideW + (g.windowS - 1) * g.dilationW < g.W;
    if (!interior) {
        for (int ow = first; ow < min(first + 16, g.OW); ++ow) pool_one(in, output, indices, row + ow, oh, ow, g);
        return;
    }

    const int16 lane = (int16)(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15) * g.strideW;
    float16 result = (float16)(0.0f);
    int16 bestIndex = (int16)(0);
    for (int r = 0; r < g.windowR; ++r) {
        const int offset = (ih0 + r * g.dilationH) * g.W + iw0;
        int16 tap;
        const float16 v = pool_row(in + offset, g, &tap);
#if MODE == 0
        // A later row replaces the best only when greater or NaN: ties keep the first tap.
        const int16 take = r == 0 ? (int16)(-1) : TAKES(v, result);
        result = select(result, v, take);
#if INDICES
        bestIndex = select(bestIndex, offset + tap * g.dilationW + lane, take);
#endif
#else
        result += v;
#endif
    }
#if MODE == 1
    result /= (float)(g.windowR * g.windowS);
#endif
    // The last segment of a row shifts left to stay whole; the outputs it shares with the one
    // before were written by this work-item with the same values.
    STORE(float16, result, output + row + start);
#if INDICES
    STORE(long16, convert_long16(bestIndex), indices + row + start);
#endif
}

// Work-item (oh, plane) computes output row oh of a plane, 16 outputs at a time; with FIRST_CALL
// (the first-call program, see KernelTier), work-item (ow, oh, plane) computes one output with no
// vector loads, and the program builds in a fraction of the time. `indices` is NULL unless INDICES.
__kernel void pool2d(
    __global const float* restrict input,
    __global float* restrict output,
    __global long* restrict indices,
    const int planes, const int H, const int W, const int OH, const int OW, const int windowR, const int windowS,
    const int strideH, const int strideW, const int padTop, const int padLeft, const int padBottom, const int padRight,
    const int dilationH, const int dilationW, const int countIncludePad)
{
    const Geometry g = {
        H, W, OH, OW, windowR, windowS, strideH, strideW, padTop, padLeft, padBottom, padRight, dilationH, dilationW,
        countIncludePad};
#ifdef FIRST_CALL
    const int ow = get_global_id(0), oh = get_global_id(1), plane = get_global_id(2);
    if (ow >= OW || oh >= OH || plane >= planes) return;
    pool_one(input + (size_t)plane * H * W, output, indices, ((size_t)plane * OH + oh) * OW + ow, oh, ow, g);
#else
    const int oh = get_global_id(0), plane = get_global_id(1);
    if (oh >= OH || plane >= planes) return;
    __global const float* in = input + (size_t)plane * H * W;
    const size_t row = ((size_t)plane * OH + oh) * OW;
    for (int segment = 0; 16 * segment < OW; ++segment) pool_segment(in, output, indices, row, segment, oh, g);
#endif
}
