import Foundation
import Testing

@testable import ConvCL

/// Note creation on posteriorgrams drawn by hand, where the notes Basic Pitch's rules make are
/// known, and the MIDI and CSV files read back. (The model end to end, against Basic Pitch's own
/// Python, is ci/transcribe-check.sh.)
@Suite("Transcription")
struct TranscriptionTests {
    static let keys = Posteriorgram.keyCount

    /// A posteriorgram of `frames` frames with faint random noise under every threshold.
    static func grid(frames: Int, random: inout TestRandom) -> Posteriorgram {
        func noise(_ count: Int, _ random: inout TestRandom) -> [Float] { (0..<count).map { _ in Float.random(in: 0.01...0.1, using: &random) } }
        return Posteriorgram(
            frameCount: frames, note: noise(frames * keys, &random), onset: noise(frames * keys, &random),
            contour: noise(frames * Posteriorgram.contourBinCount, &random))
    }

    static func set(_ values: inout [Float], key: Int, frames: ClosedRange<Int>, _ value: (Int) -> Float) {
        for frame in frames { values[frame * keys + key] = value(frame) }
    }

    static func frameRange(_ note: NoteEvent) -> (Int, Int) {
        func frame(_ time: Double) -> Int { (0..<4000).min { abs(Posteriorgram.time(ofFrame: $0) - time) < abs(Posteriorgram.time(ofFrame: $1) - time) }! }
        return (frame(note.start), frame(note.end))
    }

    @Test("onsets start notes, energy holds them, neighbours clear, short notes drop, melodia finds the rest")
    func decoding() throws {
        var random = TestRandom()
        var grid = Self.grid(frames: 300, random: &random)
        // A: MIDI 60 (key 39), onset at 20, energy 20...80 with a 5-frame dip it survives.
        Self.set(&grid.onset, key: 39, frames: 19...21) { [0.6, 0.9, 0.7][$0 - 19] }
        Self.set(&grid.note, key: 39, frames: 20...80) { (40...44).contains($0) ? 0.1 : 0.8 }
        // Its neighbour (key 40) is loud too but cleared by A, so no melodia note there.
        Self.set(&grid.note, key: 40, frames: 22...78) { _ in 0.6 }
        // B: key 50, onset at 100 but only 6 frames long: dropped, by both paths.
        Self.set(&grid.onset, key: 50, frames: 99...101) { [0.5, 0.8, 0.5][$0 - 99] }
        Self.set(&grid.note, key: 50, frames: 100...105) { _ in 0.9 }
        // C: key 60, no onset, a bump of energy 150...220 peaking at 185: the melodia trick's.
        Self.set(&grid.note, key: 60, frames: 150...220) { 0.7 - Float(abs($0 - 185)) / 200 }
        // Pitch bends of A: the contour peaks 2 bins (2/3 semitone) above its in-tune bin, 3 × key + 1.
        for frame in 20...80 { grid.contour[frame * Posteriorgram.contourBinCount + 3 * 39 + 1 + 2] = 0.9 }

        var options = TranscriptionOptions()
        options.inferOnsets = false
        let notes = NoteDecoder(options: options).notes(from: grid)
        let summary = notes.map { ($0.pitch, Self.frameRange($0)) }
        #expect(notes.count == 2, "\(summary); seed \(random.seed)")
        let a = notes.first { $0.pitch == 60 }, c = notes.first { $0.pitch == 81 }
        #expect(a.map(Self.frameRange) ?? (0, 0) == (20, 81), "\(summary); seed \(random.seed)")
        #expect(c.map(Self.frameRange) ?? (0, 0) == (150, 220), "\(summary); seed \(random.seed)")
        if let a {
            // The mean note likelihood over the note's frames, the dip included.
            let expected = (Double(56) * Double(Float(0.8)) + 5 * Double(Float(0.1))) / 61
            #expect(abs(a.amplitude - expected) < 1e-6 && a.velocity == Int((127 * expected).rounded()))
            #expect(a.pitchBends == [Int](repeating: 2, count: 61), "\(a.pitchBends ?? [])")
        }

        // Without the melodia trick C is not found; above a maximum frequency A alone stays.
        options.melodiaTrick = false
        #expect(NoteDecoder(options: options).notes(from: grid).map(\.pitch) == [60])
        options.melodiaTrick = true
        options.maximumFrequency = 440  // A4: keys from MIDI 69 on are silenced
        #expect(NoteDecoder(options: options).notes(from: grid).map(\.pitch) == [60])
        options.maximumFrequency = nil
        options.minimumFrequency = 300  // D4 and up
        #expect(NoteDecoder(options: options).notes(from: grid).map(\.pitch) == [81])
    }

