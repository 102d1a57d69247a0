import Foundation

/// Softmax and LogSoftmax along one axis (ONNX opset 13): exp(x − max) / Σ exp(x − max), and its
/// log, (x − max) − log Σ exp(x − max), so that no exp overflows. On OpenCL: one kernel that sweeps
/// each run along the axis three times (`Kernels/softmax.cl`).
struct Softmax: Primitive {
    let axis: Int
    let log: Bool
    var name: String { log ? "LogSoftmax" : "Softmax" }

    func outputTypes(_ inputs: [TensorType]) throws -> [TensorType] {
        guard inputs.count == 1, inputs[0].dataType == .float32 else {
            throw ConvCLError.invalidArgument(operation: name, argument: "inputs", reason: "takes one float32 tensor, got \(inputs)")
        }
        _ = try Layout.axis(axis, rank: inputs[0].shape.count, operation: name)
        return inputs
    }

    /// `shape` viewed as [outer][n][inner], n along the axis: the runs both backends walk.
    func runs(_ shape: [Int]) throws -> (outer: Int, n: Int, inner: Int) {
        let a = try Layout.axis(axis, rank: shape.count, operation: name)
        return (shape[..<a].reduce(1, *), shape[a], shape[(a + 1)...].reduce(1, *))
    }

    func reference(_ inputs: [TensorData], types: [TensorType], outputs: [TensorType]) throws -> [TensorData] {
        let (outer, n, inner) = try runs(types[0].shape)
        let x = inputs[0].doubles
        var y = [Float](repeating: 0, count: x.count)
        for o in 0..<outer {
            for k in 0..<inner {
                let positions = (0..<n).map { (o * n + $0) * inner + k }
                let m = positions.map { x[$0] }.reduce(-Double.infinity) { $0.isNaN || $1.isNaN ? .nan : max($0, $1) }
                let sum = positions.reduce(0.0) { $0 + exp(x[$1] - m) }
                for p in positions { y[p] = Float(log ? x[p] - m - Foundation.log(sum) : exp(x[p] - m) / sum) }
            }
        }
        return [.float32(y)]
    }

    /// LANES, the floats of the softmax kernels' vectors on `backend`: its vector width, 8 or 16.
    /// (In 16 lanes on AVX2, the columns case ran 0.56–0.63× as fast.)
    static func lanes(on backend: OpenCLBackend) -> Int { backend.vectorWidth >= 16 ? 16 : 8 }

    /// The most vectors of columns a softmax_columns work-item takes (its private arrays' size).
    static let maxVectors = 32

    /// The floats of softmax_columns' private tile (64 KiB, in a CPU core's level-2 cache), and
    /// none on other devices, whose private memory is their registers.
    static func tileFloats(on backend: OpenCLBackend) -> Int { backend.device.kind == .cpu ? 16384 : 0 }

    static func program(on backend: OpenCLBackend) -> ProgramSpec {
        ProgramSpec("softmax", ["LANES": lanes(on: backend), "MAX_VECTORS": maxVectors, "TILE": tileFloats(on: backend)])
    }

    func encode(_ inputs: [Tensor], outputs: [TensorType], on backend: OpenCLBackend) throws -> [Tensor] {
        let x = inputs[0]
        guard x.count > 0 else { return [x] }
        let (outer, n, inner) = try runs(x.shape)
        let (result, y) = try backend.output(shape: x.shape, operation: name)
        let source = try backend.buffer(of: x, name, "input")
        let sizes = try int32Arguments(inner == 1 ? [n, outer] : [n, inner, outer], name)
        let program = Self.program(on: backend)
        if inner == 1 {
            try backend.launch(
                program, kernel: "softmax_rows", arguments: [.buffer(y), .buffer(source)] + sizes + [.int32(log ? 1 : 0)],
                globalSize: [outer])
        } else {
            // Up to maxVectors a work-item, fewer where that leaves under 4 work-items a compute unit.
            let lanes = Self.lanes(on: backend)
            let rowVectors = (inner + lanes - 1) / lanes
            var vectors = min(Self.maxVectors, rowVectors)
            while vectors > 1, outer * ((rowVectors + vectors - 1) / vectors) < 4 * backend.device.computeUnits {
                vectors = (vectors + 1) / 2
            }
            try backend.launch(
                program, kernel: "softmax_columns",
                arguments: [.buffer(y), .buffer(source)] + sizes + [.int32(Int32(vectors)), .int32(log ? 1 : 0)],
                globalSize: [(rowVectors + vectors - 1) / vectors, outer])
        }
        return [result]
    }

