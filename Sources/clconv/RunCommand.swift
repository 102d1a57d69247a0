import ArgumentParser
import ConvCL
import Foundation

struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Runs one operator on NumPy .npy files (float32, C order).",
        discussion: """
            Convolutions need --weight (and take --bias); pooling needs --kernel; reduce needs --op. \
            An option the operator does not take is an error. Sizes are comma-separated, one value per \
            spatial dimension (--stride 2,2; 1-D operators take one value). \
            With --backward (convolutions and pooling), the forward runs with the same options, then \
            its backward pass: --grad-output is the gradient of the forward's output, and each of \
            --grad-input, --grad-weight and --grad-bias given is computed and written (PyTorch's \
            gradients of the same operator); --output is then optional.
            """
    )

    enum Operator: String, ExpressibleByArgument, CaseIterable {
        case conv2d, conv1d, maxpool2d, maxpool1d, avgpool2d, avgpool1d
        case globalAvgpool = "global-avgpool", globalMaxpool = "global-maxpool"
        case reduce

        var spatialRank: Int { [.conv1d, .maxpool1d, .avgpool1d].contains(self) ? 1 : 2 }
        var isConvolution: Bool { self == .conv2d || self == .conv1d }
        var isPooling: Bool { [.maxpool2d, .maxpool1d, .avgpool2d, .avgpool1d].contains(self) }
        var isMaxPooling: Bool { self == .maxpool2d || self == .maxpool1d }
    }

    @Argument(help: "The operator: \(Operator.allCases.map(\.rawValue).joined(separator: ", ")).")
    var operation: Operator

    @Option(help: "The input tensor (.npy): [N, C, H, W], or [N, C, L] for 1-D operators; any shape for reduce.")
    var input: String
    @Option(help: "Convolutions: the weights (.npy), [K, C/groups, R, S] or [K, C/groups, S].")
    var weight: String?
    @Option(help: "Convolutions: the bias (.npy), [K]. Default: none.")
    var bias: String?
    @Option(help: "Where to write the result (.npy); with --backward, optional.")
    var output: String?
    @Option(help: "Max pooling: where to write the argmax indices (.npy, int64, flat per input plane). Default: not written.")
    var indices: String?
    @OptionGroup var device: DeviceOption

    @Flag(help: "Convolutions and pooling: run the backward pass too (see below).")
    var backward = false
    @Option(help: "--backward: the gradient of the output (.npy), of the forward's output shape.")
    var gradOutput: String?
    @Option(help: "--backward: where to write the gradient of the input (.npy).")
    var gradInput: String?
    @Option(help: "--backward of a convolution: where to write the gradient of the weight (.npy).")
    var gradWeight: String?
    @Option(help: "--backward of a convolution: where to write the gradient of the bias (.npy), given --bias or not.")
    var gradBias: String?

    @Option(help: "Convolution and pooling: steps per spatial dimension. Default: 1 for convolutions, the kernel size for pooling.")
    var stride: String?
    @Option(help: "Convolution and pooling: T,L,B,R (1-D: L,R), or valid, same-upper, same-lower. Default: valid (no padding).")
    var padding: String?
    @Option(help: "Convolution and pooling: tap spacing per spatial dimension. Default: 1.")
    var dilation: String?
    @Option(help: "Convolutions: channel groups (C for depthwise). Default: 1.")
    var groups: Int?
    @Option(help: "Convolutions: cross-correlation or convolution (kernel flipped). Default: cross-correlation.")
    var mode: String?
    @Option(help: "Convolutions: none, relu or leaky-relu, applied after the bias. Default: none.")
    var activation: String?
    // Unconditional parsing: a value that starts with "-" (a negative slope or axis) is the
    // option's value as the user typed it, not another option.
    @Option(parsing: .unconditional, help: "Convolutions: the leaky ReLU slope. Default: 0.01.")
    var slope: Float?
    @Option(help: ArgumentHelp(
        "Convolutions on an OpenCL device: direct, im2col-gemm or winograd, instead of the backend's choice.",
        discussion: "winograd computes 3×3 convolutions with stride 1, dilation 1 and one group, and rounds 2–4× more than im2col-gemm. Default: the backend's choice.",
        valueName: "algorithm"))
    var algorithm: String?
    @Option(help: "Pooling: the window size per spatial dimension (required).")
    var kernel: String?
    @Flag(help: "Pooling: round output sizes up (a window starting in the right padding is dropped).")
    var ceilMode = false
    @Flag(help: "Average pooling: count padded positions in the divisor.")
    var countIncludePad = false
    @Option(name: .customLong("op"), help: "Reduce: sum, mean, max, min, prod, l1, l2, sumsquare, logsum or logsumexp (required).")
    var reduction: String?
    @Option(parsing: .unconditional, help: "Reduce: comma-separated axes, negative from the end. Default: all axes.")
    var axes: String?
    @Flag(inversion: .prefixedNo, help: "Reduce: keep reduced axes as size 1.")
    var keepdims = true

    func validate() throws {
        var misplaced: [String] = []
        func allow(_ name: String, _ given: Bool, when allowed: Bool) { if given && !allowed { misplaced.append("--\(name)") } }
        let op = operation
        allow("weight", weight != nil, when: op.isConvolution)
        allow("bias", bias != nil, when: op.isConvolution)
        allow("groups", groups != nil, when: op.isConvolution)
        allow("mode", mode != nil, when: op.isConvolution)
        allow("activation", activation != nil, when: op.isConvolution)
        allow("slope", slope != nil, when: op.isConvolution)
        allow("algorithm", algorithm != nil, when: op.isConvolution)
        allow("stride", stride != nil, when: op.isConvolution || op.isPooling)
        allow("padding", padding != nil, when: op.isConvolution || op.isPooling)
        allow("dilation", dilation != nil, when: op.isConvolution || op.isPooling)
        allow("kernel", kernel != nil, when: op.isPooling)
        allow("ceil-mode", ceilMode, when: op.isPooling)
        allow("count-include-pad", countIncludePad, when: op == .avgpool1d || op == .avgpool2d)
        allow("indices", indices != nil, when: op.isMaxPooling)
        allow("op", reduction != nil, when: op == .reduce)
        allow("axes", axes != nil, when: op == .reduce)
        allow("no-keepdims", !keepdims, when: op == .reduce)
        allow("backward", backward, when: op.isConvolution || op.isPooling)
        for (name, value) in [("grad-output", gradOutput), ("grad-input", gradInput)] { allow(name, value != nil, when: backward) }
        for (name, value) in [("grad-weight", gradWeight), ("grad-bias", gradBias)] {
            allow(name, value != nil, when: backward && op.isConvolution)
        }
        if !misplaced.isEmpty {
            throw ValidationError("\(op.rawValue) does not take \(misplaced.joined(separator: ", "))")
        }
        if !backward && output == nil { throw ValidationError("\(op.rawValue) needs --output") }
        if op.isConvolution && weight == nil { throw ValidationError("\(op.rawValue) needs --weight") }
        if op.isPooling && kernel == nil { throw ValidationError("\(op.rawValue) needs --kernel") }
        if op == .reduce && reduction == nil { throw ValidationError("reduce needs --op") }
        if backward && gradOutput == nil { throw ValidationError("--backward needs --grad-output") }
        if backward && [gradInput, gradWeight, gradBias].allSatisfy({ $0 == nil }) {
            throw ValidationError("--backward needs a gradient to write: --grad-input\(op.isConvolution ? ", --grad-weight or --grad-bias" : "")")
        }
        if let algorithm, ConvolutionAlgorithm(rawValue: algorithm) == nil {
            throw ValidationError(
                "--algorithm \(algorithm): expected \(ConvolutionAlgorithm.allCases.map(\.rawValue).joined(separator: ", "))")
        }
    }

    /// The device's backend, with the convolution algorithm forced when --algorithm is given.
    func backend() throws -> any Backend {
        let backend = try device.backend()
        guard let name = algorithm, let algorithm = ConvolutionAlgorithm(rawValue: name) else { return backend }
        guard let openCL = backend as? OpenCLBackend else {
            throw ValidationError("--algorithm needs an OpenCL device; the device is \(backend.name)")
        }
        return try OpenCLBackend(device: .index(openCL.device.index), convolution: .init(algorithm: algorithm))
    }

    func run() throws {
        let backend = try self.backend()
        let x = try load(input, backend)
        let rank = operation.spatialRank
        switch operation {
        case .conv2d, .conv1d:
            let w = try load(weight!, backend)
            let b = try bias.map { try load($0, backend) }
            let stride = try self.stride.map { try parseSizes($0, option: "stride", count: rank) } ?? [Int](repeating: 1, count: rank)
            let dilation = try self.dilation.map { try parseSizes($0, option: "dilation", count: rank) } ?? [Int](repeating: 1, count: rank)
            let padding = try parsePadding(self.padding, rank: rank)
            let mode = try parseMode()
            let activation = try parseActivation()
            let y: Tensor
            let gradients: ConvolutionGradients?
            let computing = GradientSelection([gradInput.map { _ in .input }, gradWeight.map { _ in .weight }, gradBias.map { _ in .bias }].compactMap { $0 })
            if operation == .conv2d {
                let descriptor = Conv2DDescriptor(
                    stride: stride, padding: padding, dilation: dilation, groups: groups ?? 1, mode: mode, activation: activation)
                y = try backend.conv2d(x, weight: w, bias: b, descriptor: descriptor)
                gradients = try gradOutput.map {
                    try backend.conv2dBackward(
                        gradOutput: try load($0, backend), input: x, weight: w, output: y, descriptor: descriptor, computing: computing)
                }
            } else {
                let descriptor = Conv1DDescriptor(
                    stride: stride[0], padding: padding, dilation: dilation[0], groups: groups ?? 1, mode: mode, activation: activation)
                y = try backend.conv1d(x, weight: w, bias: b, descriptor: descriptor)
                gradients = try gradOutput.map {
                    try backend.conv1dBackward(
                        gradOutput: try load($0, backend), input: x, weight: w, output: y, descriptor: descriptor, computing: computing)
                }
            }
            try output.map { try save(y, $0) }
            for (tensor, path) in [(gradients?.input, gradInput), (gradients?.weight, gradWeight), (gradients?.bias, gradBias)] {
                if let tensor, let path { try save(tensor, path) }
            }
        case .maxpool2d, .maxpool1d, .avgpool2d, .avgpool1d:
            let descriptor = PoolDescriptor(
                kernel: try parseSizes(kernel!, option: "kernel", count: rank),
                stride: try stride.map { try parseSizes($0, option: "stride", count: rank) },
                padding: try parsePadding(padding, rank: rank),
                dilation: try dilation.map { try parseSizes($0, option: "dilation", count: rank) },
                ceilMode: ceilMode, countIncludePad: countIncludePad)
            let gradient = try gradOutput.map { try load($0, backend) }
            if operation.isMaxPooling {
                let (values, argmax) = try backend.maxPoolWithIndices(x, descriptor: descriptor)
                let indexValues = indices == nil ? nil : try argmax.int64Values()
                let inputGradient = try gradient.map {
                    try backend.maxPoolBackward(gradOutput: $0, indices: argmax, inputShape: x.shape, descriptor: descriptor)
                }
                try output.map { try save(values, $0) }
                if let indices, let indexValues {
                    try NPY.write(NPYArray(shape: argmax.shape, int64: indexValues), path: indices)
                }
                if let inputGradient, let gradInput { try save(inputGradient, gradInput) }
            } else {
                let values = try backend.averagePool(x, descriptor: descriptor)
                let inputGradient = try gradient.map { try backend.averagePoolBackward(gradOutput: $0, inputShape: x.shape, descriptor: descriptor) }
                try output.map { try save(values, $0) }
                if let inputGradient, let gradInput { try save(inputGradient, gradInput) }
            }
        case .globalAvgpool:
            try save(try backend.globalAveragePool(x), output!)
        case .globalMaxpool:
            try save(try backend.globalMaxPool(x), output!)
        case .reduce:
            guard let operation = ReductionOperation(rawValue: reduction!.lowercased()) else {
                throw ValidationError(
                    "--op \(reduction!): expected one of \(ReductionOperation.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            let axes = try self.axes.map { text in
                try text.split(separator: ",").map { item in
                    guard let axis = Int(item.trimmingCharacters(in: .whitespaces)) else {
                        throw ValidationError("--axes \(text): expected comma-separated integers")
                    }
                    return axis
                }
            }
            try save(try backend.reduce(x, descriptor: ReduceDescriptor(operation, axes: axes, keepDims: keepdims)), output!)
        }
    }

    func parseMode() throws -> ConvolutionMode {
        guard let mode else { return .crossCorrelation }
        guard let parsed = ConvolutionMode(rawValue: mode.lowercased()) else {
            throw ValidationError("--mode \(mode): expected cross-correlation or convolution")
        }
        return parsed
    }

    func parseActivation() throws -> Activation {
        switch activation?.lowercased() {
        case nil, "none": return .none
        case "relu": return .relu
        case "leaky-relu": return .leakyReLU(slope: slope ?? 0.01)
        default: throw ValidationError("--activation \(activation!): expected none, relu or leaky-relu")
        }
    }
}

/// Reads a float32 `.npy` file into a tensor of `backend`.
func load(_ path: String, _ backend: any Backend) throws -> Tensor {
    let array = try NPY.read(path: path)
    return try backend.tensor(shape: array.shape, values: try array.float32Values(path: path))
}

/// Writes a tensor to a float32 `.npy` file.
func save(_ tensor: Tensor, _ path: String) throws {
    try NPY.write(NPYArray(shape: tensor.shape, float32: try tensor.values()), path: path)
}
