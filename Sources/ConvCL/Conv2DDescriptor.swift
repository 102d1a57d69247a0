/// How the spatial borders of an input are padded, with ONNX's rules.
public enum Padding: Sendable, Hashable {
    /// Zeros added per side, in ONNX `pads` order: all the beginnings, then all the ends.
    /// 2-D: [top, left, bottom, right]; 1-D: [left, right].
    case explicit([Int])
    /// No padding (ONNX `VALID`).
    case valid
    /// Output size ceil(input / stride); an odd total padding puts the extra zero at the end
    /// (ONNX `SAME_UPPER`, PyTorch `padding="same"` for stride 1).
    case sameUpper
    /// As `sameUpper`, with the extra zero at the beginning (ONNX `SAME_LOWER`).
    case sameLower
}

/// Cross-correlation (what CNN layers compute) or true convolution (the kernel flipped).
public enum ConvolutionMode: String, Sendable, Hashable {
    case crossCorrelation = "cross-correlation"
    case convolution
}

/// An activation applied to a convolution's output after the bias, in the same kernel.
public enum Activation: Sendable, Hashable {
    case none
    case relu
    /// x for x > 0, slope · x otherwise.
    case leakyReLU(slope: Float)
}

/// The parameters of a 2-D convolution over NCHW float32 tensors.
///
/// Input [N, C, H, W], weight [K, C/groups, R, S], optional bias [K]; output [N, K, OH, OW] with
/// OH = ⌊(H + padTop + padBottom − dilationH·(R−1) − 1) / strideH⌋ + 1, as in PyTorch and ONNX.
public struct Conv2DDescriptor: Sendable, Hashable {
    /// Steps between output positions: [vertical, horizontal].
    public var stride: [Int]
    public var padding: Padding
    /// Spacing between kernel taps: [vertical, horizontal].
    public var dilation: [Int]
    /// Input and output channels are split into this many groups, each convolved separately;
    /// groups == C is depthwise.
    public var groups: Int
    public var mode: ConvolutionMode
    public var activation: Activation

    public init(
        stride: [Int] = [1, 1], padding: Padding = .valid, dilation: [Int] = [1, 1],
        groups: Int = 1, mode: ConvolutionMode = .crossCorrelation, activation: Activation = .none
    ) {
        self.stride = stride
        self.padding = padding
        self.dilation = dilation
        self.groups = groups
        self.mode = mode
        self.activation = activation
    }
}

/// A convolution with every size resolved, as the backends run it. Produced only by validation,
/// so every field is consistent.
struct ConvolutionGeometry: Hashable {
    var batch, inputChannels, inputHeight, inputWidth: Int
    var outputChannels, kernelHeight, kernelWidth: Int
    var outputHeight, outputWidth: Int
    var strideHeight, strideWidth: Int
    var padTop, padLeft: Int
    var dilationHeight, dilationWidth: Int
    var groups: Int
    var flipped: Bool
    var activation: Activation
    var hasBias: Bool

    var outputShape: [Int] { [batch, outputChannels, outputHeight, outputWidth] }
    var inputChannelsPerGroup: Int { inputChannels / groups }
    var outputChannelsPerGroup: Int { outputChannels / groups }
}