    func programs(for inputs: [TensorType], on backend: OpenCLBackend) -> [ProgramSpec] { [Self.program(on: backend)] }
}

/// The normalisations: BatchNormalization (inference: the running mean and variance given),
/// InstanceNormalization (per sample and channel, over the spatial axes) and
/// LayerNormalization (over the axes from `axis` on), each y = (x − mean) / √(var + ε) · scale + bias
/// with the population variance. Inputs: x, scale, bias, and for BatchNormalization mean and var.
struct Normalization: Primitive {
    enum Kind: Sendable { case batch, instance, layer(axis: Int) }
    let kind: Kind
    let epsilon: Float
    var name: String {
        switch kind {
        case .batch: "BatchNormalization"
        case .instance: "InstanceNormalization"
        case .layer: "LayerNormalization"
        }
    }

    /// The first normalised axis and the shape scale and bias have.
    func parameterShape(_ x: [Int]) throws -> (first: Int, shape: [Int]) {
        switch kind {
        case .batch, .instance:
            guard x.count >= 2 else {
                throw ConvCLError.invalidArgument(operation: name, argument: "X", reason: "expected [N, C, …], got \(x)")
            }
            return (1, [x[1]])
        case .layer(let axis):
            let a = try Layout.axis(axis, rank: x.count, operation: name)
            return (a, Array(x[a...]))
        }
    }

    func outputTypes(_ inputs: [TensorType]) throws -> [TensorType] {
        let expected: Int
        if case .batch = kind { expected = 5 } else { expected = 3 }
        guard inputs.count == expected, inputs.allSatisfy({ $0.dataType == .float32 }) else {
            throw ConvCLError.invalidArgument(
                operation: name, argument: "inputs", reason: "takes \(expected) float32 tensors, got \(inputs)")
        }
        let (_, shape) = try parameterShape(inputs[0].shape)
        for (index, input) in inputs.enumerated().dropFirst() where input.shape != shape {
            throw ConvCLError.invalidArgument(
                operation: name, argument: "input \(index)", reason: "expected shape \(shape) for X \(inputs[0].shape), got \(input.shape)")
        }
        return [inputs[0]]
    }

    func reference(_ inputs: [TensorData], types: [TensorType], outputs: [TensorType]) throws -> [TensorData] {
        let shape = types[0].shape
        let x = inputs[0].doubles, scale = inputs[1].doubles, bias = inputs[2].doubles
        var y = [Float](repeating: 0, count: x.count)
        let eps = Double(epsilon)
        switch kind {
        case .batch:
            let (mean, variance) = (inputs[3].doubles, inputs[4].doubles)
            let (c, inner) = (shape[1], shape[2...].reduce(1, *))
            for i in x.indices {
                let ch = (i / inner) % c
                y[i] = Float((x[i] - mean[ch]) / (variance[ch] + eps).squareRoot() * scale[ch] + bias[ch])
            }
        case .instance, .layer:
            let (first, _) = try parameterShape(shape)
            let inner = shape[first...].reduce(1, *)
            let groups = inner == 0 ? 0 : x.count / inner
            let channels = shape.count > 1 ? shape[1] : 1
            let spatial = shape.count > 2 ? shape[2...].reduce(1, *) : 1
            var instance = false
            if case .instance = kind { instance = true }
            let (size, count) = instance ? (spatial, x.count / max(spatial, 1)) : (inner, groups)
            for g in 0..<count {
                let range = g * size..<(g + 1) * size
                let mean = range.reduce(0.0) { $0 + x[$1] } / Double(size)
                let variance = range.reduce(0.0) { $0 + (x[$1] - mean) * (x[$1] - mean) } / Double(size)
                for i in range {
                    let p = instance ? g % channels : i - g * size
                    y[i] = Float((x[i] - mean) / (variance + eps).squareRoot() * scale[p] + bias[p])
                }
            }
        }
        return [.float32(y)]
    }

