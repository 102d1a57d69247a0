import Foundation

/// An 8-bit RGB image, written as PNG: each row filtered by its left neighbour ("Sub"), then
/// deflated with the fixed Huffman code and matches one pixel back or one row up, which needs no
/// compression library and shrinks the flat areas of plots and maps to a few bits each.
struct RGBImage {
    let width: Int
    let height: Int
    private(set) var pixels: [UInt8]

    init(width: Int, height: Int) {
        self.width = width
        self.height = height
        pixels = [UInt8](repeating: 0, count: width * height * 3)
    }

    /// Sets one pixel; coordinates outside the image are ignored.
    mutating func set(x: Int, y: Int, _ color: (UInt8, UInt8, UInt8)) {
        guard (0..<width).contains(x), (0..<height).contains(y) else { return }
        let offset = (y * width + x) * 3
        pixels[offset] = color.0
        pixels[offset + 1] = color.1
        pixels[offset + 2] = color.2
    }

    /// Paints `values` (row-major, `rows` × `columns`) at (`x`, `y`), each value a `scale` × `scale`
    /// block, colored from its position between the values' minimum and maximum. Row 0 is drawn at
    /// the bottom when `flipped` (low frequencies at the bottom of a spectrogram).
    mutating func paint(_ values: [Float], rows: Int, columns: Int, x: Int, y: Int, scale: Int, flipped: Bool) {
        let finite = values.filter(\.isFinite)
        let low = finite.min() ?? 0
        let range = max((finite.max() ?? 1) - low, 1e-12)
        for row in 0..<rows {
            for column in 0..<columns {
                let t = ((values[row * columns + column] - low) / range)
                let color = Self.colormap(t.isFinite ? t : 0)
                let top = y + (flipped ? rows - 1 - row : row) * scale
                for dy in 0..<scale {
                    for dx in 0..<scale {
                        let px = x + column * scale + dx, py = top + dy
                        guard px < width, py < height else { continue }
                        let offset = (py * width + px) * 3
                        pixels[offset] = color.0
                        pixels[offset + 1] = color.1
                        pixels[offset + 2] = color.2
                    }
                }
            }
        }
    }

    /// Dark blue through purple and orange to pale yellow.
    static func colormap(_ t: Float) -> (UInt8, UInt8, UInt8) {
        let stops: [(Float, Float, Float)] = [(0, 0, 16), (80, 18, 123), (182, 54, 121), (251, 136, 97), (252, 253, 191)]
        let position = min(max(t, 0), 1) * Float(stops.count - 1)
        let index = min(Int(position), stops.count - 2)
        let f = position - Float(index)
        let (a, b) = (stops[index], stops[index + 1])
        return (UInt8(a.0 + (b.0 - a.0) * f), UInt8(a.1 + (b.1 - a.1) * f), UInt8(a.2 + (b.2 - a.2) * f))
    }

    /// The PNG file's bytes.
    func png() -> [UInt8] {
        var raw: [UInt8] = []
        raw.reserveCapacity(height * (width * 3 + 1))
        for row in 0..<height {
            raw.append(1)  // filter: Sub, each byte less the one a pixel to its left
            let start = row * width * 3
            for i in 0..<width * 3 { raw.append(pixels[start + i] &- (i >= 3 ? pixels[start + i - 3] : 0)) }
        }
        var zlib: [UInt8] = [0x78, 0x01]
        zlib += Deflate.fixedHuffman(raw, distances: [3, width * 3 + 1])
        zlib += bigEndian(adler32(raw))

        var header = bigEndian(UInt32(width)) + bigEndian(UInt32(height))
        header += [8, 2, 0, 0, 0]  // 8 bits, RGB, deflate, no filter method extras, no interlace
        return [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
            + chunk("IHDR", header) + chunk("IDAT", zlib) + chunk("IEND", [])
    }

    /// Writes the PNG to a temporary name, then renames it into place.
    func write(path: String) throws {
        let temporary = path + ".tmp"
        do {
            try Data(png()).write(to: URL(fileURLWithPath: temporary))
        } catch {
            throw InputError("\(path): cannot be written: \(error.localizedDescription)")
        }
        if rename(temporary, path) != 0 {
            let reason = String(cString: strerror(errno))
            try? FileManager.default.removeItem(atPath: temporary)
            throw InputError("\(path): cannot be written: \(reason)")
        }
    }

    private func chunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
        let body = Array(type.utf8) + data
        return bigEndian(UInt32(data.count)) + body + bigEndian(crc32(body))
    }

    private func bigEndian(_ value: UInt32) -> [UInt8] {
        [UInt8(value >> 24), UInt8((value >> 16) & 0xFF), UInt8((value >> 8) & 0xFF), UInt8(value & 0xFF)]
    }

    private static let crcTable: [UInt32] = (0..<256).map { n in
        var c = UInt32(n)
        for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        return c
    }

    private func crc32(_ bytes: [UInt8]) -> UInt32 {
        ~bytes.reduce(UInt32.max) { Self.crcTable[Int(($0 ^ UInt32($1)) & 0xFF)] ^ ($0 >> 8) }
    }

    private func adler32(_ bytes: [UInt8]) -> UInt32 {
        var a: UInt32 = 1, b: UInt32 = 0
        for byte in bytes {
            a = (a + UInt32(byte)) % 65_521
            b = (b + a) % 65_521
        }
        return b << 16 | a
    }
}
