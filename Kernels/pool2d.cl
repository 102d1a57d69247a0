// 2-D max and average pooling (1-D runs with height 1), one work-item per output element.
// Layout: input [planes][H][W] (planes = N*C), output [planes][OH][OW]. Global size (OW, OH, planes).
// mode 0 = max: padding never wins; a NaN does (PyTorch's rule), and ties keep the first tap.
//   `indices` (may be NULL) receives the argmax as a flat index ih*W + iw into the input plane.
// mode 1 = average: the divisor counts the taps inside the input, or with countIncludePad the
//   taps inside the padded input (a ceil-mode window's part past the padding never counts).

__kernel void pool2d(
    __global const float* restrict input,
    __global float* restrict output,
    __global long* restrict indices,
    const int planes, const int H, const int W, const int OH, const int OW,
    const int R, const int S, const int strideH, const int strideW,
    const int padTop, const int padLeft, const int padBottom, const int padRight,
    const int dilationH, const int dilationW, const int mode, const int countIncludePad)
{
    const int ow = get_global_id(0);
    const int oh = get_global_id(1);
    const int plane = get_global_id(2);
    if (ow >= OW || oh >= OH || plane >= planes) return;
    __global const float* in = input + (size_t)plane * H * W;

    float best = -INFINITY;
    int bestIndex = -1;
    float sum = 0.0f;
    int inputTaps = 0;
    int paddedTaps = 0;
    for (int r = 0; r < R; ++r) {
        const int ih = oh * strideH - padTop + r * dilationH;
        for (int s = 0; s < S; ++s) {
            const int iw = ow * strideW - padLeft + s * dilationW;
            paddedTaps += (ih >= -padTop && ih < H + padBottom && iw >= -padLeft && iw < W + padRight);
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
    const size_t out = ((size_t)plane * OH + oh) * OW + ow;
    if (mode == 0) {
        output[out] = best;
        if (indices) indices[out] = bestIndex;
    } else {
        output[out] = sum / (float)(countIncludePad ? paddedTaps : inputTaps);
    }
}
