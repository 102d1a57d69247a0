import Foundation

/// A problem with a NumPy `.npy` file: which file, and what is wrong with it.
public struct NPYError: Error, Sendable, Equatable, CustomStringConvertible {
    public let path: String
    public let problem: String

    public var description: String { "\(path): \(problem)" }
}

/// The element types ConvCL reads and writes in `.npy` files.
public enum NPYElementType: String, Sendable {
    /// Little-endian float32, `<f4`.
    case float32 = "<f4"
    /// Little-endian int64, `<i8` (max pooling's indices).
    case int64 = "<i8"

    var size: Int { self == .float32 ? 4 : 8 }
}

/// The contents of a `.npy` file: its shape and its little-endian data, in C order.
public struct NPYArray: Sendable, Equatable {
    public var shape: [Int]
    public var elementType: NPYElementType
    /// The raw element bytes, `shape.product × elementType.size` of them.
    var data: [UInt8]

    init(shape: [Int], elementType: NPYElementType, data: [UInt8]) {
        self.shape = shape
        self.elementType = elementType
        self.data = data
    }

    /// A float32 array.
    public init(shape: [Int], float32 values: [Float]) {
        precondition(shape.reduce(1, *) == values.count, "\(values.count) values for shape \(shape)")
        self.shape = shape
        elementType = .float32
        data = values.withUnsafeBytes { Array($0) }
    }

    /// An int64 array.
    public init(shape: [Int], int64 values: [Int64]) {
        precondition(shape.reduce(1, *) == values.count, "\(values.count) values for shape \(shape)")
        self.shape = shape
        elementType = .int64
        data = values.withUnsafeBytes { Array($0) }
    }

    /// The values of a float32 array.
    public func float32Values(path: String = "array") throws -> [Float] {
        guard elementType == .float32 else {
            throw NPYError(path: path, problem: "holds \(elementType.rawValue), expected float32 (<f4)")
        }
        return data.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
    }

    /// The values of an int64 array.
    public func int64Values(path: String = "array") throws -> [Int64] {
        guard elementType == .int64 else {
            throw NPYError(path: path, problem: "holds \(elementType.rawValue), expected int64 (<i8)")
        }
        return data.withUnsafeBytes { Array($0.bindMemory(to: Int64.self)) }
    }
}

/// Reading and writing NumPy's `.npy` format, versions 1.0, 2.0 and 3.0: float32 and int64,
/// little-endian, C order.
public enum NPY {
    private static let magic: [UInt8] = [0x93] + Array("NUMPY".utf8)

    /// Reads a `.npy` file.
    /// - Throws: `NPYError` naming the file for anything but little-endian float32 or int64 in C
    ///   order with a well-formed header and exactly the data its shape needs.
    public static func read(path: String) throws -> NPYArray {
        // An empty file is not read: swift-corelibs-foundation's read of one leaks a page (ci/fuzz.sh).
        let size = try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int
        guard let contents = size == 0 ? Data() : FileManager.default.contents(atPath: path) else {
            throw NPYError(path: path, problem: "cannot be read (missing, or not a readable file)")
        }
        return try parse([UInt8](contents), path: path)
    }

    static func parse(_ bytes: [UInt8], path: String) throws -> NPYArray {
        func fail(_ problem: String) -> NPYError { NPYError(path: path, problem: problem) }
        guard bytes.count >= 10, Array(bytes[0..<6]) == magic else {
            throw fail("not a .npy file (the magic string \\x93NUMPY is missing)")
        }
        let major = bytes[6]
        let headerStart: Int
        let headerLength: Int
        switch major {
        case 1:
            headerStart = 10
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
        case 2, 3:
            guard bytes.count >= 12 else { throw fail("truncated header length") }
            headerStart = 12
            headerLength = (8..<12).reduce(0) { $0 | Int(bytes[$1]) << (8 * ($1 - 8)) }
        default:
            throw fail("format version \(major).\(bytes[7]) is not supported (1.0, 2.0 and 3.0 are)")
        }
        guard headerLength <= bytes.count - headerStart else {
            throw fail("truncated header: it declares \(headerLength) bytes, the file has \(bytes.count - headerStart) after it")
        }
        let headerBytes = bytes[headerStart..<headerStart + headerLength]
        guard let header = String(bytes: headerBytes, encoding: major == 3 ? .utf8 : .ascii) else {
            throw fail("the header is not \(major == 3 ? "UTF-8" : "ASCII") text")
        }
        let fields = try parseHeader(header, fail: fail)
        guard let elementType = NPYElementType(rawValue: fields.descr) else {
            throw fail("dtype \(quoted(fields.descr)) is not supported (little-endian float32 <f4 and int64 <i8 are)")
        }
        if fields.fortranOrder {
            throw fail("Fortran order is not supported; save a C-ordered array (numpy.ascontiguousarray)")
        }
        let dataStart = headerStart + headerLength
        guard let byteCount = elementCount(fields.shape + [elementType.size]) else { throw fail("shape \(fields.shape) is too large") }
        let available = bytes.count - dataStart
        guard available == byteCount else {
            throw fail(
                "shape \(fields.shape) of \(elementType.rawValue) needs \(byteCount) data bytes, the file has \(available)"
                    + (available < byteCount ? " (truncated)" : ""))
        }
        return NPYArray(shape: fields.shape, elementType: elementType, data: Array(bytes[dataStart...]))
    }