    func encode(_ inputs: [Tensor], outputs: [TensorType], on backend: OpenCLBackend) throws -> [Tensor] {
        let x = inputs[0]
        guard x.count > 0 else { return [x] }
        let rank = x.shape.count
        let (first, _) = try parameterShape(x.shape)
        // scale and bias as broadcast operands of x: [C, 1, …] for the channel, else as they are.
        func channelwise(_ t: Tensor) throws -> Tensor {
            if case .layer = kind { return t }
            return try t.reshaped([t.count] + Array(repeating: 1, count: rank - 2))
        }
        switch kind {
        case .batch:
            // y = x · s − u with s = scale / √(var + ε) and u = mean · s − bias, on [C]: three
            // passes, one over x (the table's DivSqrt and MulSub rows).
            let s = try backend.elementwise(.divSqrt(epsilon: epsilon), inputs[1], inputs[4])
            let u = try backend.elementwise(.mulSub, inputs[3], s, inputs[2])
            return [try backend.elementwise(.mulSub, x, channelwise(s), channelwise(u))]
        case .instance, .layer:
            let axes = reducedAxes(rank: rank, first: first)
            guard !axes.isEmpty else {
                // Nothing to normalise over (an instance norm of [N, C]): each value is its own mean.
                let zeros = try backend.elementwise(.sub, x, x)
                return [try backend.elementwise(.mulAdd, zeros, channelwise(inputs[1]), channelwise(inputs[2]))]
            }
            let mean = try backend.reduce(x, descriptor: .init(.mean, axes: axes, keepDims: true))
            let centred = try backend.elementwise(.sub, x, mean)
            let squares = try backend.elementwise(.mul, centred, centred)
            let variance = try backend.reduce(squares, descriptor: .init(.mean, axes: axes, keepDims: true))
            let normalised = try backend.elementwise(.divSqrt(epsilon: epsilon), centred, variance)
            return [try backend.elementwise(.mulAdd, normalised, channelwise(inputs[1]), channelwise(inputs[2]))]
        }
    }

    /// The axes instance and layer normalisation reduce over: the spatial ones, or those from `first`.
    func reducedAxes(rank: Int, first: Int) -> [Int] {
        if case .instance = kind { return Array(2..<max(rank, 2)) }
        return Array(first..<rank)
    }

    func programs(for inputs: [TensorType], on backend: OpenCLBackend) -> [ProgramSpec] {
        let float = TensorType([1])
        let elementwise = [ElementwiseOperation.sub, .mul, .divSqrt(), .mulAdd, .mulSub].flatMap {
            Elementwise(operation: $0).programs(for: Array(repeating: float, count: $0.arity), on: backend)
        }
        guard case .batch = kind else {
            let shape = inputs[0].shape
            guard let first = try? parameterShape(shape).first,
                let layout = try? ReduceDescriptor(.mean, axes: reducedAxes(rank: shape.count, first: first), keepDims: true)
                    .layout(input: shape)
            else { return elementwise }
            return elementwise + [backend.reduceProgram(.mean, layout: layout, specialized: true)]
        }
        return elementwise
    }
}

extension Backend {
    /// ONNX Softmax along `axis` (opset 13: that one axis).
    public func softmax(_ x: Tensor, axis: Int = -1) throws -> Tensor { try runSingle(Softmax(axis: axis, log: false), [x]) }

    /// ONNX LogSoftmax along `axis`.
    public func logSoftmax(_ x: Tensor, axis: Int = -1) throws -> Tensor { try runSingle(Softmax(axis: axis, log: true), [x]) }

    /// ONNX BatchNormalization in inference mode: x [N, C, …] normalised with the running `mean`
    /// and `variance` [C], then scaled and shifted per channel.
    public func batchNormalization(
        _ x: Tensor, scale: Tensor, bias: Tensor, mean: Tensor, variance: Tensor, epsilon: Float = 1e-5
    ) throws -> Tensor {
        try runSingle(Normalization(kind: .batch, epsilon: epsilon), [x, scale, bias, mean, variance])
    }

    /// ONNX InstanceNormalization: each sample's channel of x [N, C, …] normalised over its
    /// spatial axes, then scaled and shifted by `scale` and `bias` [C].
    public func instanceNormalization(_ x: Tensor, scale: Tensor, bias: Tensor, epsilon: Float = 1e-5) throws -> Tensor {
        try runSingle(Normalization(kind: .instance, epsilon: epsilon), [x, scale, bias])
    }

    /// ONNX LayerNormalization: x normalised over the axes from `axis` on, then scaled and shifted
    /// by `scale` and `bias` of those axes' shape.
    public func layerNormalization(_ x: Tensor, scale: Tensor, bias: Tensor, axis: Int = -1, epsilon: Float = 1e-5) throws -> Tensor {
        try runSingle(Normalization(kind: .layer(axis: axis), epsilon: epsilon), [x, scale, bias])
    }
}
