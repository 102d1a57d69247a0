import Foundation

/// The pictures `clconv train` writes: the training curves, and the first layer's frequency
/// responses.
enum TrainingPlots {
    struct Epoch {
        var trainLoss, trainAccuracy, validLoss, validAccuracy: Double
    }

    static let ink: (UInt8, UInt8, UInt8) = (40, 40, 40)
    static let grid: (UInt8, UInt8, UInt8) = (225, 225, 225)
    static let trainColor: (UInt8, UInt8, UInt8) = (230, 120, 30)
    static let validColor: (UInt8, UInt8, UInt8) = (40, 90, 200)

    /// Loss (left) and accuracy (right) per epoch, training in orange and validation in blue.
    static func curves(_ epochs: [Epoch]) -> RGBImage {
        var image = RGBImage(width: 960, height: 380)
        image.fill(x: 0, y: 0, width: image.width, height: image.height, color: (255, 255, 255))
        let maxLoss = max(epochs.map { max($0.trainLoss, $0.validLoss) }.max() ?? 1, 1e-3)
        panel(&image, x: 60, title: "loss", epochs: epochs.count, top: maxLoss, labels: { String(format: "%.2f", $0) }, series: [
            (epochs.map(\.trainLoss), trainColor), (epochs.map(\.validLoss), validColor),
        ])
        panel(&image, x: 540, title: "accuracy %", epochs: epochs.count, top: 100, labels: { String(format: "%.0f", $0) }, series: [
            (epochs.map { 100 * $0.trainAccuracy }, trainColor), (epochs.map { 100 * $0.validAccuracy }, validColor),
        ])
        image.draw("train", x: 60, y: 360, color: trainColor)
        image.draw("valid", x: 110, y: 360, color: validColor)
        return image
    }

    /// One plot of 400 × 280 pixels at `x`: axes, grid, tick labels, and each series as a line
    /// with a dot per epoch.
    private static func panel(
        _ image: inout RGBImage, x: Int, title: String, epochs: Int, top: Double, labels: (Double) -> String,
        series: [([Double], (UInt8, UInt8, UInt8))]
    ) {
        let (width, height, y) = (400, 280, 40)
        image.draw(title, x: x, y: y - 20, color: ink)
        for tick in 0...4 {
            let value = top * Double(tick) / 4, row = y + height - height * tick / 4
            image.fill(x: x, y: row, width: width, height: 1, color: grid)
            let text = labels(value)
            image.draw(text, x: x - 6 - Glyphs.width(of: text), y: row - 3, color: ink)
        }
        image.fill(x: x, y: y, width: 1, height: height, color: ink)
        image.fill(x: x, y: y + height, width: width, height: 1, color: ink)
        func point(_ epoch: Int, _ value: Double) -> (Int, Int) {
            let px = x + (epochs > 1 ? width * epoch / (epochs - 1) : width / 2)
            let py = y + height - Int((min(max(value / top, 0), 1) * Double(height)).rounded())
            return (px, py)
        }
        for epoch in 0..<epochs where epochs <= 30 || epoch % (epochs / 10) == 0 {
            let text = "\(epoch + 1)", (px, _) = point(epoch, 0)
            image.draw(text, x: px - Glyphs.width(of: text) / 2, y: y + height + 6, color: ink)
        }
        image.draw("epoch", x: x + width - Glyphs.width(of: "epoch"), y: y + height + 18, color: ink)
        for (values, color) in series {
            for epoch in values.indices {
                let (px, py) = point(epoch, values[epoch])
                image.fill(x: px - 2, y: py - 2, width: 5, height: 5, color: color)
                if epoch > 0 {
                    let (qx, qy) = point(epoch - 1, values[epoch - 1])
                    line(&image, from: (qx, qy), to: (px, py), color: color)
                }
            }
        }
    }

    private static func line(_ image: inout RGBImage, from a: (Int, Int), to b: (Int, Int), color: (UInt8, UInt8, UInt8)) {
        let steps = max(abs(b.0 - a.0), abs(b.1 - a.1), 1)
        for step in 0...steps {
            let t = Double(step) / Double(steps)
            let px = Int((Double(a.0) + t * Double(b.0 - a.0)).rounded()), py = Int((Double(a.1) + t * Double(b.1 - a.1)).rounded())
            image.fill(x: px, y: py - 1, width: 1, height: 2, color: color)
        }
    }

    /// The magnitude response in dB (0 at each filter's peak, floored at −40) of each kernel, one
    /// row per filter sorted by its peak frequency, from 0 to `maxFrequency` Hz; ticks at the
    /// fundamentals of `notes` (MIDI numbers), labelled at each C and at the lowest.
    static func responses(_ kernels: [[Float]], sampleRate: Double, maxFrequency: Double, notes: Range<Int>) -> RGBImage {
        let bins = 640, rowHeight = 8
        let rows = kernels.map { kernel -> [Float] in
            let magnitudes = (0..<bins).map { bin -> Double in
                let omega = 2 * Double.pi * maxFrequency * Double(bin) / Double(bins) / sampleRate
                var (re, im) = (0.0, 0.0)
                for (t, value) in kernel.enumerated() {
                    re += Double(value) * cos(omega * Double(t))
                    im -= Double(value) * sin(omega * Double(t))
                }
                return (re * re + im * im).squareRoot()
            }
            let peak = max(magnitudes.max() ?? 1, 1e-12)
            return magnitudes.map { Float(max(20 * log10(max($0, 1e-12) / peak), -40)) }
        }
        let order = rows.indices.sorted { rows[$0].firstIndex(of: rows[$0].max()!)! < rows[$1].firstIndex(of: rows[$1].max()!)! }
        let (left, top) = (70, 40)
        var image = RGBImage(width: left + bins + 50, height: top + rows.count * rowHeight + 70)
        image.fill(x: 0, y: 0, width: image.width, height: image.height, color: (255, 255, 255))
        image.draw("first layer filters: response (dB) by frequency (Hz), sorted by peak; ticks at the notes", x: left, y: 12, color: ink)
        for (position, index) in order.enumerated() {
            // A row of rowHeight − 1 pixels, a white gap below it.
            for dy in 0..<rowHeight - 1 {
                image.paint(rows[index], rows: 1, columns: bins, x: left, y: top + position * rowHeight + dy, scale: 1, flipped: false)
            }
        }
        let bottom = top + rows.count * rowHeight
        for note in notes {
            let frequency = 440 * pow(2, (Double(note) - 69) / 12)
            let px = left + Int(frequency / maxFrequency * Double(bins))
            let isC = note % 12 == 0
            image.fill(x: px, y: bottom + 2, width: 1, height: isC ? 10 : 5, color: ink)
            image.fill(x: px, y: top - 6, width: 1, height: 5, color: ink)
            if isC || note == notes.lowerBound {
                let name = NoteDataset.names[note % 12] + "\(note / 12 - 1)"
                image.draw(name, x: px - Glyphs.width(of: name) / 2, y: bottom + 16, color: ink)
            }
        }
        for hertz in stride(from: 0, through: Int(maxFrequency), by: 200) {
            let px = left + Int(Double(hertz) / maxFrequency * Double(bins))
            image.fill(x: px, y: bottom + 30, width: 1, height: 4, color: ink)
            let text = "\(hertz)"
            image.draw(text, x: px - Glyphs.width(of: text) / 2, y: bottom + 38, color: ink)
        }
        image.draw("Hz", x: left + bins + 22, y: bottom + 38, color: ink)
        return image
    }
}
