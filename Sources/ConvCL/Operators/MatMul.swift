/// ONNX MatMul (NumPy's matmul) on float32: [..., N, K] × [..., K, M] → [..., N, M], batch axes
/// broadcast; a 1-D left operand is a row [1, K] and a 1-D right one a column [K, 1], their axis
/// dropped from the result.
///
/// On OpenCL it runs as a 1×1 convolution, whose GEMM is ConvCL's fastest kernel: A [N, K] is the
/// weight [N, K, 1, 1] and B [K, M] the input [1, K, 1, M], so the output [1, N, 1, M] is A·B in
/// place, with no copies. A batch of A against one B stacks A's rows ([b·N, K]); one A against a
/// batch of B is the convolution's batch. Only when both have batches does it run batch by batch
/// (on slices of the operands broadcast to the result's batch).
struct MatMul: Primitive {
    var name: String { "MatMul" }

    /// The operands as matrices with batches: (a's batch, N, K), (b's batch, K, M), the result's
    /// batch shape and shape.
    func geometry(_ a: [Int], _ b: [Int]) throws -> (n: Int, k: Int, m: Int, aBatch: [Int], bBatch: [Int], batch: [Int], output: [Int]) {
        func fail(_ reason: String) -> ConvCLError { .invalidArgument(operation: name, argument: "inputs", reason: reason) }
        guard !a.isEmpty, !b.isEmpty else { throw fail("operands must have rank ≥ 1, got \(a) and \(b)") }
        let a2 = a.count == 1 ? [1] + a : a, b2 = b.count == 1 ? b + [1] : b
        let (n, k) = (a2[a2.count - 2], a2[a2.count - 1])
        let (k2, m) = (b2[b2.count - 2], b2[b2.count - 1])
        guard k == k2 else { throw fail("\(a) × \(b): the inner sizes \(k) and \(k2) differ") }
        let aBatch = Array(a2.dropLast(2)), bBatch = Array(b2.dropLast(2))
        let batch = try Layout.broadcast([aBatch, bBatch], operation: name)
        var output = batch
        if a.count > 1 { output.append(n) }
        if b.count > 1 { output.append(m) }
        return (n, k, m, aBatch, bBatch, batch, output)
    }

    func outputTypes(_ inputs: [TensorType]) throws -> [TensorType] {
        guard inputs.count == 2, inputs.allSatisfy({ $0.dataType == .float32 }) else {
            throw ConvCLError.invalidArgument(operation: name, argument: "inputs", reason: "takes two float32 tensors, got \(inputs)")
        }
        return [TensorType(try geometry(inputs[0].shape, inputs[1].shape).output)]
    }

    func reference(_ inputs: [TensorData], types: [TensorType], outputs: [TensorType]) throws -> [TensorData] {
        let g = try geometry(types[0].shape, types[1].shape)
        let (a, b) = (inputs[0].doubles, inputs[1].doubles)
        let aStrides = Layout.broadcastStrides(g.aBatch, to: g.batch), bStrides = Layout.broadcastStrides(g.bBatch, to: g.batch)
        var y: [Float] = []
        Layout.forEachOffset(sizes: g.batch, strides: [aStrides, bStrides]) { offsets in
            let (aBase, bBase) = (offsets[0] * g.n * g.k, offsets[1] * g.k * g.m)
            for i in 0..<g.n {
                for j in 0..<g.m {
                    var sum = 0.0
                    for p in 0..<g.k { sum += a[aBase + i * g.k + p] * b[bBase + p * g.m + j] }
                    y.append(Float(sum))
                }
            }
        }
        return [.float32(y)]
    }

