/// How Pad fills the border (ONNX's modes).
public enum PadMode: String, Sendable, CaseIterable {
    /// A constant value.
    case constant
    /// The input mirrored at its edges, the edge element not repeated.
    case reflect
    /// The edge element repeated.
    case edge
    /// The input repeated: the far edge's elements continue past the near one (ONNX's wrap).
    case wrap
}

/// ONNX Pad: `pads` holds the elements added before each axis, then after each axis ([x1_begin,
/// x2_begin, …, x1_end, x2_end, …]); negative pads remove elements. Reflect needs each pad below
/// the axis's size; reflect, edge and wrap need a non-empty axis where they pad, and wrap takes
/// no negative pads.
struct Pad: Primitive {
    let pads: [Int]
    let mode: PadMode
    let value: Double
    var name: String { "Pad" }

    func outputTypes(_ inputs: [TensorType]) throws -> [TensorType] {
        func fail(_ reason: String) -> ConvCLError { .invalidArgument(operation: name, argument: "pads", reason: reason) }
        guard inputs.count == 1 else {
            throw ConvCLError.invalidArgument(operation: name, argument: "inputs", reason: "takes 1 tensor, got \(inputs.count)")
        }
        let shape = inputs[0].shape, rank = shape.count
        guard pads.count == 2 * rank else { throw fail("expected \(2 * rank) values for shape \(shape), got \(pads)") }
        guard pads.allSatisfy({ (-Int(Int32.max)...Int(Int32.max)).contains($0) }) else {
            throw fail("\(pads) holds a pad beyond ±\(Int32.max)")
        }
        var output: [Int] = []
        for d in 0..<rank {
            let (before, after) = (pads[d], pads[rank + d])
            let size = shape[d] + before + after
            guard size >= 0 else { throw fail("\(pads) removes more than axis \(d)'s \(shape[d]) elements") }
            if mode != .constant, before > 0 || after > 0 {
                guard shape[d] > 0 else { throw fail("\(mode) padding of the empty axis \(d) (shape \(shape))") }
                guard mode != .wrap || (before >= 0 && after >= 0) else {
                    throw fail("wrap pads \(before), \(after) of axis \(d) must not be negative")
                }
                guard mode != .reflect || (before < shape[d] && after < shape[d]) else {
                    throw fail("reflect pads \(before), \(after) of axis \(d) must be below its size \(shape[d]) (shape \(shape))")
                }
            }
            output.append(size)
        }
        return [TensorType(output, inputs[0].dataType)]
    }

    /// The input index that output index `o` of axis `d` reads, or nil for the constant.
    func source(_ o: Int, axis d: Int, size n: Int, rank: Int) -> Int? {
        let i = o - pads[d]
        if i >= 0 && i < n { return i }
        switch mode {
        case .constant: return nil
        case .reflect: return i < 0 ? -i : 2 * (n - 1) - i
        case .edge: return i < 0 ? 0 : n - 1
        case .wrap: return (i % n + n) % n
        }
    }

    func reference(_ inputs: [TensorData], types: [TensorType], outputs: [TensorType]) throws -> [TensorData] {
        let shape = types[0].shape
        let positions = Layout.multiIndices(outputs[0].shape).map { index -> Int? in
            var source: [Int] = []
            for (d, o) in index.enumerated() {
                guard let i = self.source(o, axis: d, size: shape[d], rank: shape.count) else { return nil }
                source.append(i)
            }
            return Layout.position(source, in: shape)
        }
        return [inputs[0].picking(positions, fill: value)]
    }

    /// The constant's bits as the kernel moves them.
    func valueBits(_ type: DataType) -> UInt64 {
        switch type {
        case .float32: UInt64(Float(value).bitPattern)
        case .int64: UInt64(bitPattern: Int64(value))
        case .bool: value != 0 ? 1 : 0
        }
    }

    /// The axes as the kernel walks them: unpadded axes of size 1 dropped and runs of adjacent
    /// unpadded axes merged into one (sizes in, sizes out, pads before), at least one axis.
    func mergedAxes(_ shape: [Int]) -> (input: [Int], output: [Int], before: [Int]) {
        let rank = shape.count
        var merged: (input: [Int], output: [Int], before: [Int]) = ([], [], [])
        var lastUnpadded = false
        for d in 0..<rank {
            let (before, after) = (pads[d], pads[rank + d])
            let unpadded = before == 0 && after == 0
            if unpadded && shape[d] == 1 { continue }
            if unpadded && lastUnpadded {
                merged.input[merged.input.count - 1] *= shape[d]
                merged.output[merged.output.count - 1] *= shape[d]
            } else {
                merged.input.append(shape[d])
                merged.output.append(shape[d] + before + after)
                merged.before.append(before)
            }
            lastUnpadded = unpadded
        }
        return merged.input.isEmpty ? ([1], [1], [0]) : merged
    }

