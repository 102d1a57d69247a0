import ConvCL
import Foundation

/// A picture of a transcription: the note posteriorgram as a heat map (time across, the 88 keys up),
/// each note outlined over it, time ticks in seconds and a label at every C.
struct PianoRoll {
    let transcription: Transcription
    init(_ transcription: Transcription) { self.transcription = transcription }

    static let keyHeight = 4
    static let left = 34, top = 14, bottom = 28, right = 10
    static let maximumWidth = 1600

    func image() -> RGBImage {
        let posteriorgram = transcription.posteriorgram
        let keys = Posteriorgram.keyCount
        let duration = max(transcription.duration, 1e-3)
        // About 2 pixels per frame for short clips, at most `maximumWidth` pixels across.
        let plotWidth = max(min(Int(duration * 172), Self.maximumWidth), 64)
        let plotHeight = keys * Self.keyHeight
        var image = RGBImage(width: Self.left + plotWidth + Self.right, height: Self.top + plotHeight + Self.bottom)
        image.fill(x: 0, y: 0, width: image.width, height: image.height, color: (255, 255, 255))
        func column(_ seconds: Double) -> Int { Int((seconds / duration * Double(plotWidth)).rounded(.down)) }
        func row(_ key: Int) -> Int { Self.top + (keys - 1 - key) * Self.keyHeight }

        // The heat map: each pixel column shows the largest likelihood of the frames it covers.
        var heat = [Float](repeating: 0, count: plotWidth * keys)
        var covered = [Bool](repeating: false, count: plotWidth)
        for frame in 0..<posteriorgram.frameCount {
            let x = min(column(Posteriorgram.time(ofFrame: frame)), plotWidth - 1)
            covered[x] = true
            for key in 0..<keys { heat[x * keys + key] = max(heat[x * keys + key], posteriorgram.note[frame * keys + key]) }
        }
        var last = 0
        for x in 0..<plotWidth {
            // Columns between frames (short clips) repeat the previous frame's.
            let source = covered[x] || x == 0 ? x : last
            last = source
            for key in 0..<keys {
                let color = RGBImage.colormap(heat[source * keys + key])
                image.fill(x: Self.left + x, y: row(key), width: 1, height: Self.keyHeight, color: color)
            }
        }
        // Notes: outlined boxes.
        for note in transcription.notes {
            let key = note.pitch - Posteriorgram.lowestMIDIPitch
            guard (0..<keys).contains(key) else { continue }
            let x0 = Self.left + column(note.start), x1 = Self.left + max(column(note.end), column(note.start) + 1)
            let y0 = row(key), y1 = y0 + Self.keyHeight - 1
            let ink: (UInt8, UInt8, UInt8) = (80, 255, 120)
            image.fill(x: x0, y: y0, width: x1 - x0 + 1, height: 1, color: ink)
            image.fill(x: x0, y: y1, width: x1 - x0 + 1, height: 1, color: ink)
            image.fill(x: x0, y: y0, width: 1, height: Self.keyHeight, color: ink)
            image.fill(x: x1, y: y0, width: 1, height: Self.keyHeight, color: ink)
        }
        // Axes: a label and tick at every C, ticks every 1, 2, 5, 10, … seconds.
        let black: (UInt8, UInt8, UInt8) = (0, 0, 0)
        image.draw("MIDI pitch", x: 2, y: 3, color: black)
        for key in stride(from: 3, to: keys, by: 12) {  // key 3 is MIDI 24, C1
            let y = row(key) + Self.keyHeight / 2
            image.fill(x: Self.left - 4, y: y, width: 4, height: 1, color: black)
            image.draw("C\((key + Posteriorgram.lowestMIDIPitch) / 12 - 1)", x: Self.left - 17, y: y - 3, color: black)
        }
        let step = [1.0, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1200].first { duration / $0 <= 12 } ?? 1800
        let baseline = Self.top + plotHeight
        for tick in stride(from: 0.0, through: duration, by: step) {
            let x = Self.left + column(tick)
            image.fill(x: x, y: baseline, width: 1, height: 4, color: black)
            let label = String(Int(tick))
            image.draw(label, x: x - Glyphs.width(of: label) / 2, y: baseline + 6, color: black)
        }
        let title = "time (s)"
        image.draw(title, x: Self.left + plotWidth - Glyphs.width(of: title), y: baseline + 18, color: black)
        return image
    }
}
