import Foundation

extension ReferenceBackend {
    public func reduce(_ input: Tensor, descriptor: ReduceDescriptor) throws -> Tensor {
        let layout = try descriptor.layout(input: input.shape)
        let x = try hostValues(input, "reduce", "input")
        // Gather each output's values, then reduce each list in Double.
        var groups = [[Double]](repeating: [], count: layout.outputCount)
        for output in 0..<layout.outputCount {
            let base = offset(of: output, sizes: layout.keptSizes, strides: layout.keptStrides)
            for element in 0..<layout.reducedCount {
                groups[output].append(
                    Double(x[base + offset(of: element, sizes: layout.reducedSizes, strides: layout.reducedStrides)]))
            }
        }
        let values = groups.map { Float(Self.reduce($0, descriptor.operation)) }
        return Tensor(shape: layout.outputShape, host: .float32(values))
    }

    /// One reduction of a list of values, plainly, in Double.
    static func reduce(_ values: [Double], _ operation: ReductionOperation) -> Double {
        let sum = { (transform: (Double) -> Double) in values.reduce(0.0) { $0 + transform($1) } }
        switch operation {
        case .sum: return sum { $0 }
        case .mean: return sum { $0 } / Double(values.count)
        case .l1: return sum { abs($0) }
        case .l2: return sum { $0 * $0 }.squareRoot()
        case .sumSquare: return sum { $0 * $0 }
        case .logSum: return Foundation.log(sum { $0 })
        case .prod: return values.reduce(1.0, *)
        case .max, .min:
            if let nan = values.first(where: \.isNaN) { return nan }
            return operation == .max ? values.max() ?? -.infinity : values.min() ?? .infinity
        case .logSumExp:
            // log Σ exp(x) = m + log Σ exp(x − m) with m the maximum, so large inputs do not overflow.
            if values.contains(where: \.isNaN) { return .nan }
            guard let m = values.max(), m.isFinite else { return values.max() ?? -.infinity }
            return m + Foundation.log(values.reduce(0.0) { $0 + Foundation.exp($1 - m) })
        }
    }
}

/// The memory offset of the `index`-th element of a row-major walk over (size, stride) pairs.
func offset(of index: Int, sizes: [Int], strides: [Int]) -> Int {
    var remainder = index
    var offset = 0
    for axis in sizes.indices.reversed() {
        offset += (remainder % sizes[axis]) * strides[axis]
        remainder /= sizes[axis]
    }
    return offset
}
