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
            spatial dimension (--stride 2,2; 1-D operators take one value).
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
    @Option(help: "Where to write the result (.npy).")
    var output: String
    @Option(help: "Max pooling: where to write the argmax indices (.npy, int64, flat per input plane). Default: not written.")
    var indices: String?
    @OptionGroup var device: DeviceOption

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
        if !misplaced.isEmpty {
            throw ValidationError("\(op.rawValue) does not take \(misplaced.joined(separator: ", "))")
        }
        if op.isConvolution && weight == nil { throw ValidationError("\(op.rawValue) needs --weight") }
        if op.isPooling && kernel == nil { throw ValidationError("\(op.rawValue) needs --kernel") }
        if op == .reduce && reduction == nil { throw ValidationError("reduce needs --op") }
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
            if operation == .conv2d {
                y = try backend.conv2d(x, weight: w, bias: b, descriptor: Conv2DDescriptor(
                    stride: stride, padding: padding, dilation: dilation, groups: groups ?? 1, mode: mode, activation: activation))
            } else {
                y = try backend.conv1d(x, weight: w, bias: b, descriptor: Conv1DDescriptor(
                    stride: stride[0], padding: padding, dilation: dilation[0], groups: groups ?? 1, mode: mode,
                    activation: activation))
            }
            try save(y, output)
        case .maxpool2d, .maxpool1d, .avgpool2d, .avgpool1d:
            let descriptor = PoolDescriptor(
                kernel: try parseSizes(kernel!, option: "kernel", count: rank),
                stride: try stride.map { try parseSizes($0, option: "stride", count: rank) },
                padding: try parsePadding(padding, rank: rank),
                dilation: try dilation.map { try parseSizes($0, option: "dilation", count: rank) },
                ceilMode: ceilMode, countIncludePad: countIncludePad)
            if operation.isMaxPooling {
                let (values, argmax) = try backend.maxPoolWithIndices(x, descriptor: descriptor)
                let indexValues = indices == nil ? nil : try argmax.int64Values()
                try save(values, output)
                if let indices, let indexValues {
                    try NPY.write(NPYArray(shape: argmax.shape, int64: indexValues), path: indices)
                }
            } else {
                try save(try backend.averagePool(x, descriptor: descriptor), output)
            }
        case .globalAvgpool:
            try save(try backend.globalAveragePool(x), output)
        case .globalMaxpool:
            try save(try backend.globalMaxPool(x), output)
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
            try save(try backend.reduce(x, descriptor: ReduceDescriptor(operation, axes: axes, keepDims: keepdims)), output)
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