extension Conv2DDescriptor {
    /// Checks the descriptor against the operand shapes and resolves every size.
    /// - Throws: `ConvCLError.invalidArgument` naming the operation, the argument and the values.
    func geometry(input: [Int], weight: [Int], bias: [Int]?) throws -> ConvolutionGeometry {
        let operation = "conv2d"
        func fail(_ argument: String, _ reason: String) -> ConvCLError {
            .invalidArgument(operation: operation, argument: argument, reason: reason)
        }
        guard input.count == 4 else { throw fail("input", "expected rank 4 [N, C, H, W], got shape \(input)") }
        guard weight.count == 4 else { throw fail("weight", "expected rank 4 [K, C/groups, R, S], got shape \(weight)") }
        guard stride.count == 2, stride.allSatisfy(attributeSizes.contains) else {
            throw fail("stride", "expected two values in \(attributeSizes), got \(stride)")
        }
        guard dilation.count == 2, dilation.allSatisfy(attributeSizes.contains) else {
            throw fail("dilation", "expected two values in \(attributeSizes), got \(dilation)")
        }
        let (n, c, h, w) = (input[0], input[1], input[2], input[3])
        let (k, cPerGroup, r, s) = (weight[0], weight[1], weight[2], weight[3])
        guard input.allSatisfy({ $0 > 0 }) else { throw fail("input", "every dimension must be > 0, got shape \(input)") }
        guard weight.allSatisfy({ $0 > 0 }) else { throw fail("weight", "every dimension must be > 0, got shape \(weight)") }
        guard groups > 0 else { throw fail("groups", "must be > 0, got \(groups)") }
        guard c % groups == 0 else { throw fail("groups", "input channels \(c) are not divisible by groups \(groups)") }
        guard k % groups == 0 else { throw fail("groups", "filters \(k) are not divisible by groups \(groups)") }
        guard cPerGroup == c / groups else {
            throw fail("weight", "has \(cPerGroup) channels per filter; input channels \(c) / groups \(groups) = \(c / groups)")
        }
        if let bias, bias != [k] { throw fail("bias", "expected shape [\(k)] (one per filter), got \(bias)") }
        try validate(activation, operation: operation)
        let pads = try resolvePadding(
            padding, input: [h, w], kernel: [r, s], stride: stride, dilation: dilation, operation: operation)
        let outputHeight = try outputSize(
            "height", input: h, padBegin: pads[0], padEnd: pads[2], kernel: r, stride: stride[0],
            dilation: dilation[0], operation: operation)
        let outputWidth = try outputSize(
            "width", input: w, padBegin: pads[1], padEnd: pads[3], kernel: s, stride: stride[1],
            dilation: dilation[1], operation: operation)
        try checkedElementCount([n, k, outputHeight, outputWidth], operation: operation, argument: "output")
        return ConvolutionGeometry(
            batch: n, inputChannels: c, inputHeight: h, inputWidth: w,
            outputChannels: k, kernelHeight: r, kernelWidth: s,
            outputHeight: outputHeight, outputWidth: outputWidth,
            strideHeight: stride[0], strideWidth: stride[1], padTop: pads[0], padLeft: pads[1],
            dilationHeight: dilation[0], dilationWidth: dilation[1], groups: groups,
            flipped: mode == .convolution, activation: activation, hasBias: bias != nil)
    }
}

/// The strides, dilations and kernel sizes the operations take: positive, and within the kernels'
/// 32-bit indices, so that sizes computed from them cannot overflow (a model file can say 2^62).
let attributeSizes = 1...Int(Int32.max)

/// Resolves a padding to explicit ONNX-order pads (beginnings, then ends) for `input.count`
/// spatial dimensions.
func resolvePadding(
    _ padding: Padding, input: [Int], kernel: [Int], stride: [Int], dilation: [Int], operation: String
) throws -> [Int] {
    let rank = input.count
    switch padding {
    case .explicit(let pads):
        guard pads.count == 2 * rank else {
            let order = rank == 2 ? "[top, left, bottom, right]" : "[left, right]"
            throw ConvCLError.invalidArgument(
                operation: operation, argument: "padding", reason: "expected \(2 * rank) values \(order), got \(pads)")
        }
        guard pads.allSatisfy({ $0 >= 0 }) else {
            throw ConvCLError.invalidArgument(
                operation: operation, argument: "padding", reason: "must be ≥ 0, got \(pads)")
        }
        // Sizes plus pads must not overflow (a model file can say 2^62).
        guard pads.allSatisfy({ $0 <= Int(Int32.max) }) else {
            throw ConvCLError.invalidArgument(
                operation: operation, argument: "padding", reason: "must be at most \(Int32.max), got \(pads)")
        }
        return pads
    case .valid:
        return [Int](repeating: 0, count: 2 * rank)
    case .sameUpper, .sameLower:
        // ONNX: output = ceil(input / stride); the total padding makes the last window fit.
        var begins: [Int] = []
        var ends: [Int] = []
        for axis in 0..<rank {
            let output = (input[axis] + stride[axis] - 1) / stride[axis]
            let extent = dilation[axis] * (kernel[axis] - 1) + 1
            let total = max(0, (output - 1) * stride[axis] + extent - input[axis])
            let smaller = total / 2
            begins.append(padding == .sameUpper ? smaller : total - smaller)
            ends.append(padding == .sameUpper ? total - smaller : smaller)
        }
        return begins + ends
    }
}

/// The output size along one axis: ⌊(input + pads − dilated kernel) / stride⌋ + 1.
/// - Throws: when the dilated kernel is larger than the padded input.
func outputSize(
    _ axis: String, input: Int, padBegin: Int, padEnd: Int, kernel: Int, stride: Int, dilation: Int,
    operation: String
) throws -> Int {
    let padded = input + padBegin + padEnd
    let extent = dilation * (kernel - 1) + 1
    guard extent <= padded else {
        throw ConvCLError.invalidArgument(
            operation: operation, argument: "kernel",
            reason: "\(axis): the dilated kernel spans \(extent) (kernel \(kernel), dilation \(dilation)), "
                + "more than the padded input \(padded) (input \(input) + padding \(padBegin) + \(padEnd))")
    }
    return (padded - extent) / stride + 1
}
