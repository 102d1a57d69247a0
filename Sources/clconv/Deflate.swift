/// A deflate (RFC 1951) encoder of one block with the fixed Huffman code, whose matches are taken
/// greedily at a few given distances only: enough for images whose repeats sit a pixel back or a
/// row up, with no tables to build or search.
enum Deflate {
    static let lengthBases = [3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258]
    static let lengthExtraBits = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0]
    static let distanceBases = [
        1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577,
    ]
    static let distanceExtraBits = [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13]

    /// Bits packed from the least significant end, as deflate packs them.
    struct BitWriter {
        var bytes: [UInt8] = []
        var buffer: UInt64 = 0
        var count = 0

        mutating func write(_ value: Int, bits: Int) {
            buffer |= UInt64(value) << UInt64(count)
            count += bits
            while count >= 8 {
                bytes.append(UInt8(buffer & 0xFF))
                buffer >>= 8
                count -= 8
            }
        }

        /// A Huffman code, which deflate stores from its most significant bit.
        mutating func writeCode(_ code: Int, bits: Int) {
            var reversed = 0
            for i in 0..<bits where code & (1 << i) != 0 { reversed |= 1 << (bits - 1 - i) }
            write(reversed, bits: bits)
        }

        mutating func flush() -> [UInt8] {
            if count > 0 { bytes.append(UInt8(buffer & 0xFF)) }
            buffer = 0
            count = 0
            return bytes
        }
    }

    /// `data` as one final fixed-Huffman block; `distances` are each at most 32768.
    static func fixedHuffman(_ data: [UInt8], distances: [Int]) -> [UInt8] {
        var out = BitWriter()
        out.write(1, bits: 1)  // the final block
        out.write(1, bits: 2)  // fixed Huffman codes
        func symbol(_ value: Int) {
            switch value {
            case 0...143: out.writeCode(0x30 + value, bits: 8)
            case 144...255: out.writeCode(0x190 + value - 144, bits: 9)
            case 256...279: out.writeCode(value - 256, bits: 7)
            default: out.writeCode(0xC0 + value - 280, bits: 8)
            }
        }
        var position = 0
        while position < data.count {
            var best = (length: 0, distance: 0)
            for distance in distances where distance <= position && distance <= 32768 {
                var length = 0
                while length < 258, position + length < data.count, data[position + length] == data[position + length - distance] { length += 1 }
                if length > best.length { best = (length, distance) }
            }
            guard best.length >= 3 else {
                symbol(Int(data[position]))
                position += 1
                continue
            }
            let lengthCode = lengthBases.lastIndex { $0 <= best.length }!
            symbol(257 + lengthCode)
            out.write(best.length - lengthBases[lengthCode], bits: lengthExtraBits[lengthCode])
            let distanceCode = distanceBases.lastIndex { $0 <= best.distance }!
            out.writeCode(distanceCode, bits: 5)
            out.write(best.distance - distanceBases[distanceCode], bits: distanceExtraBits[distanceCode])
            position += best.length
        }
        symbol(256)  // end of block
        return out.flush()
    }
}