    @Test("a sharp rise of the note likelihood stands in for a weak onset")
    func inferredOnsets() throws {
        var random = TestRandom()
        var grid = Self.grid(frames: 200, random: &random)
        Self.set(&grid.onset, key: 30, frames: 9...11) { [0.5, 0.95, 0.5][$0 - 9] }
        Self.set(&grid.note, key: 30, frames: 10...40) { _ in 0.8 }
        Self.set(&grid.note, key: 70, frames: 120...160) { _ in 0.9 }  // onset output stays faint
        var options = TranscriptionOptions()
        options.melodiaTrick = false
        options.inferOnsets = false
        #expect(NoteDecoder(options: options).notes(from: grid).map(\.pitch) == [51], "seed \(random.seed)")
        options.inferOnsets = true
        let notes = NoteDecoder(options: options).notes(from: grid)
        #expect(notes.map(\.pitch).sorted() == [51, 91], "seed \(random.seed)")
        #expect(notes.first { $0.pitch == 91 }.map(Self.frameRange) ?? (0, 0) == (120, 161), "seed \(random.seed)")
    }

    @Test("the stitched frames' times follow the windows' sample positions")
    func frameTimes() {
        #expect(Posteriorgram.time(ofFrame: 0) == 0)
        #expect(Posteriorgram.time(ofFrame: 141) == 141.0 * 256 / 22050)
        #expect(Posteriorgram.time(ofFrame: 142) == 36164.0 / 22050)
        #expect(Transcriber.windowCount(samples: 0) == 1 && Transcriber.windowCount(samples: 36164 - 3840) == 1)
        #expect(Transcriber.windowCount(samples: 36164 - 3840 + 1) == 2)
        #expect(Transcriber.completeWindows(paddedSamples: 43843) == 0 && Transcriber.completeWindows(paddedSamples: 43844) == 1)
        #expect(TranscriptionOptions().minimumNoteFrames == 11)
    }

    /// The MIDI file's notes and pitch bends, read back: (tick, status, data) in order.
    static func events(_ bytes: [UInt8]) throws -> (division: Int, events: [(Int, UInt8, [UInt8])]) {
        func be(_ at: Int, _ count: Int) -> Int { (0..<count).reduce(0) { $0 << 8 | Int(bytes[at + $1]) } }
        try #require(Array(bytes[0..<4]) == Array("MThd".utf8) && be(4, 4) == 6 && be(8, 2) == 0 && be(10, 2) == 1)
        try #require(Array(bytes[14..<18]) == Array("MTrk".utf8) && be(18, 4) == bytes.count - 22)
        var position = 22, tick = 0
        var events: [(Int, UInt8, [UInt8])] = []
        while position < bytes.count {
            var delta = 0
            repeat {
                delta = delta << 7 | Int(bytes[position] & 0x7F)
                position += 1
            } while bytes[position - 1] & 0x80 != 0
            tick += delta
            let status = bytes[position]
            if status == 0xFF {
                let length = Int(bytes[position + 2])
                events.append((tick, status, Array(bytes[position + 1..<position + 3 + length])))
                position += 3 + length
            } else {
                let length = status & 0xF0 == 0xC0 ? 1 : 2
                events.append((tick, status, Array(bytes[position + 1...position + length])))
                position += 1 + length
            }
        }
        return (be(12, 2), events)
    }

    @Test("the MIDI file holds every note at its tick, pitch bends only where notes do not overlap")
    func midi() throws {
        let notes = [
            NoteEvent(start: 0.5, end: 1.0, pitch: 60, amplitude: 0.8, pitchBends: [0, 1, 3]),
            NoteEvent(start: 0.75, end: 1.25, pitch: 64, amplitude: 0.001, pitchBends: [2]),  // overlaps the first
            NoteEvent(start: 2.0, end: 2.5, pitch: 67, amplitude: 0.5, pitchBends: [-1, -30]),
        ]
        let (division, events) = try Self.events(NoteFiles.midi(notes))
        #expect(division == 480)
        #expect(events.contains { $0.1 == 0xFF && $0.2 == [0x51, 3, 0x07, 0xA1, 0x20] })  // 120 beats per minute
        let ons = events.filter { $0.1 == 0x90 }.map { [$0.0, Int($0.2[0]), Int($0.2[1])] }
        let offs = events.filter { $0.1 == 0x80 }.map { [$0.0, Int($0.2[0])] }
        #expect(ons == [[480, 60, 102], [720, 64, 1], [1920, 67, 64]])
        #expect(offs == [[960, 60], [1200, 64], [2400, 67]])
        // Only the third note bends: -1/3 semitone, then -10 semitones clipped; reset at its end.
        let bends = events.filter { $0.1 == 0xE0 }.map { [$0.0, Int($0.2[0]) | Int($0.2[1]) << 7] }
        #expect(bends == [[1920, 8192 - 1365], [2400, 0], [2400, 8192]])
        let csv = NoteFiles.csv(notes).split(separator: "\n")
        #expect(csv.first == "start_time_s,end_time_s,pitch_midi,velocity,pitch_bend")
        #expect(csv.last == "2.0,2.5,67,64,-1,-30")
    }
}