    /// Header text as an error quotes it: on one line (control characters escaped), and at most
    /// 160 characters of it.
    private static func quoted(_ text: String) -> String {
        let scalars = text.unicodeScalars
        let shown = scalars.prefix(160).map { $0.value < 0x20 || $0.value == 0x7F ? String(format: "\\x%02x", $0.value) : String($0) }.joined()
        return scalars.count > 160 ? shown + "…" : shown
    }

    /// Parses the header's Python dictionary literal:
    /// `{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }`.
    private static func parseHeader(_ header: String, fail: (String) -> NPYError) throws
        -> (descr: String, fortranOrder: Bool, shape: [Int])
    {
        let text = header.trimmingCharacters(in: .whitespacesAndNewlines)
        let shown = quoted(text)
        guard text.hasPrefix("{"), text.hasSuffix("}") else { throw fail("the header is not a dictionary: \(shown)") }
        func value(of key: String) throws -> Substring {
            guard let keyRange = text.range(of: "'\(key)'") ?? text.range(of: "\"\(key)\"") else {
                throw fail("the header has no '\(key)': \(shown)")
            }
            var rest = text[keyRange.upperBound...].drop { $0 == " " }
            guard rest.first == ":" else { throw fail("malformed '\(key)' in the header: \(shown)") }
            rest = rest.dropFirst().drop { $0 == " " }
            return rest
        }
        let descrText = try value(of: "descr")
        guard let quote = descrText.first, quote == "'" || quote == "\"",
            let end = descrText.dropFirst().firstIndex(of: quote)
        else { throw fail("malformed 'descr' in the header: \(shown)") }
        let descr = String(descrText[descrText.index(after: descrText.startIndex)..<end])

        let fortranText = try value(of: "fortran_order")
        let fortranOrder: Bool
        if fortranText.hasPrefix("True") {
            fortranOrder = true
        } else if fortranText.hasPrefix("False") {
            fortranOrder = false
        } else {
            throw fail("malformed 'fortran_order' in the header: \(shown)")
        }

        let shapeText = try value(of: "shape")
        guard shapeText.first == "(", let close = shapeText.firstIndex(of: ")") else {
            throw fail("malformed 'shape' in the header: \(shown)")
        }
        let items = shapeText[shapeText.index(after: shapeText.startIndex)..<close]
            .split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        let shape = try items.map { item -> Int in
            guard let size = Int(item), size >= 0 else { throw fail("malformed shape entry '\(quoted(item))' in the header: \(shown)") }
            return size
        }
        return (descr, fortranOrder, shape)
    }

    /// The bytes of a `.npy` file: version 1.0, or 2.0 when the header needs more than 65535 bytes.
    static func encode(_ array: NPYArray) -> [UInt8] {
        let shapeText = array.shape.count == 1 ? "(\(array.shape[0]),)" : "(" + array.shape.map(String.init).joined(separator: ", ") + ")"
        var header = "{'descr': '\(array.elementType.rawValue)', 'fortran_order': False, 'shape': \(shapeText), }"
        let version2 = header.utf8.count + 11 > 65535
        let prefix = version2 ? 12 : 10
        // Pad with spaces so the data starts on a 64-byte boundary; the header ends with a newline.
        let padding = (64 - (prefix + header.utf8.count + 1) % 64) % 64
        header += String(repeating: " ", count: padding) + "\n"
        let length = header.utf8.count
        var bytes = magic + [version2 ? 2 : 1, 0]
        bytes += version2
            ? (0..<4).map { UInt8(truncatingIfNeeded: length >> (8 * $0)) }
            : [UInt8(length & 0xFF), UInt8(length >> 8)]
        return bytes + Array(header.utf8) + array.data
    }

    /// Writes a `.npy` file atomically: to a temporary name beside it, then renamed, so a failure
    /// never leaves a partial file at `path`.
    public static func write(_ array: NPYArray, path: String) throws {
        let url = URL(fileURLWithPath: path)
        let temporary = url.deletingLastPathComponent()
            .appendingPathComponent(".\(url.lastPathComponent).\(ProcessInfo.processInfo.processIdentifier).tmp")
        do {
            try Data(encode(array)).write(to: temporary)
        } catch {
            throw NPYError(path: path, problem: "cannot be written: \(error.localizedDescription)")
        }
        if rename(temporary.path, path) != 0 {
            let reason = String(cString: strerror(errno))
            try? FileManager.default.removeItem(at: temporary)
            throw NPYError(path: path, problem: "cannot be written: \(reason)")
        }
    }
}
