// One axis of Resize (ONNX, nearest and linear): input viewed as [outer][n][inner], output
// [outer][m][inner]. Output index j of the axis reads input indices taps[2j] and taps[2j + 1] and
// blends them with weights[j] (nearest: the same index twice, weight 0). The host computes the
// taps from ONNX's coordinate formulas, so this kernel serves every mode.

__kernel void resize_axis(
    __global float* restrict output, __global const float* restrict input, __global const long* restrict taps,
    __global const float* restrict weights, const int count, const int n, const int m, const int inner)
{
    const int o = get_global_id(0);
    if (o >= count) return;
    const int k = o % inner;
    const int j = (o / inner) % m;
    const size_t base = (size_t)(o / (inner * m)) * n * inner + k;
    const float a = input[base + (size_t)taps[2 * j] * inner];
    const float b = input[base + (size_t)taps[2 * j + 1] * inner];
    output[o] = a + (b - a) * weights[j];
}
