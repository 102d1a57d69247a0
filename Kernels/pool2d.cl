// 2-D max and average pooling (1-D runs with height 1). Layout: input [planes][H][W]
// (planes = N*C), output [planes][OH][OW]. The window is fixed at build time by defines
// (WINDOW_R, WINDOW_S, STRIDE_H, STRIDE_W, PAD_TOP, PAD_LEFT, PAD_BOTTOM, PAD_RIGHT, DILATION_H,
// DILATION_W, MODE, COUNT_INCLUDE_PAD), so the tap loops unroll.
// MODE 0 = max: padding never wins; a NaN does (PyTorch's rule: a later NaN replaces an earlier
//   one), and ties keep the first tap. `indices` (may be NULL) receives the argmax as a flat index
//   ih*W + iw into the input plane.
// MODE 1 = average: the divisor counts the taps inside the input, or with COUNT_INCLUDE_PAD the
//   taps inside the padded input (a ceil-mode window's part past the padding never counts).
//
// Each segment of 16 outputs [16·segment, 16·segment + 16) of a row: where every
// tap of those windows lies inside the input, it computes them as one float16 (the last segment
// of a row shifts left to stay whole and stores only its own outputs); elsewhere, output by
// output.

// The input row under 16 windows' tap: p[0], p[STRIDE_W], …, p[15·STRIDE_W]. Strides 1 and 2 load
// vectors (stride 2: the even lanes of p[0 … 15] and the odd ones of p[15 … 30], a constant
// permute: 14 → 30 GB/s on the benchmark's max pooling); others element by element.
inline float16 load_row(__global const float* p)
{
#if STRIDE_W == 1
    return vload16(0, p);
#elif STRIDE_W == 2
    return shuffle2(vload16(0, p), vload16(0, p + 15), (uint16)(0, 2, 4, 6, 8, 10, 12, 14, 17, 19, 21, 23, 25, 27, 29, 31));
#else
    float values[16];
    for (int j = 0; j < 16; ++j) values[j] = p[j * STRIDE_W];
    return vload16(0, values);
#endif
}

inline void pool_one(
    __global const float* in, __global float* output, __global long* indices,
    const size_t out, const int oh, const int ow, const int H, const int W)
{
    float best = -INFINITY;
    int bestIndex = -1;
    float sum = 0.0f;
    int inputTaps = 0;
    int paddedTaps = 0;
    for (int r = 0; r < WINDOW_R; ++r) {
        const int ih = oh * STRIDE_H - PAD_TOP + r * DILATION_H;
        for (int s = 0; s < WINDOW_S; ++s) {
            const int iw = ow * STRIDE_W - PAD_LEFT + s * DILATION_W;
            paddedTaps += (ih >= -PAD_TOP && ih < H + PAD_BOTTOM && iw >= -PAD_LEFT && iw < W + PAD_RIGHT);
            if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
            const int index = ih * W + iw;
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
    if (indices) indices[out] = bestIndex;
#else
    output[out] = sum / (float)(COUNT_INCLUDE_PAD ? paddedTaps : inputTaps);
#endif
}

// Outputs [16·segment, 16·segment + 16) of output row oh of a plane.
inline void pool_segment(
    __global const float* restrict input, __global float* restrict output, __global long* restrict indices,
    const int planes, const int H, const int W, const int OH, const int OW, const int segment, const int oh, const int plane)
{
    const int first = segment * 16;
    if (first >= OW || oh >= OH || plane >= planes) return;
    __global const float* in = input + (size_t)plane * H * W;
    const size_t row = ((size_t)plane * OH + oh) * OW;

    const int start = min(first, OW - 16);
    const int ih0 = oh * STRIDE_H - PAD_TOP;
    const int iw0 = start * STRIDE_W - PAD_LEFT;
    const bool interior = OW >= 16 && ih0 >= 0 && ih0 + (WINDOW_R - 1) * DILATION_H < H && iw0 >= 0
        && iw0 + 15 * STRIDE_W + (WINDOW_S - 1) * DILATION_W < W;
    if (!interior) {
        for (int ow = first; ow < min(first + 16, OW); ++ow) pool_one(in, output, indices, row + ow, oh, ow, H, W);
        return;
    }

    const int16 lane = (int16)(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15) * STRIDE_W;
    float16 result = (float16)(0.0f);
    int16 bestIndex = (int16)(0);
    for (int r = 0; r < WINDOW_R; ++r) {
        for (int s = 0; s < WINDOW_S; ++s) {
            const int offset = (ih0 + r * DILATION_H) * W + iw0 + s * DILATION_W;
            const float16 value = load_row(in + offset);
#if MODE == 0
            if (r == 0 && s == 0) {
                result = value;
                bestIndex = offset + lane;
            } else {
                const int16 take = isgreater(value, result) | isnan(value);
                result = select(result, value, take);
                bestIndex = select(bestIndex, offset + lane, take);
            }
#else
            result += value;
#endif
        }
    }
#if MODE == 1
    result /= (float)(WINDOW_R * WINDOW_S);
#endif
    // The last segment of a row shifts left to stay whole; the outputs it shares with the one
    // before were written by this work-item with the same values.
    STORE(float16, result, output + row + start);
    if (indices) STORE(long16, convert_long16(bestIndex), indices + row + start);
}

// Work-item (oh, plane) computes output row oh of a plane, 16 outputs at a time.
__kernel void pool2d(
    __global const float* restrict input,
    __global float* restrict output,
    __global long* restrict indices,
    const int planes, const int H, const int W, const int OH, const int OW)
{
    for (int segment = 0; 16 * segment < OW; ++segment)
        pool_segment(input, output, indices, planes, H, W, OH, OW, segment, get_global_id(0), get_global_id(1));
}