    func encode(_ inputs: [Tensor], outputs: [TensorType], on backend: OpenCLBackend) throws -> [Tensor] {
        let g = try geometry(inputs[0].shape, inputs[1].shape)
        let (a, b) = (inputs[0], inputs[1])
        guard outputs[0].count > 0 else { return [try backend.output(shape: outputs[0].shape, operation: name).0] }
        if g.k == 0 {
            return [try backend.constantOfShape(outputs[0].shape)]
        }
        let aRows = g.aBatch.reduce(1, *), bCount = g.bBatch.reduce(1, *)
        if bCount == 1 || aRows == 1 {
            // One convolution: A's rows (of every batch) are the filters, B's batch the images.
            let y = try backend.conv2d(
                try b.reshaped([bCount, g.k, 1, g.m]), weight: try a.reshaped([aRows * g.n, g.k, 1, 1]), bias: nil,
                descriptor: .init())
            // [b, aRows·N, 1, M]: with one of the two batches 1, the result's batch order.
            return [try y.reshaped(outputs[0].shape)]
        }
        // Both batched: each batch of the result on its own slices.
        let expandedA = try backend.expand(a.reshaped(g.aBatch + [g.n, g.k]), to: g.batch + [g.n, g.k])
        let expandedB = try backend.expand(b.reshaped(g.bBatch + [g.k, g.m]), to: g.batch + [g.k, g.m])
        let count = g.batch.reduce(1, *)
        let flatA = try expandedA.reshaped([count, g.n, g.k]), flatB = try expandedB.reshaped([count, g.k, g.m])
        var pieces: [Tensor] = []
        for i in 0..<count {
            let ai = try backend.slice(flatA, starts: [i], ends: [i + 1], axes: [0])
            let bi = try backend.slice(flatB, starts: [i], ends: [i + 1], axes: [0])
            pieces.append(try backend.conv2d(
                try bi.reshaped([1, g.k, 1, g.m]), weight: try ai.reshaped([g.n, g.k, 1, 1]), bias: nil, descriptor: .init()))
        }
        return [try backend.concat(pieces, axis: 0).reshaped(outputs[0].shape)]
    }

    func programs(for inputs: [TensorType], on backend: OpenCLBackend) -> [ProgramSpec] {
        guard let g = try? geometry(inputs[0].shape, inputs[1].shape),
            let conv = try? Conv2DDescriptor().geometry(input: [1, g.k, 1, g.m], weight: [g.n, g.k, 1, 1], bias: nil),
            let programs = try? backend.convolutionPrograms(conv)
        else { return [] }
        return programs.specialized + [copyProgram(.float32)]
    }
}

extension Backend {
    /// ONNX MatMul (NumPy's matmul) of float32 tensors: [..., N, K] × [..., K, M] → [..., N, M],
    /// batch axes broadcast, 1-D operands promoted and their axis dropped.
    public func matmul(_ a: Tensor, _ b: Tensor) throws -> Tensor {
        try runSingle(MatMul(), [a, b])
    }

    /// ONNX Gemm: alpha · A' · B' + beta · C, with A' = Aᵀ when `transA` (likewise B), A' [N, K],
    /// B' [K, M], and C (optional) broadcast to [N, M].
    public func gemm(
        _ a: Tensor, _ b: Tensor, _ c: Tensor? = nil, alpha: Float = 1, beta: Float = 1, transA: Bool = false, transB: Bool = false
    ) throws -> Tensor {
        guard a.shape.count == 2, b.shape.count == 2 else {
            throw ConvCLError.invalidArgument(
                operation: "Gemm", argument: "inputs", reason: "A and B must be matrices, got \(a.shape) and \(b.shape)")
        }
        var y = try matmul(transA ? transpose(a) : a, transB ? transpose(b) : b)
        if alpha != 1 { y = try elementwise(.mul, y, tensor(shape: [], values: [alpha])) }
        if let c {
            let scaled = beta == 1 ? c : try elementwise(.mul, c, tensor(shape: [], values: [beta]))
            let sum = try elementwise(.add, y, scaled)
            guard sum.shape == y.shape else {
                throw ConvCLError.invalidArgument(
                    operation: "Gemm", argument: "C", reason: "\(c.shape) must broadcast to the product's \(y.shape)")
            }
            y = sum
        }
        return y
    }
}
