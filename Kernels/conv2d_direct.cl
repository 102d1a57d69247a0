// Direct 2-D convolution, one work-item per output element.
// Layout: input [N][C][H][W], weight [K][C/groups][R][S], bias [K] or NULL, output [N][K][OH][OW].
// Global size: (OW, OH, N*K).
// flip = 1 reads the kernel back to front (true convolution); activation: 0 none, 1 ReLU,
// 2 leaky ReLU with `slope`.

__kernel void conv2d_direct(
    __global const float* restrict input,
    __global const float* restrict weight,
    __global const float* restrict bias,
    __global float* restrict output,
    const int N, const int C, const int H, const int W,
    const int K, const int R, const int S, const int OH, const int OW,
    const int strideH, const int strideW, const int padTop, const int padLeft,
    const int dilationH, const int dilationW, const int groups,
    const int flip, const int activation, const float slope)
{
    const int ow = get_global_id(0);
    const int oh = get_global_id(1);
    const int nk = get_global_id(2);
    if (ow >= OW || oh >= OH || nk >= N * K) return;
    const int n = nk / K;
    const int k = nk % K;
    const int channelsPerGroup = C / groups;
    const int firstChannel = (k / (K / groups)) * channelsPerGroup;

    float sum = 0.0f;
    for (int c = 0; c < channelsPerGroup; ++c) {
        __global const float* plane = input + (size_t)(n * C + firstChannel + c) * H * W;
        __global const float* taps = weight + (size_t)(k * channelsPerGroup + c) * R * S;
        for (int r = 0; r < R; ++r) {
            const int ih = oh * strideH - padTop + r * dilationH;
            if (ih < 0 || ih >= H) continue;
            const int wr = flip ? R - 1 - r : r;
            for (int s = 0; s < S; ++s) {
                const int iw = ow * strideW - padLeft + s * dilationW;
                if (iw < 0 || iw >= W) continue;
                const int ws = flip ? S - 1 - s : s;
                sum = fma(plane[ih * W + iw], taps[wr * S + ws], sum);
            }
        }
    }
    if (bias) sum += bias[k];
    if (activation == 1) sum = sum < 0.0f ? 0.0f : sum;  // NaN stays NaN, as in PyTorch
    else if (activation == 2) sum = sum > 0.0f ? sum : slope * sum;
    output[((size_t)nk * OH + oh) * OW + ow] = sum;
}
