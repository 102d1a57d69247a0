import Foundation

/// ONNX element types as ConvCL's data types. int32 values (shape arithmetic in some exported
/// graphs) are carried as int64, which holds every int32 exactly.
enum ONNXElementType {
    static let float: Int32 = 1, int32: Int32 = 6, int64: Int32 = 7, bool: Int32 = 9

    /// ONNX's name of an element type code, for messages.
    static func name(_ code: Int32) -> String {
        let names: [Int32: String] = [
            0: "UNDEFINED", 1: "FLOAT", 2: "UINT8", 3: "INT8", 4: "UINT16", 5: "INT16", 6: "INT32", 7: "INT64", 8: "STRING",
            9: "BOOL", 10: "FLOAT16", 11: "DOUBLE", 12: "UINT32", 13: "UINT64", 14: "COMPLEX64", 15: "COMPLEX128", 16: "BFLOAT16",
            17: "FLOAT8E4M3FN", 18: "FLOAT8E4M3FNUZ", 19: "FLOAT8E5M2", 20: "FLOAT8E5M2FNUZ", 21: "UINT4", 22: "INT4", 23: "FLOAT4E2M1",
        ]
        return names[code] ?? "type \(code)"
    }

    /// ConvCL's data type for an ONNX element type, or nil when ConvCL has none.
    static func dataType(_ code: Int32) -> DataType? {
        switch code {
        case float: .float32
        case int64, int32: .int64
        case bool: .bool
        default: nil
        }
    }

    /// The ONNX element type of a ConvCL data type.
    static func code(_ type: DataType) -> Int32 {
        switch type {
        case .float32: float
        case .int64: int64
        case .bool: bool
        }
    }
}

extension Onnx_TensorProto {
    /// The tensor's shape and values: from `raw_data` (little-endian), from the typed fields, or
    /// from an external data file beside the model (`directory`).
    /// - Throws: `ConvCLError.invalidArgument` naming the tensor for an unsupported type, a
    ///   negative dimension, a value count that does not match the shape, or unreadable data.
    func decoded(directory: URL?) throws -> (shape: [Int], data: TensorData) {
        func fail(_ reason: String) -> ConvCLError {
            .invalidArgument(operation: "ONNX tensor", argument: name.isEmpty ? "(unnamed)" : name, reason: reason)
        }
        guard dims.allSatisfy({ $0 >= 0 && $0 <= Int64(Int32.max) }) else { throw fail("dimensions \(dims) must lie in 0...\(Int32.max)") }
        let shape = dims.map { Int($0) }
        guard let count = elementCount(shape), count <= Int(Int32.max) else { throw fail("shape \(shape) holds more than \(Int32.max) elements") }
        guard let type = ONNXElementType.dataType(dataType) else {
            throw fail("element type \(ONNXElementType.name(dataType)) is not supported (float32, int32, int64 and bool are)")
        }
        var bytes = rawData
        if dataLocation == .external { bytes = try externalBytes(directory: directory, fail: fail) }
        let data: TensorData
        if hasRawData || dataLocation == .external {
            let width = dataType == ONNXElementType.int32 ? 4 : type.byteSize
            guard bytes.count == count * width else {
                throw fail("raw data holds \(bytes.count) bytes; shape \(shape) of \(ONNXElementType.name(dataType)) needs \(count * width)")
            }
            data = bytes.withUnsafeBytes { raw -> TensorData in
                switch dataType {
                case ONNXElementType.float:
                    return .float32((0..<count).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self))) })
                case ONNXElementType.int32:
                    return .int64((0..<count).map { Int64(Int32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * $0, as: Int32.self))) })
                case ONNXElementType.int64:
                    return .int64((0..<count).map { Int64(littleEndian: raw.loadUnaligned(fromByteOffset: 8 * $0, as: Int64.self)) })
                default:
                    return .bool((0..<count).map { raw[$0] != 0 })
                }
            }
        } else {
            switch dataType {
            case ONNXElementType.float: data = .float32(floatData)
            case ONNXElementType.int64: data = .int64(int64Data)
            case ONNXElementType.int32: data = .int64(int32Data.map(Int64.init))
            default: data = .bool(int32Data.map { $0 != 0 })
            }
            guard data.count == count else { throw fail("holds \(data.count) values; shape \(shape) needs \(count)") }
        }
        return (shape, data)
    }

    /// The bytes of external data: `location` (relative to the model's folder, inside it),
    /// `offset` and `length` from `external_data`.
    private func externalBytes(directory: URL?, fail: (String) -> ConvCLError) throws -> Data {
        let entries = Dictionary(externalData.map { ($0.key, $0.value) }, uniquingKeysWith: { first, _ in first })
        guard let location = entries["location"], !location.isEmpty else { throw fail("external data without a location") }
        guard !location.hasPrefix("/"), !location.split(separator: "/").contains("..") else {
            throw fail("external data location \"\(location)\" must be a path inside the model's folder")
        }
        guard let directory else { throw fail("external data \"\(location)\" needs the model's folder (load the model from a file)") }
        let url = directory.appendingPathComponent(location)
        guard let handle = try? FileHandle(forReadingFrom: url) else { throw fail("cannot open external data file \(url.path)") }
        defer { try? handle.close() }
        let offset = UInt64(entries["offset"] ?? "0") ?? 0
        try handle.seek(toOffset: offset)
        let data: Data?
        if let text = entries["length"], let length = Int(text) { data = try handle.read(upToCount: length) } else { data = try handle.readToEnd() }
        return data ?? Data()
    }

    /// A tensor proto holding `data` in `raw_data` (for models written by ConvCL: tests, export).
    init(name: String, shape: [Int], data: TensorData) {
        self.init()
        self.name = name
        dims = shape.map(Int64.init)
        dataType = ONNXElementType.code(data.dataType)
        var bytes = Data()
        switch data {
        case .float32(let values): for value in values { withUnsafeBytes(of: value.bitPattern.littleEndian) { bytes.append(contentsOf: $0) } }
        case .int64(let values): for value in values { withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) } }
        case .bool(let values): bytes.append(contentsOf: values.map { $0 ? 1 : 0 })
        }
        rawData = bytes
    }
}

extension Tensor {
    /// A host tensor read from a serialized ONNX `TensorProto` file (the `input_0.pb` and
    /// `output_0.pb` files of ONNX's test data sets), with the tensor's name (may be empty).
    /// Host tensors feed a `Model` on any backend.
    /// - Throws: `ConvCLError.invalidArgument` naming the file when it cannot be read or parsed,
    ///   or holds an element type ConvCL does not have.
    public static func readONNX(contentsOf url: URL) throws -> (name: String, tensor: Tensor) {
        let proto: Onnx_TensorProto
        do { proto = try Onnx_TensorProto(serializedBytes: try Data(contentsOf: url)) } catch {
            throw ConvCLError.invalidArgument(operation: "Tensor.readONNX", argument: url.path, reason: "not a readable ONNX tensor: \(error)")
        }
        let (shape, data) = try proto.decoded(directory: url.deletingLastPathComponent())
        return (proto.name, Tensor(shape: shape, host: data))
    }
}
