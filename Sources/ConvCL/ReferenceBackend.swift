/// The CPU reference: plain Swift loops accumulating in Double, written to be obviously right,
/// never fast. Every kernel is tested against it, and it is the fallback when no OpenCL device
/// exists.
public final class ReferenceBackend: Backend {
    public let name = "CPU reference"

    public init() {}

    public func tensor(shape: [Int], data: TensorData) throws -> Tensor {
        try validateTensorData(shape: shape, valueCount: data.count)
        return Tensor(shape: shape, host: data)
    }

    public func conv2d(_ input: Tensor, weight: Tensor, bias: Tensor?, descriptor: Conv2DDescriptor) throws -> Tensor {
        let g = try descriptor.geometry(input: input.shape, weight: weight.shape, bias: bias?.shape)
        let x = try hostValues(input, "conv2d", "input")
        let w = try hostValues(weight, "conv2d", "weight")
        let b = try bias.map { try hostValues($0, "conv2d", "bias") }
        var y = [Float](repeating: 0, count: g.outputShape.reduce(1, *))
        for n in 0..<g.batch {
            for k in 0..<g.outputChannels {
                let firstChannel = (k / g.outputChannelsPerGroup) * g.inputChannelsPerGroup
                for oh in 0..<g.outputHeight {
                    for ow in 0..<g.outputWidth {
                        var sum = 0.0
                        for c in 0..<g.inputChannelsPerGroup {
                            for r in 0..<g.kernelHeight {
                                let ih = oh * g.strideHeight - g.padTop + r * g.dilationHeight
                                guard ih >= 0, ih < g.inputHeight else { continue }
                                for s in 0..<g.kernelWidth {
                                    let iw = ow * g.strideWidth - g.padLeft + s * g.dilationWidth
                                    guard iw >= 0, iw < g.inputWidth else { continue }
                                    // True convolution reads the kernel back to front.
                                    let wr = g.flipped ? g.kernelHeight - 1 - r : r
                                    let ws = g.flipped ? g.kernelWidth - 1 - s : s
                                    let xi = ((n * g.inputChannels + firstChannel + c) * g.inputHeight + ih) * g.inputWidth + iw
                                    let wi = ((k * g.inputChannelsPerGroup + c) * g.kernelHeight + wr) * g.kernelWidth + ws
                                    sum += Double(x[xi]) * Double(w[wi])
                                }
                            }
                        }
                        if let b { sum += Double(b[k]) }
                        let yi = ((n * g.outputChannels + k) * g.outputHeight + oh) * g.outputWidth + ow
                        y[yi] = Float(apply(g.activation, sum))
                    }
                }
            }
        }
        return Tensor(shape: g.outputShape, host: .float32(y))
    }

    /// The float32 values of a tensor this backend can use: a host tensor.
    func hostValues(_ tensor: Tensor, _ operation: String, _ argument: String) throws -> [Float] {
        guard case .float32(let values) = try hostData(tensor.checked(.float32, operation: operation, argument: argument), operation, argument)
        else { fatalError("unreachable: checked type") }
        return values
    }

    /// The values of a tensor this backend can use, of any data type: a host tensor.
    func hostData(_ tensor: Tensor, _ operation: String, _ argument: String) throws -> TensorData {
        guard case .host(let data) = tensor.storage else {
            throw ConvCLError.invalidArgument(
                operation: operation, argument: argument,
                reason: "\(tensor) belongs to an OpenCL backend; the CPU reference takes only its own tensors")
        }
        return data
    }
}

/// An activation applied in double precision (the reference's arithmetic).
func apply(_ activation: Activation, _ value: Double) -> Double {
    switch activation {
    case .none: value
    case .relu: value < 0 ? 0 : value  // NaN stays NaN, as in PyTorch
    case .leakyReLU(let slope): value > 0 ? value : Double(slope) * value
    }
}