    func encode(_ inputs: [Tensor], outputs: [TensorType], on backend: OpenCLBackend) throws -> [Tensor] {
        let output = outputs[0]
        let (result, y) = try backend.output(shape: output.shape, dataType: output.dataType, operation: name)
        guard output.count > 0 else { return [result] }
        let axes = mergedAxes(inputs[0].shape)
        let rank = axes.output.count
        guard rank <= 8 else {
            throw ConvCLError.invalidArgument(operation: name, argument: "input", reason: "rank \(rank) (padded axes apart) is above the kernel's 8")
        }
        func ints(_ values: [Int]) throws -> KernelArgument { .int32x8(try values.map { try int32($0, name) }) }
        // A work-item writes a run of up to 64 elements of an output row (the innermost axis),
        // so that the position arithmetic of the outer axes is paid once per run.
        let inner = axes.output[rank - 1], rows = output.count / inner
        try backend.launch(
            copyProgram(output.dataType), kernel: "pad_copy",
            arguments: [.buffer(y), .buffer(try backend.anyBuffer(of: inputs[0], name, "input")),
                        .int32(try int32(rows, name)), .int32(Int32(rank)), try ints(axes.output), try ints(axes.input), try ints(axes.before),
                        .int32(PadMode.allCases.firstIndex(of: mode).map(Int32.init)!), .uint64(valueBits(output.dataType))],
            globalSize: [(inner + 63) / 64, rows])
        return [result]
    }

    func programs(for inputs: [TensorType], on backend: OpenCLBackend) -> [ProgramSpec] { inputs.map { copyProgram($0.dataType) } }
}

/// ONNX Gather: the slices of `data` along `axis` that the int64 `indices` name (negative count
/// from the end); the result's shape is data's with that axis replaced by indices' shape.
struct Gather: Primitive {
    let axis: Int
    var name: String { "Gather" }

    func outputTypes(_ inputs: [TensorType]) throws -> [TensorType] {
        guard inputs.count == 2, inputs[1].dataType == .int64 else {
            throw ConvCLError.invalidArgument(
                operation: name, argument: "inputs", reason: "takes data and int64 indices, got \(inputs)")
        }
        let shape = inputs[0].shape
        guard !shape.isEmpty else {
            throw ConvCLError.invalidArgument(operation: name, argument: "data", reason: "a scalar has no axis to gather along")
        }
        let a = try Layout.axis(axis, rank: shape.count, operation: name)
        return [TensorType(Array(shape[..<a]) + inputs[1].shape + Array(shape[(a + 1)...]), inputs[0].dataType)]
    }

    /// (outer, n, inner) of data viewed around the axis.
    func view(_ shape: [Int]) throws -> (outer: Int, n: Int, inner: Int) {
        let a = try Layout.axis(axis, rank: shape.count, operation: name)
        return (shape[..<a].reduce(1, *), shape[a], shape[(a + 1)...].reduce(1, *))
    }

    /// The indices, each checked to lie in -n..<n.
    func checked(_ indices: [Int64], n: Int) throws -> [Int] {
        try indices.map { index in
            guard index >= -Int64(n), index < Int64(n) else {
                throw ConvCLError.invalidArgument(
                    operation: name, argument: "indices", reason: "index \(index) is out of range for axis \(axis) of size \(n) (valid: \(-n)...\(n - 1))")
            }
            return index < 0 ? Int(index) + n : Int(index)
        }
    }

    func reference(_ inputs: [TensorData], types: [TensorType], outputs: [TensorType]) throws -> [TensorData] {
        let (outer, n, inner) = try view(types[0].shape)
        guard case .int64(let raw) = inputs[1] else { fatalError("unreachable: indices are int64") }
        let indices = try checked(raw, n: n)
        var positions: [Int?] = []
        for o in 0..<outer { for j in indices { for k in 0..<inner { positions.append((o * n + j) * inner + k) } } }
        return [inputs[0].picking(positions)]
    }

    func encode(_ inputs: [Tensor], outputs: [TensorType], on backend: OpenCLBackend) throws -> [Tensor] {
        let (outer, n, inner) = try view(inputs[0].shape)
        // The indices are checked on the host before anything runs (usually a model's constants).
        _ = try checked(try inputs[1].int64Values(), n: n)
        let (result, y) = try backend.output(shape: outputs[0].shape, dataType: outputs[0].dataType, operation: name)
        let m = inputs[1].count
        guard outputs[0].count > 0 else { return [result] }
        try backend.launch(
            copyProgram(outputs[0].dataType), kernel: "gather",
            arguments: [.buffer(y), .buffer(try backend.anyBuffer(of: inputs[0], name, "data")),
                        .buffer(try backend.anyBuffer(of: inputs[1], name, "indices"))]
                + [outer, n, m, inner].map { .int32(try int32($0, name)) },
            globalSize: [inner, m, outer])
        return [result]
    }

    func programs(for inputs: [TensorType], on backend: OpenCLBackend) -> [ProgramSpec] { [copyProgram(inputs[0].dataType)] }
}
