/// ONNX Concat: the inputs joined along `axis` (negative counts from the end); every other axis
/// must agree, and the types must be one.
struct Concat: Primitive {
    let axis: Int
    var name: String { "Concat" }

    func outputTypes(_ inputs: [TensorType]) throws -> [TensorType] {
        func fail(_ reason: String) -> ConvCLError { .invalidArgument(operation: name, argument: "inputs", reason: reason) }
        guard let first = inputs.first else { throw fail("takes at least 1 tensor, got none") }
        let a = try Layout.axis(axis, rank: first.shape.count, operation: name)
        var shape = first.shape
        shape[a] = 0
        for input in inputs {
            guard input.dataType == first.dataType else { throw fail("types differ: \(inputs.map(\.dataType))") }
            guard input.shape.count == first.shape.count,
                input.shape.indices.allSatisfy({ $0 == a || input.shape[$0] == first.shape[$0] })
            else { throw fail("shapes \(inputs.map(\.shape)) differ outside axis \(axis)") }
            shape[a] += input.shape[a]
        }
        return [TensorType(shape, first.dataType)]
    }

    func reference(_ inputs: [TensorData], types: [TensorType], outputs: [TensorType]) throws -> [TensorData] {
        let a = try Layout.axis(axis, rank: outputs[0].shape.count, operation: name)
        var starts: [Int] = [0]
        for type in types { starts.append(starts.last! + type.shape[a]) }
        // Output index i along the axis comes from the input whose range holds it.
        let sources = Layout.multiIndices(outputs[0].shape).map { index -> (Int, Int) in
            let k = starts.indices.last { starts[$0] <= index[a] && types.indices.contains($0) && types[$0].shape[a] > 0 }!
            var inner = index
            inner[a] -= starts[k]
            return (k, Layout.position(inner, in: types[k].shape))
        }
        return [TensorData.gathering(inputs, sources, type: outputs[0].dataType)]
    }

    func encode(_ inputs: [Tensor], outputs: [TensorType], on backend: OpenCLBackend) throws -> [Tensor] {
        let output = outputs[0]
        let (result, y) = try backend.output(shape: output.shape, dataType: output.dataType, operation: name)
        let a = try Layout.axis(axis, rank: output.shape.count, operation: name)
        let yStrides = Layout.contiguousStrides(output.shape)
        var start = 0
        for (k, input) in inputs.enumerated() {
            try backend.stridedCopy(
                try backend.anyBuffer(of: input, name, "input \(k)"), to: y, type: input.dataType,
                map: StridedMap(outputShape: input.shape, strides: Layout.contiguousStrides(input.shape), offset: 0),
                yStrides: yStrides, yOffset: start * yStrides[a], operation: name)
            start += input.shape[a]
        }
        return [result]
    }

    func programs(for inputs: [TensorType], on backend: OpenCLBackend) -> [ProgramSpec] { inputs.map { copyProgram($0.dataType) } }
}

/// ONNX Split: the input cut along `axis` into pieces of `sizes` (which must add up to the axis),
/// or into `parts` pieces as equal as possible, the last one smaller (ONNX's num_outputs).
struct Split: Primitive {
    let axis: Int
    let sizes: [Int]?
    let parts: Int?
    var name: String { "Split" }

    func pieces(_ shape: [Int]) throws -> (axis: Int, sizes: [Int]) {
        func fail(_ argument: String, _ reason: String) -> ConvCLError { .invalidArgument(operation: name, argument: argument, reason: reason) }
        let a = try Layout.axis(axis, rank: shape.count, operation: name)
        if let sizes {
            guard sizes.allSatisfy({ $0 >= 0 }), sizes.reduce(0, +) == shape[a] else {
                throw fail("split", "\(sizes) must be non-negative and add up to axis \(axis)'s size \(shape[a]) (shape \(shape))")
            }
            return (a, sizes)
        }
        guard let parts, parts >= 1, parts <= max(shape[a], 1) else {
            throw fail("num_outputs", "expected 1…\(shape[a]) pieces for axis \(axis) of shape \(shape), got \(parts.map(String.init) ?? "none")")
        }
        let piece = (shape[a] + parts - 1) / parts
        return (a, (0..<parts).map { min(piece, max(0, shape[a] - $0 * piece)) })
    }

    func outputTypes(_ inputs: [TensorType]) throws -> [TensorType] {
        guard inputs.count == 1 else {
            throw ConvCLError.invalidArgument(operation: name, argument: "inputs", reason: "takes 1 tensor, got \(inputs.count)")
        }
        let (a, sizes) = try pieces(inputs[0].shape)
        return sizes.map { size in
            var shape = inputs[0].shape
            shape[a] = size
            return TensorType(shape, inputs[0].dataType)
        }
    }

    /// Piece k as a slice of the input.
    func slice(_ k: Int, _ shape: [Int]) throws -> Slice {
        let (a, sizes) = try pieces(shape)
        let start = sizes.prefix(k).reduce(0, +)
        return Slice(starts: [start], ends: [start + sizes[k]], axes: [a], steps: nil)
    }

    func reference(_ inputs: [TensorData], types: [TensorType], outputs: [TensorType]) throws -> [TensorData] {
        try outputs.indices.map { try slice($0, types[0].shape).reference(inputs, types: types, outputs: [outputs[$0]])[0] }
    }

    func encode(_ inputs: [Tensor], outputs: [TensorType], on backend: OpenCLBackend) throws -> [Tensor] {
        try outputs.indices.map { try slice($0, inputs[0].shape).encode(inputs, outputs: [outputs[$0]], on: backend)[0] }
    }

    func programs(for inputs: [TensorType], on backend: OpenCLBackend) -> [ProgramSpec] { inputs.map { copyProgram($0.dataType) } }
}
