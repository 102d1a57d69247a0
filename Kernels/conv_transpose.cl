// Transposed convolution (ONNX ConvTranspose), 1-D as 2-D with height 1. Layouts: input
// [N][C][H][W], weight [C][M/groups][KH][KW] (input channels first), bias [M] or null, output
// [N][M][OH][OW]. Input position (ih, iw) through tap (kh, kw) lands on output
// (ih·strideH − padTop + kh·dilationH, …), so each work-item gathers, for its output, the taps
// whose offset is a multiple of the stride: no atomics, and every sum in one fixed order.
// Sizes are arguments: one program serves every shape.

__kernel void conv_transpose(
    __global float* restrict output, __global const float* restrict input, __global const float* restrict weight,
    __global const float* restrict bias, const int count,
    const int C, const int H, const int W, const int M, const int OH, const int OW, const int KH, const int KW,
    const int strideH, const int strideW, const int padTop, const int padLeft, const int dilationH, const int dilationW,
    const int groups)
{
    const int o = get_global_id(0);
    if (o >= count) return;
    const int ow = o % OW;
    const int oh = (o / OW) % OH;
    const int m = (o / (OW * OH)) % M;
    const int n = o / (OW * OH * M);
    const int channelsPerGroup = C / groups, filtersPerGroup = M / groups;
    const int group = m / filtersPerGroup;
    const size_t plane = (size_t)H * W;
    __global const float* x = input + ((size_t)n * C + (size_t)group * channelsPerGroup) * plane;
    __global const float* w = weight + ((size_t)group * channelsPerGroup * filtersPerGroup + m % filtersPerGroup) * KH * KW;
    const size_t weightStep = (size_t)filtersPerGroup * KH * KW;
    float sum = 0.0f;
    for (int kh = 0; kh < KH; ++kh) {
        const int sh = oh + padTop - kh * dilationH;
        if (sh < 0 || sh % strideH != 0 || sh / strideH >= H) continue;
        const int ih = sh / strideH;
        for (int kw = 0; kw < KW; ++kw) {
            const int sw = ow + padLeft - kw * dilationW;
            if (sw < 0 || sw % strideW != 0 || sw / strideW >= W) continue;
            const size_t position = (size_t)ih * W + sw / strideW;
            const int tap = kh * KW + kw;
            for (int c = 0; c < channelsPerGroup; ++c) sum = fma(x[c * plane + position], w[c * weightStep + tap], sum);
        }
    }
    output[o] = sum + (bias ? bias[m] : 0.0f);
}
