/// Max or average pooling.
public enum PoolingMode: String, Sendable, Hashable {
    case max
    case average
}

/// The parameters of 1-D or 2-D pooling, with PyTorch's and ONNX's output sizes.
///
/// The number of spatial dimensions is `kernel.count` (1: input [N, C, L]; 2: [N, C, H, W]).
/// Output size per axis: ⌊(in + pads − dilation·(k−1) − 1) / stride⌋ + 1, or ⌈…⌉ + 1 with
/// `ceilMode`, where a last window that would start in the right padding is dropped.
public struct PoolDescriptor: Sendable, Hashable {
    /// The window size per spatial axis.
    public var kernel: [Int]
    /// The step per axis; nil means the kernel size (PyTorch's default).
    public var stride: [Int]?
    /// Zero padding as in convolution; padded positions never win a max. Each pad must be smaller
    /// than the kernel on its axis (ONNX's and onnxruntime's rule; PyTorch allows at most half the
    /// kernel). A window holding no input (possible with dilation) gives −∞ and index −1 for max
    /// pooling (onnxruntime gives float32's lowest finite value) and NaN for average pooling
    /// without `countIncludePad`.
    public var padding: Padding
    /// Spacing between window taps per axis; nil means 1.
    public var dilation: [Int]?
    public var ceilMode: Bool
    /// Average pooling: whether padded positions count in the divisor (PyTorch's
    /// `count_include_pad`; ONNX's attribute of the same name).
    public var countIncludePad: Bool

    public init(
        kernel: [Int], stride: [Int]? = nil, padding: Padding = .valid, dilation: [Int]? = nil,
        ceilMode: Bool = false, countIncludePad: Bool = false
    ) {
        self.kernel = kernel
        self.stride = stride
        self.padding = padding
        self.dilation = dilation
        self.ceilMode = ceilMode
        self.countIncludePad = countIncludePad
    }
}

/// A pooling with every size resolved (1-D pooling has height 1).
struct PoolGeometry: Hashable {
    var planes: Int  // N·C
    var inputHeight, inputWidth: Int
    var kernelHeight, kernelWidth: Int
    var outputHeight, outputWidth: Int
    var strideHeight, strideWidth: Int
    var padTop, padLeft, padBottom, padRight: Int
    var dilationHeight, dilationWidth: Int
    var countIncludePad: Bool
    /// The caller's output shape: [N, C, OL] or [N, C, OH, OW].
    var outputShape: [Int]

    /// The taps read: the window's for every output.
    var work: Int { planes * outputHeight * outputWidth * kernelHeight * kernelWidth }
}

extension PoolDescriptor {
    func geometry(input: [Int], operation: String) throws -> PoolGeometry {
        func fail(_ argument: String, _ reason: String) -> ConvCLError {
            .invalidArgument(operation: operation, argument: argument, reason: reason)
        }
        let rank = kernel.count
        guard rank == 1 || rank == 2 else { throw fail("kernel", "expected 1 or 2 sizes, got \(kernel)") }
        let layout = rank == 1 ? "[N, C, L]" : "[N, C, H, W]"
        guard input.count == rank + 2 else {
            throw fail("input", "a \(rank)-D kernel \(kernel) needs rank \(rank + 2) \(layout), got shape \(input)")
        }
        guard input.allSatisfy({ $0 > 0 }) else { throw fail("input", "every dimension must be > 0, got shape \(input)") }
        guard kernel.allSatisfy(attributeSizes.contains) else { throw fail("kernel", "must lie in \(attributeSizes), got \(kernel)") }
        let stride = self.stride ?? kernel
        guard stride.count == rank, stride.allSatisfy(attributeSizes.contains) else {
            throw fail("stride", "expected \(rank) values in \(attributeSizes), got \(stride)")
        }
        let dilation = self.dilation ?? [Int](repeating: 1, count: rank)
        guard dilation.count == rank, dilation.allSatisfy(attributeSizes.contains) else {
            throw fail("dilation", "expected \(rank) values in \(attributeSizes), got \(dilation)")
        }
        let spatial = Array(input.dropFirst(2))
        // A window of more taps than 32-bit indices count (a 10^9 × 10^9 kernel from a model file)
        // is refused on both backends, before any loop over it.
        try checkedElementCount(kernel, operation: operation, argument: "kernel")
        let pads = try resolvePadding(
            padding, input: spatial, kernel: kernel, stride: stride, dilation: dilation, operation: operation)
        var outputs: [Int] = []
        for axis in 0..<rank {
            let extent = dilation[axis] * (kernel[axis] - 1) + 1
            for pad in [pads[axis], pads[rank + axis]] where pad >= kernel[axis] {
                throw fail("padding", "\(pad) is not smaller than the kernel \(kernel[axis]) (ONNX's rule); pads are \(pads)")
            }
            let padded = spatial[axis] + pads[axis] + pads[rank + axis]
            guard extent <= padded else {
                throw fail(
                    "kernel",
                    "the dilated window \(extent) is larger than the padded input \(padded) (input shape \(input), pads \(pads))")
            }
            let span = padded - extent
            var size = (ceilMode ? (span + stride[axis] - 1) / stride[axis] : span / stride[axis]) + 1
            // PyTorch and ONNX drop a last window that would start in the right padding.
            if ceilMode && (size - 1) * stride[axis] >= spatial[axis] + pads[axis] { size -= 1 }
            outputs.append(size)
        }
        try checkedElementCount([input[0], input[1]] + outputs, operation: operation, argument: "output")
        // 1-D runs as 2-D with height 1.
        let (h, r, sh, dh) = rank == 2 ? (spatial[0], kernel[0], stride[0], dilation[0]) : (1, 1, 1, 1)
        let (top, bottom) = rank == 2 ? (pads[0], pads[2]) : (0, 0)
        return PoolGeometry(
            planes: input[0] * input[1], inputHeight: h, inputWidth: spatial[rank - 1],
            kernelHeight: r, kernelWidth: kernel[rank - 1],
            outputHeight: rank == 2 ? outputs[0] : 1, outputWidth: outputs[rank - 1],
            strideHeight: sh, strideWidth: stride[rank - 1],
            padTop: top, padLeft: pads[rank - 1], padBottom: bottom, padRight: pads[2 * rank - 1],
            dilationHeight: dh, dilationWidth: dilation[rank - 1], countIncludePad: countIncludePad,
            outputShape: [input[0], input[1]] + outputs)
    }
}
