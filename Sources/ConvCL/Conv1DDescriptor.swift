/// The parameters of a 1-D convolution over NCL float32 tensors (raw audio, or a spectrogram's
/// frames): input [N, C, L], weight [K, C/groups, S], optional bias [K], output [N, K, OL].
///
/// It runs as a 2-D convolution of height 1, so it has exactly conv2d's semantics.
public struct Conv1DDescriptor: Sendable, Hashable {
    public var stride: Int
    /// `.explicit([left, right])`, `.valid`, `.sameUpper` or `.sameLower`.
    public var padding: Padding
    public var dilation: Int
    public var groups: Int
    public var mode: ConvolutionMode
    public var activation: Activation

    public init(
        stride: Int = 1, padding: Padding = .valid, dilation: Int = 1, groups: Int = 1,
        mode: ConvolutionMode = .crossCorrelation, activation: Activation = .none
    ) {
        self.stride = stride
        self.padding = padding
        self.dilation = dilation
        self.groups = groups
        self.mode = mode
        self.activation = activation
    }

    /// The same convolution as a 2-D one over [N, C, 1, L].
    var as2D: Conv2DDescriptor {
        let padding2D: Padding =
            switch padding {
            case .explicit(let pads) where pads.count == 2: .explicit([0, pads[0], 0, pads[1]])
            default: padding  // validated by `geometry`, which names the 1-D form
            }
        return Conv2DDescriptor(
            stride: [1, stride], padding: padding2D, dilation: [1, dilation], groups: groups, mode: mode,
            activation: activation)
    }

    /// Checks the 1-D shapes and parameters (errors name the 1-D forms), then resolves the
    /// 2-D geometry.
    func geometry(input: [Int], weight: [Int], bias: [Int]?) throws -> ConvolutionGeometry {
        func fail(_ argument: String, _ reason: String) -> ConvCLError {
            .invalidArgument(operation: "conv1d", argument: argument, reason: reason)
        }
        guard input.count == 3 else { throw fail("input", "expected rank 3 [N, C, L], got shape \(input)") }
        guard weight.count == 3 else { throw fail("weight", "expected rank 3 [K, C/groups, S], got shape \(weight)") }
        guard attributeSizes.contains(stride) else { throw fail("stride", "must lie in \(attributeSizes), got \(stride)") }
        guard attributeSizes.contains(dilation) else { throw fail("dilation", "must lie in \(attributeSizes), got \(dilation)") }
        if case .explicit(let pads) = padding, pads.count != 2 {
            throw fail("padding", "expected 2 values [left, right], got \(pads)")
        }
        do {
            return try as2D.geometry(
                input: [input[0], input[1], 1, input[2]], weight: [weight[0], weight[1], 1, weight[2]], bias: bias)
        } catch ConvCLError.invalidArgument(_, let argument, let reason) {
            throw fail(argument, reason)
        }
    }
}
